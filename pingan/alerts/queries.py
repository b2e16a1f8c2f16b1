"""Reads of alerts, each scoped: the public sees active alerts only; a citizen their own
subscription and the alerts delivered to them; staff the alerts published for units in
their jurisdiction, with their reach and clues. Subscribers' points are never listed."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from pingan.alerts.models import Alert, AlertDelivery, AlertState, Clue, ClueState, Subscription
from pingan.core import access


def subscription_of(user: Any) -> Subscription | None:
    """The citizen's own subscription, if they opted in."""
    return access.scope(user, Subscription.objects.select_related("county")).first()


def alerts_public() -> QuerySet[Alert]:
    """Active alerts, newest first: what anyone may see (withdrawn ones leave the list)."""
    return Alert.objects.filter(state=AlertState.ACTIVE).order_by("-published_at", "-id")


def alert_public_get(reference: str) -> Alert:
    """An alert by reference for its public page (``Alert.DoesNotExist`` if unknown). The
    caller shows a withdrawn alert's details to no one but those it reached and staff."""
    return Alert.objects.select_related("org").get(reference=reference[:20])


def received_by(user: Any, alert: Alert) -> AlertDelivery | None:
    """The delivery of ``alert`` to ``user``, if it reached them."""
    return access.scope(user, AlertDelivery.objects.filter(alert=alert)).first()


def alerts_received_for(user: Any) -> QuerySet[AlertDelivery]:
    """What reached the citizen, newest first (withdrawn ones included, marked as such)."""
    if access.user_kind(user) != "citizen":
        return AlertDelivery.objects.none()
    return access.scope(user, AlertDelivery.objects.select_related("alert")).order_by("-delivered_at", "-id")


def alerts_for(user: Any, *, state: str | None = None) -> QuerySet[Alert]:
    """Alerts published for units in the staff member's jurisdiction, with their clue counts."""
    query = access.scope(user, Alert.objects.select_related("org", "published_by"))
    if state in AlertState.values:
        query = query.filter(state=state)
    return query.annotate(
        clue_count=Count("clues"), new_clue_count=Count("clues", filter=Q(clues__state=ClueState.NEW))
    ).order_by("-published_at", "-id")


def alert_get(user: Any, reference: str) -> Alert:
    """One alert the staff member may see (``Alert.DoesNotExist`` otherwise)."""
    return alerts_for(user).get(reference=reference[:20])


def clues_for(user: Any, alert: Alert) -> QuerySet[Clue]:
    """The clues sent about ``alert``, for staff who may see it."""
    return access.scope(user, Clue.objects.filter(alert=alert).select_related("sender", "triaged_by")).order_by(
        "-created_at", "-id"
    )


def clue_get(user: Any, alert: Alert, pk: int) -> Clue:
    return clues_for(user, alert).get(pk=pk)


def alert_for_subject(subject_type: str, subject_id: str) -> Alert | None:
    """The alert about a subject — the active one, else the latest withdrawn one — for the
    page of the record it is about (which checks its own access). Its text is public once
    published; its reach (``alert.reach``) is for staff pages."""
    return (
        Alert.objects.filter(subject_type=subject_type, subject_id=str(subject_id))
        .select_related("org")
        .order_by("state", "-published_at", "-id")  # "active" sorts before "withdrawn"
        .first()
    )
