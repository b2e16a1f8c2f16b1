"""Reads of accounts, always scoped by the access layer."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from pingan.accounts.models import CitizenProfile, Kind, Post, StaffProfile, User
from pingan.core import access
from pingan.core.identity import blind_index, parse_resident_id


def staff_for(user: Any, *, action: access.Action = "view") -> QuerySet[StaffProfile]:
    return access.scope(user, StaffProfile.objects.select_related("user", "home_org"), action)


def citizens_for(user: Any) -> QuerySet[CitizenProfile]:
    return access.scope(user, CitizenProfile.objects.select_related("user", "home_org"))


def citizen_by_id_number(user: Any, id_number: str) -> CitizenProfile | None:
    """Exact lookup by ID number (keyed hash), within what ``user`` may see."""
    number = parse_resident_id(id_number).number
    return citizens_for(user).filter(id_number_hash=blind_index(number, purpose="id_number")).first()


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
