"""Reads of 团圆 records, always scoped: staff see the records of units in their
jurisdiction, a citizen the reports they made; the DNA store reads records and relatives
as the system (``*_for_system``), by reference, never listing names."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from pingan.core import access, context
from pingan.orgs import queries as orgs
from pingan.orgs.models import Level, OrgUnit
from pingan.reunion.models import Kind, PersonRecord, Relative, Reunion, SpecialistTeam

# 积案: an active record whose event lies this many years back (settings.REUNION_COLD_CASE_YEARS).
DEFAULT_COLD_CASE_YEARS = 1


def records_for(
    user: Any,
    *,
    kind: str | None = None,
    state: str | None = None,
    search: str = "",
    overdue: bool = False,
    under: str | None = None,
) -> QuerySet[PersonRecord]:
    """Records the user may see, reports to verify first (soonest deadline), then newest."""
    query = access.scope(user, PersonRecord.objects.select_related("org"))
    if kind in Kind.values:
        query = query.filter(kind=kind)
    if state in PersonRecord.workflow().states:
        query = query.filter(state=state)
    if overdue:
        query = query.filter(deadline_state="overdue")
    if under:
        query = query.filter(org_path__under=under)
    search = (search or "").strip().upper()[:20]
    if search:
        query = query.filter(Q(reference=search) | Q(place_text__icontains=search))
    return query.annotate(
        to_verify=Case(When(state="reported", then=Value(0)), default=Value(1), output_field=IntegerField())
    ).order_by("to_verify", "due_at", "-reported_at", "-id")


def record_get(user: Any, reference: str) -> PersonRecord:
    """One record the user may see (``PersonRecord.DoesNotExist`` otherwise: the same
    answer whether it does not exist or is out of view)."""
    reference = (reference or "").strip().upper()[:20]
    return access.scope(user, PersonRecord.objects.select_related("org", "reported_by", "verified_by")).get(
        reference=reference
    )


def my_records(user: Any) -> QuerySet[PersonRecord]:
    """The citizen's own reports, newest first."""
    if access.user_kind(user) != "citizen":
        return PersonRecord.objects.none()
    return access.scope(user, PersonRecord.objects.select_related("org")).order_by("-reported_at", "-id")


def waiting_for(user: Any) -> QuerySet[PersonRecord]:
    """Reports waiting for one of the user's posts to verify: in a state waiting for the
    post's role, within its jurisdiction, and that the post may act on."""
    wanted = Q(pk__in=[])
    wf = PersonRecord.workflow()
    for post in access.posts_of(user):
        states = [state for state in wf.states_waiting_for([post.role]) if state == "reported"]
        if states:
            wanted |= Q(org_path__under=post.jurisdiction_path, state__in=states)
    return access.scope(user, PersonRecord.objects.select_related("org"), "act").filter(wanted).order_by("due_at", "id")


# --- Cold cases (积案) ----------------------------------------------------------------------


def cold_case_years() -> int:
    return int(getattr(settings, "REUNION_COLD_CASE_YEARS", DEFAULT_COLD_CASE_YEARS))


@dataclass(frozen=True)
class ColdCase:
    record: PersonRecord
    county: OrgUnit | None
    age_years: int  # whole years since the event
    last_action_at: dt.datetime | None
    next_step: str


@dataclass(frozen=True)
class CountyColdCases:
    county: OrgUnit | None
    cases: list[ColdCase]


def _years_between(start: dt.date, end: dt.date) -> int:
    return end.year - start.year - ((end.month, end.day) < (start.month, start.day))


