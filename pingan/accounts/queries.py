"""Reads of accounts, always scoped by the access layer."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django_otp.plugins.otp_totp.models import TOTPDevice

from pingan.accounts.models import CitizenProfile, Kind, Post, StaffProfile, User
from pingan.core import access
from pingan.core.identity import blind_index, parse_resident_id
from pingan.orgs.models import OrgUnit


def staff_for(user: Any, *, action: access.Action = "view") -> QuerySet[StaffProfile]:
    return access.scope(user, StaffProfile.objects.select_related("user", "home_org"), action)


def citizens_for(user: Any) -> QuerySet[CitizenProfile]:
    return access.scope(user, CitizenProfile.objects.select_related("user", "home_org"))


def citizen_by_id_number(user: Any, id_number: str) -> CitizenProfile | None:
    """Exact lookup by ID number (keyed hash), within what ``user`` may see."""
    number = parse_resident_id(id_number).number
    return citizens_for(user).filter(id_number_hash=blind_index(number, purpose="id_number")).first()


def citizen_account_for_id_number(id_number: str) -> User | None:
    """The active citizen account holding ``id_number`` — a system lookup (no acting user:
    a kiosk identifying someone, a dealer's sales file naming a buyer). Exact match on the
    keyed hash: nothing is decrypted. Callers must not reveal whether it found anyone."""
    number = parse_resident_id(id_number).number
    profile = (
        CitizenProfile.objects.select_related("user")
        .filter(id_number_hash=blind_index(number, purpose="id_number"), user__is_active=True, user__kind="citizen")
        .first()
    )
    return profile.user if profile is not None else None


def citizen_ids_for_id_hashes(id_hashes: Iterable[str]) -> dict[str, int]:
    """The ids of the active citizen accounts holding these ID numbers, by the keyed hash
    of the number (``blind_index(number, purpose="id_number")``): one query for a whole
    file of buyers, nothing decrypted. A system lookup, like ``citizen_account_for_id_number``."""
    wanted = sorted(set(id_hashes))
    found: dict[str, int] = {}
    for start in range(0, len(wanted), 10_000):  # SQLite takes at most 32,766 parameters
        found.update(
            CitizenProfile.objects.filter(
                id_number_hash__any=wanted[start : start + 10_000], user__is_active=True, user__kind=Kind.CITIZEN
            ).values_list("id_number_hash", "user_id")
        )
    return found


def posts_for(user: Any) -> QuerySet[Post]:
    return access.scope(user, Post.objects.select_related("user", "org"))


def holders_of(*, org_path: str, roles: set[str] | frozenset[str]) -> list[User]:
    """Active staff holding one of ``roles`` at the unit with ``org_path`` or, failing that,
    at its nearest ancestor that has such a post (whom an overdue item escalates to).

    Not scoped: the system uses it to route notices, never to show a list to a user.
    """
    codes = [code for code in org_path.split("/") if code]
    for depth in range(len(codes), 0, -1):
        path = "/".join(codes[:depth]) + "/"
        users = list(
            User.objects.filter(
                kind=Kind.STAFF,
                is_active=True,
                posts__is_active=True,
                posts__role__in=roles,
                posts__org__path=path,
            ).distinct()
        )
        if users:
            return users
    return []


def staff_directory_for(user: Any, *, unit: OrgUnit | None = None, role: str | None = None) -> QuerySet[StaffProfile]:
    """Staff the user may see, optionally those based within ``unit``'s subtree and holding
    an active post with ``role``; each with ``active_posts`` (unit loaded) in two queries."""
    query = staff_for(user)
    if unit is not None:
        query = query.filter(home_org__path__under=unit.path)
    if role:
        query = query.filter(
            Exists(Post.objects.filter(user_id=OuterRef("user_id"), role=role, is_active=True)),
        )
    active_posts = Post.objects.filter(is_active=True).select_related("org").order_by("org__path", "role")
    return query.prefetch_related(Prefetch("user__posts", queryset=active_posts, to_attr="active_posts")).order_by(
        "home_org__path", "badge_number"
    )


def staff_get(user: Any, badge_number: str) -> StaffProfile:
    """One staff member by badge number, if the user may see them; else ``StaffProfile.DoesNotExist``."""
    active_posts = Post.objects.filter(is_active=True).select_related("org").order_by("org__path", "role")
    return (
        staff_for(user)
        .prefetch_related(Prefetch("user__posts", queryset=active_posts, to_attr="active_posts"))
        .get(badge_number=badge_number)
    )


def citizen_get(user: Any, pk: int) -> CitizenProfile:
    """One citizen profile the user may see; else ``CitizenProfile.DoesNotExist``."""
    return citizens_for(user).get(pk=pk)


def totp_device_of(user: Any) -> TOTPDevice | None:
    """The user's confirmed TOTP device, if any (the account holder's own: not scoped further)."""
    if getattr(user, "pk", None) is None:
        return None
    return TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).order_by("pk").first()
