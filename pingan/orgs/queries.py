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


_department_names_cache: dict[str, dict[str, str]] = {}


def _department_names() -> dict[str, dict[str, str]]:
    if not _department_names_cache:
        from pingan.core.catalog import catalog_path, load_yaml

        document = load_yaml(catalog_path("departments.yaml"))
        for code, spec in (document.get("departments") or {}).items():
            _department_names_cache[code] = dict(spec["name"])
    return _department_names_cache


def departments() -> dict[str, str]:
    """Department (警种) codes -> names in the active language, from ``catalog/departments.yaml``
    (read once per process, like the roles)."""
    from django.utils.translation import get_language

    language = "en" if (get_language() or "").startswith("en") else "zh-hans"
    return {code: names[language] for code, names in _department_names().items()}


def units_filter(
    *,
    level: str | None = None,
    kind: str | None = None,
    parent: OrgUnit | None = None,
    under: OrgUnit | None = None,
    q: str | None = None,
    department: str | None = None,
) -> QuerySet[OrgUnit]:
    """Active units matching every given filter, in tree order.

    Departments (警种) sit beside the tree: they are left out unless asked for with
    ``kind="department"`` or a ``department`` code, so ``level="city"`` is the 16 city bureaus.
    """
    query = units()
    if level:
        query = query.filter(level=level)
    if kind:
        query = query.filter(kind=kind)
    if department:
        query = query.filter(department=department)
    if kind != Kind.DEPARTMENT and not department:
        query = query.exclude(kind=Kind.DEPARTMENT)
    if parent is not None:
        query = query.filter(parent=parent)
    if under is not None:
        query = query.filter(path__under=under.path)
    if q:
        query = query.filter(name__contains=q)
    return query.order_by("path")


def descendant_counts(unit: OrgUnit) -> dict[str, int]:
    """How many active units of each level lie under ``unit`` (departments left out)."""
    from django.db.models import Count

    rows = (
        subtree(unit, include_self=False)
        .exclude(kind=Kind.DEPARTMENT)
        .values("level")
        .annotate(count=Count("pk"))
        .order_by()
    )
    return {row["level"]: row["count"] for row in rows}
