"""Reads of assignments, scoped by jurisdiction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Substr
from django.utils.translation import gettext as _

from pingan.assignments.guards import ISSUER_STATES, RESPONSIBLE_STATES
from pingan.assignments.models import Assignment, Plan
from pingan.core import access
from pingan.orgs.models import OrgUnit

FINISHED = ("closed", "withdrawn", "cancelled")


def assignments_for(
    user: Any,
    *,
    state: str | None = None,
    overdue: bool = False,
    plan: Plan | None = None,
    under: OrgUnit | None = None,
    search: str = "",
) -> QuerySet[Assignment]:
    query = access.scope(user, Assignment.objects.select_related("org", "issuer_org", "plan", "area"))
    if state:
        query = query.filter(state=state)
    if overdue:
        query = query.filter(deadline_state="overdue")
    if plan is not None:
        query = query.filter(plan=plan)
    if under is not None:
        query = query.filter(org__path__under=under.path)
    if search:
        query = query.filter(Q(title__icontains=search) | Q(reference__iexact=search.strip()))
    return query.order_by("due_at", "id")


def assignment_get(user: Any, reference: str) -> Assignment:
    """The task with ``reference`` if ``user`` may see it (``Assignment.DoesNotExist`` otherwise)."""
    return assignments_for(user).get(reference=reference)


def waiting_for(user: Any) -> QuerySet[Assignment]:
    """Tasks waiting for ``user``: on the issuing side (drafts, questions, reports to review)
    for their chief/leader posts at or above the issuer; on the responsible side (to accept,
    to do) for posts covering the responsible unit."""
    issuer_q, responsible_q = Q(pk__in=[]), Q(pk__in=[])
    workflow = Assignment.workflow()
    for post in access.posts_of(user):
        issuer_states = [s for s in ISSUER_STATES if post.role in workflow.state(s).waiting_for]
        responsible_states = [s for s in RESPONSIBLE_STATES if post.role in workflow.state(s).waiting_for]
        if issuer_states:
            issuer_q |= Q(issuer_org__path__under=post.jurisdiction_path, state__in=issuer_states)
        if responsible_states:
            # The responsible side sits below the issuer (or is the issuing unit itself).
            below_issuer = Q(org__path__under=post.jurisdiction_path) & ~Q(
                issuer_org__path__under=post.jurisdiction_path
            )
            own_unit = Q(org__path=post.jurisdiction_path, issuer_org__path=post.jurisdiction_path)
            responsible_q |= (below_issuer | own_unit) & Q(state__in=responsible_states)
    return (
        access.scope(user, Assignment.objects.select_related("org", "issuer_org"))
        .filter(issuer_q | responsible_q)
        .order_by("due_at", "id")
    )


def plans_for(user: Any) -> QuerySet[Plan]:
    """Plans issued within or above the user's jurisdiction (plans are not personal data)."""
    if access.user_kind(user) != "staff":
        return Plan.objects.none()
    return Plan.objects.select_related("org").prefetch_related("areas")


@dataclass(frozen=True)
class WallRow:
    label: str
    total: int
    finished: int
    in_progress: int
    overdue: int

    @property
    def percent_finished(self) -> int:
        return round(100 * self.finished / self.total) if self.total else 0


# Length of a unit's path at each depth: 37/ · 37/3701/ · …/370102/ · …/370102001/ · …/37010200101/
PATH_LENGTH_AT_DEPTH = {0: 3, 1: 8, 2: 15, 3: 25, 4: 37}


def wall_chart(user: Any, *, plan: Plan | None, by: str, under: OrgUnit | None = None) -> list[WallRow]:
    """Progress of the tasks the user can see, by plan area (``by="area"``) or by the units
    one level below ``under`` (``by="unit"``) — one grouped query either way."""
    query = assignments_for(user, plan=plan, under=under).order_by()
    counts = {
        "total": Count("id"),
        "finished": Count("id", filter=Q(state__in=FINISHED)),
        "overdue": Count("id", filter=Q(deadline_state="overdue") & ~Q(state__in=FINISHED)),
    }
    if by == "area":
        rows = list(query.values("area__number", "area__name").annotate(**counts).order_by("area__number"))
        labels = [(row, row["area__name"] or _("未分领域")) for row in rows]
    else:
        depth = (under.depth if under is not None else 0) + 1
        length = PATH_LENGTH_AT_DEPTH.get(depth)
        if length is None:
            rows = list(query.values("org__name").annotate(**counts).order_by("org__name"))
            labels = [(row, row["org__name"]) for row in rows]
        else:
            rows = list(
                query.annotate(unit_path=Substr("org__path", 1, length))
                .values("unit_path")
                .annotate(**counts)
                .order_by("unit_path")
            )
            names = dict(
                OrgUnit.objects.filter(path__in=[row["unit_path"] for row in rows]).values_list("path", "name")
            )
            labels = [(row, names.get(row["unit_path"], row["unit_path"])) for row in rows]
    return [
        WallRow(
            label=label,
            total=row["total"],
            finished=row["finished"],
            in_progress=row["total"] - row["finished"],
            overdue=row["overdue"],
        )
        for row, label in labels
    ]
