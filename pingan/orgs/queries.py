"""Reads of the organisation tree (public information: no access scoping needed)."""

from __future__ import annotations

from django.db.models import QuerySet

from pingan.orgs.models import Kind, OrgUnit


def units() -> QuerySet[OrgUnit]:
    return OrgUnit.objects.filter(is_active=True)


def unit_get(code: str) -> OrgUnit:
    """The active unit with ``code``; raises ``OrgUnit.DoesNotExist``."""
    return units().get(code=code)


def subtree(unit: OrgUnit, *, include_self: bool = True) -> QuerySet[OrgUnit]:
    """Everything under ``unit`` — one range scan on the path index."""
    query = units().filter(path__under=unit.path)
    return query if include_self else query.exclude(pk=unit.pk)


def children(unit: OrgUnit, *, departments: bool = False) -> QuerySet[OrgUnit]:
    query = units().filter(parent=unit)
    return query if departments else query.exclude(kind=Kind.DEPARTMENT)


def ancestors(unit: OrgUnit) -> QuerySet[OrgUnit]:
    """From the province down to ``unit``'s parent."""
    return units().filter(code__in=unit.ancestor_codes[:-1]).order_by("depth")


def root() -> OrgUnit:
    return units().get(depth=0)
