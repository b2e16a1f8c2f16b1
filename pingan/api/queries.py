"""Reads the API owns: the timeline of one object, and of a subtree for auditors."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from pingan.core import access, registry, timeline
from pingan.core.models import TimelineEvent
from pingan.orgs.models import OrgUnit

# Who may read the timeline of a whole subtree (auditors are read-only roles and always may).
TIMELINE_AUDIT_ROLES = frozenset({"auditor", "administrator"})
_BIGINT = 2**63


def _not_found() -> access.AccessDenied:
    return access.AccessDenied(access.Decision(False, _("未找到该记录，或您无权查看。"), status=404))


def subject_get(user: Any, subject_type: str, subject_id: str) -> models.Model:
    """The object a timeline belongs to, if ``user`` may view it.

    Unknown type, malformed or unknown id, and "exists but not yours" all raise the same
    404 ``AccessDenied``; only the last is logged (as a denial on the object's own timeline).
    Objects of public models (the org tree) are public, their history is not: it names
    officers, so it is shown to staff within jurisdiction only.
    """
    subject_type = subject_type.strip().lower()
    if subject_type not in registry.access_policies:
        raise _not_found()
    try:
        model = apps.get_model(subject_type)
    except (LookupError, ValueError):
        raise _not_found() from None
    try:
        pk = model._meta.pk.to_python(subject_id)
    except ValidationError:
        raise _not_found() from None
    if isinstance(pk, int) and not -_BIGINT <= pk < _BIGINT:
        raise _not_found()
    obj = model._default_manager.filter(pk=pk).first()
    if obj is None:
        raise _not_found()
    if access.policy_for(obj).public:
        allowed = access.user_kind(user) == "staff" and bool(access.roles_for(user, obj, "view"))
    else:
        allowed = bool(access.check(user, "view", obj))
    if not allowed:
        decision = access.Decision(False, _("未找到该记录，或您无权查看。"), status=404)
        access.log_denial(user, "view_timeline", obj, decision)
        raise access.AccessDenied(decision)
    return obj


def timeline_for_subject(user: Any, subject_type: str, subject_id: str) -> QuerySet[TimelineEvent]:
    """The history of one object, oldest first."""
    return timeline.events_for(subject_get(user, subject_type, subject_id))


def timeline_for_org(user: Any, org: OrgUnit) -> QuerySet[TimelineEvent]:
    """Every event in ``org``'s subtree, newest first: auditors and administrators only,
    within their own jurisdiction (the org tree is public, so refusals say why: 403)."""
    if not access.is_everywhere(user):
        roots = access.jurisdiction_paths(user, roles=TIMELINE_AUDIT_ROLES, action="view")
        if not roots:
            raise access.AccessDenied(
                access.Decision(False, _("只有审计监督员和系统管理员可以按单位查看时间线。"), status=403)
            )
        if not any(org.path.startswith(root) for root in roots):
            raise access.AccessDenied(
                access.Decision(False, _("该单位不在您的管辖范围内，无法查看其时间线。"), status=403)
            )
    return TimelineEvent.objects.filter(org_path__under=org.path).order_by("-id")
