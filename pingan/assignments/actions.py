"""Writes to assignments: plans, creating tasks, and moving them through their workflow."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pingan.assignments.models import MAX_WORKING_DAYS, Assignment, Plan, PlanArea
from pingan.core import access, timeline, workflow
from pingan.orgs.models import OrgUnit

ISSUER_ROLES = ("station_chief", "bureau_leader")


def issuer_unit_for(actor: Any, org: OrgUnit) -> OrgUnit:
    """The unit on whose behalf ``actor`` assigns to ``org``: their nearest post covering it."""
    paths = [
        post.jurisdiction_path
        for post in access.posts_of(actor)
        if post.role in ISSUER_ROLES and org.path.startswith(post.jurisdiction_path)
    ]
    if not paths:
        raise access.AccessDenied(
            access.Decision(
                False, _("您无权向该单位交办事项：需要所长或局领导岗位，且该单位在您的管辖范围内。"), status=403
            )
        )
    nearest = max(paths, key=len)
    code = [part for part in nearest.split("/") if part][-1]
    return OrgUnit.objects.get(code=code)


@transaction.atomic
def plan_create(*, actor: Any, code: str, title: str, year: int, org: OrgUnit, areas: Sequence[str]) -> Plan:
    issuer_unit_for(actor, org)
    if Plan.objects.filter(code=code).exists():
        raise ValidationError({"code": [_("方案编号已存在。")]})
    plan = Plan.objects.create(code=code, title=title, year=year, org=org)
    PlanArea.objects.bulk_create([PlanArea(plan=plan, number=n, name=name) for n, name in enumerate(areas, 1)])
    timeline.record(plan, "assignments.plan_created", actor=actor, org_path=org.path, data={"areas": list(areas)})
    return plan


@transaction.atomic
def assignment_create(
    *,
    actor: Any,
    title: str,
    org: OrgUnit,
    working_days: int,
    description: str = "",
    plan: Plan | None = None,
    area: PlanArea | None = None,
    key_task: bool = False,
) -> Assignment:
    """A draft task for ``org``; the actor's nearest chief/leader post is the issuing unit."""
    errors: dict[str, list[str]] = {}
    title = (title or "").strip()
    if not 2 <= len(title) <= 200:
        errors["title"] = [_("请填写事项名称（2至200个字）。")]
    if not isinstance(working_days, int) or not 1 <= working_days <= MAX_WORKING_DAYS:
        errors["working_days"] = [_("办理时限应为1至%(max)s个工作日。") % {"max": MAX_WORKING_DAYS}]
    if area is not None and (plan is None or area.plan_id != plan.pk):
        errors["area"] = [_("工作领域不属于所选方案。")]
    if org.kind == "department":
        errors["org"] = [_("请交办给公安机关或派出所，而不是警种部门。")]
    if errors:
        raise ValidationError(errors)
    issuer = issuer_unit_for(actor, org)
    assignment = Assignment.objects.create(
        reference=f"tmp-{uuid.uuid4().hex[:16]}",
        title=title,
        description=(description or "").strip(),
        plan=plan,
        area=area,
        key_task=key_task,
        issuer_org=issuer,
        org=org,
        created_by=actor,
        working_days=working_days,
    )
    assignment.reference = f"JB{timezone.localdate():%Y}{assignment.pk:07d}"
    assignment.save(update_fields=["reference"])
    timeline.record(
        assignment,
        "assignments.created",
        actor=actor,
        data={"title": title, "org": org.code, "issuer": issuer.code, "working_days": working_days},
    )
    return assignment


def assignment_advance(
    *,
    assignment: Assignment,
    action: str,
    actor: Any,
    data: Mapping[str, Any] | None = None,
    expected_version: int | None = None,
) -> workflow.Step:
    """Take a workflow action on a task (``workflow.WorkflowError`` / ``access.AccessDenied`` if refused)."""
    return workflow.transition(assignment, action=action, actor=actor, data=data, expected_version=expected_version)
