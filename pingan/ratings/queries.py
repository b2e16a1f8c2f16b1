"""Reads of ratings and rectifications, scoped by jurisdiction (staff) or ownership (the
rater)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from pingan.core import access
from pingan.ratings.models import Rating, Rectification
from pingan.ratings.scheme import scheme

OPEN_STATES = ("new", "verifying", "rectifying", "following_up", "reviewing")


def ratings_for(user: Any, *, level: int | None = None, bad: bool = False) -> QuerySet[Rating]:
    """Ratings the user may see: staff within their jurisdiction, a citizen their own."""
    query = access.scope(user, Rating.objects.select_related("org", "rectification"))
    if level is not None:
        query = query.filter(level=level)
    if bad:
        query = query.filter(level__lt=scheme().satisfied_from)
    return query.order_by("-created_at", "-id")


def my_ratings(user: Any) -> QuerySet[Rating]:
    """A citizen's own ratings, with the outcome of any rectification."""
    if access.user_kind(user) != "citizen":
        return Rating.objects.none()
    return ratings_for(user)


def rating_of(user: Any, subject_type: str, subject_id: str) -> Rating | None:
    """The user's rating of a subject, if they gave one."""
    return ratings_for(user).filter(subject_type=subject_type, subject_id=subject_id).first()


@dataclass(frozen=True)
class Summary:
    total: int
    satisfied: int
    by_level: dict[int, int]

    @property
    def satisfaction_rate(self) -> float | None:
        return round(100 * self.satisfied / self.total, 1) if self.total else None


def summary_for(user: Any) -> Summary:
    """Counts by level of the ratings the user may see (one grouped query)."""
    rows = dict(ratings_for(user).order_by().values_list("level").annotate(n=Count("id")).values_list("level", "n"))
    total = sum(rows.values())
    satisfied = sum(n for level, n in rows.items() if not scheme().is_bad(level))
    return Summary(total=total, satisfied=satisfied, by_level={value: rows.get(value, 0) for value in scheme().levels})


def rectifications_for(
    user: Any, *, state: str | None = None, overdue: bool = False, open_only: bool = False, search: str = ""
) -> QuerySet[Rectification]:
    query = access.scope(user, Rectification.objects.select_related("org", "rating", "rating__org"))
    if state:
        query = query.filter(state=state)
    if open_only:
        query = query.filter(state__in=OPEN_STATES)
    if overdue:
        query = query.filter(deadline_state="overdue")
    if search:
        query = query.filter(Q(reference__iexact=search.strip()) | Q(rating__subject_label__icontains=search))
    return query.order_by("due_at", "id")


def rectification_get(user: Any, reference: str) -> Rectification:
    """The rectification if the user may see it (``Rectification.DoesNotExist`` otherwise)."""
    return rectifications_for(user).get(reference=reference)


def waiting_for(user: Any) -> QuerySet[Rectification]:
    """Rectifications waiting for one of the user's posts: in a state waiting for its role,
    within its jurisdiction, and that the post may act on."""
    wanted = Q(pk__in=[])
    wf = Rectification.workflow()
    for post in access.posts_of(user):
        states = wf.states_waiting_for([post.role])
        if states:
            wanted |= Q(org__path__under=post.jurisdiction_path, state__in=states)
    return (
        access.scope(user, Rectification.objects.select_related("org", "rating"), "act")
        .filter(wanted)
        .order_by("due_at", "id")
    )