def cold_cases_for(
    *, user: Any, county: OrgUnit | None = None, years: int | None = None, today: dt.date | None = None
) -> list[CountyColdCases]:
    """积案: active records whose event lies at least ``years`` (default: the setting
    ``REUNION_COLD_CASE_YEARS``, 1) back, grouped by county (the county-level unit above
    the handling unit; records handled at a city or the province form their own group),
    oldest case first within a county, each with its age, last action and next step."""
    years = cold_case_years() if years is None else years
    today = today or timezone.localdate(context.now())
    try:
        cutoff = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        cutoff = today.replace(year=today.year - years, day=28)
    query = records_for(user, state="active").filter(event_date__lte=cutoff)
    if county is not None:
        query = query.filter(org_path__under=county.path)
    rows = list(query.order_by("org_path", "event_date", "id"))
    county_paths = {"/".join(row.org_path.split("/")[:3]) + "/" for row in rows if row.org_path.count("/") >= 3}
    counties = {
        unit.path: unit for unit in orgs.units().filter(path__in=county_paths, level=Level.COUNTY).order_by("path")
    }
    groups: dict[str, list[ColdCase]] = {}
    for row in rows:
        path = "/".join(row.org_path.split("/")[:3]) + "/"
        unit = counties.get(path)
        key = unit.path if unit is not None else row.org_path
        groups.setdefault(key, []).append(
            ColdCase(
                record=row,
                county=unit,
                age_years=_years_between(row.event_date, today),
                last_action_at=row.last_action_at,
                next_step=row.next_step,
            )
        )
    result = []
    for _key, cases in sorted(groups.items()):
        cases.sort(key=lambda case: (case.record.event_date, case.record.pk))
        result.append(CountyColdCases(county=cases[0].county, cases=cases))
    return result


def cold_case_counties(user: Any) -> list[OrgUnit]:
    """The county-level units in the user's jurisdiction (the cold-case filter)."""
    paths = access.jurisdiction_paths(user)
    if access.is_everywhere(user):
        paths = [orgs.root().path]
    query = Q(pk__in=[])
    for path in paths:
        query |= Q(path__under=path)
        # A station-level post: its county is above it.
        if path.count("/") > 3:
            query |= Q(path="/".join(path.split("/")[:3]) + "/")
    return list(orgs.units().filter(query, level=Level.COUNTY).exclude(kind="department").order_by("path"))


# --- Reunions, teams ----------------------------------------------------------------------------


def reunions_for(user: Any) -> QuerySet[Reunion]:
    """Reunions the user may see: staff in the missing record's unit's jurisdiction, the
    family who reported the missing person."""
    return access.scope(
        user, Reunion.objects.select_related("missing", "found", "org", "recorded_by", "missing__org", "found__org")
    ).order_by("-reunited_at", "-id")


def reunion_of(record: PersonRecord) -> Reunion | None:
    """The reunion that resolved ``record`` (the caller has checked the record's access)."""
    return (
        Reunion.objects.select_related("missing", "found", "recorded_by")
        .filter(Q(missing=record) | Q(found=record))
        .first()
    )


def teams_for(user: Any) -> QuerySet[SpecialistTeam]:
    """Specialist teams of the units in the staff member's jurisdiction (and above it: a
    county officer sees the city's and the province's teams too, whom to call)."""
    if access.user_kind(user) != "staff":
        return SpecialistTeam.objects.none()
    inside = access.scope(user, SpecialistTeam.objects.all())
    above = Q(pk__in=[])
    for path in access.jurisdiction_paths(user):
        parts = [part for part in path.split("/") if part]
        ancestors = ["/".join(parts[:n]) + "/" for n in range(1, len(parts))]
        above |= Q(org__path__in=ancestors)
    return (
        SpecialistTeam.objects.filter(Q(pk__in=inside.values("pk")) | above)
        .select_related("org", "lead")
        .prefetch_related("members")
        .order_by("org__path", "name")
    )


# --- For the DNA store (system reads: no user; never a list of names) ---------------------------


def record_get_for_system(reference: str) -> PersonRecord:
    """The record with this reference, for another app's own checks (the DNA store links
    samples to records by reference). ``PersonRecord.DoesNotExist`` if there is none."""
    return PersonRecord.objects.select_related("org").get(reference=(reference or "").strip().upper()[:20])


def relatives_for_system(record: PersonRecord) -> list[Relative]:
    """The relatives named on ``record`` (their names and phones stay sealed: callers mask
    them and log what they show)."""
    return list(Relative.objects.filter(record=record).order_by("id"))


def relative_get_for_system(relative_id: int) -> Relative:
    """One relative by id (``Relative.DoesNotExist`` if none)."""
    return Relative.objects.select_related("record", "record__org").get(pk=relative_id)
