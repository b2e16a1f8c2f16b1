"""Writes of ratings: rate a finished service (a bad rating opens a rectification), and
move rectifications through their workflow.

    from pingan.ratings import actions as ratings
    rating = ratings.rate(actor=citizen, subject_type="eservices.application", subject_id="SQ2025…",
                          level=2, indicators={"efficiency": 2}, comment="等了三个小时")
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from pingan.core import access, context, events, timeline, workflow
from pingan.notify import actions as notify
from pingan.notify import contacts
from pingan.ratings import events as rating_events
from pingan.ratings import subjects
from pingan.ratings.models import Rating, Rectification
from pingan.ratings.scheme import scheme

MAX_COMMENT = 1000


class RatingRefused(Exception):
    """A rating that may not be given; ``message`` is for the rater, ``status`` for HTTP."""

    status = 409
    code = "refused"

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class SubjectNotFound(RatingRefused):
    """No such subject, or not the actor's: the same answer, so nothing leaks."""

    status = 404
    code = "not_found"


class NotFinished(RatingRefused):
    code = "not_finished"


class AlreadyRated(RatingRefused):
    code = "already_rated"


def rateable_for(*, actor: Any, subject_type: str, subject_id: str) -> subjects.Rateable:
    """The subject if ``actor`` owns it (``SubjectNotFound`` otherwise, whatever the reason)."""
    subject = subjects.resolve(subject_type, subject_id)
    if subject is None or access.user_kind(actor) != "citizen" or subject.owner != actor.pk:
        raise SubjectNotFound(_("未找到该事项，或您无权评价。"))
    return subject


def _clean(*, level: Any, indicators: Any, comment: Any, channel: str) -> tuple[int, dict[str, int], str]:
    plan = scheme()
    errors: dict[str, list[str]] = {}
    choices = "、".join(f"{value}（{plan.level(value).name}）" for value in plan.levels)
    if isinstance(level, bool) or not isinstance(level, int) or level not in plan.levels:
        errors["level"] = [_("请选择评价等级：%(choices)s。") % {"choices": choices}]
    spec = plan.channels[channel]
    scores: dict[str, int] = {}
    if not isinstance(indicators, Mapping):
        errors["indicators"] = [_("分项评价格式不正确。")]
        indicators = {}
    known = {indicator.code: indicator for indicator in spec.indicators}
    for code, value in indicators.items():
        indicator = known.get(code)
        if indicator is None:
            names = "、".join(i.name for i in spec.scored)
            errors[f"indicators.{code}"] = [
                _("「%(channel)s」评价没有此分项；可评分项：%(names)s。") % {"channel": spec.name, "names": names}
            ]
        elif isinstance(value, bool) or not isinstance(value, int) or value not in plan.levels:
            errors[f"indicators.{code}"] = [_("%(name)s应为1至5分。") % {"name": indicator.name}]
        elif indicator.overall:
            if value != level:
                errors[f"indicators.{code}"] = [_("整体满意度即评价等级，两者应一致。")]
        else:
            scores[code] = value
    comment = comment.strip() if isinstance(comment, str) else comment
    if not isinstance(comment, str):
        errors["comment"] = [_("评价意见格式不正确。")]
    elif len(comment) > MAX_COMMENT:
        errors["comment"] = [_("评价意见最多 %(n)s 个字。") % {"n": MAX_COMMENT}]
    elif "level" not in errors and plan.is_bad(level) and len(comment) < 2:
        errors["comment"] = [_("请简要说明不满意的原因，以便核实整改。")]
    if errors:
        raise ValidationError(errors)
    return level, scores, comment


@transaction.atomic
def rate(
    *,
    actor: Any,
    subject_type: str,
    subject_id: str,
    level: int,
    indicators: Mapping[str, int] | None = None,
    comment: str = "",
) -> Rating:
    """Rate a finished service the actor was served (一事一评).

    Refuses with ``SubjectNotFound`` (no such subject, or not the actor's), ``NotFinished``,
    ``AlreadyRated`` or ``ValidationError`` (per field). A bad rating (below 基本满意)
    opens a :class:`Rectification` for the responsible unit, its clock started.
    """
    subject = rateable_for(actor=actor, subject_type=subject_type, subject_id=subject_id)
    if not subject.finished:
        raise NotFinished(_("该事项尚未办结，办结后才能评价。"))
    if Rating.objects.filter(subject_type=subject_type, subject_id=subject_id).exists():
        raise AlreadyRated(_("该事项已评价，每件事项只能评价一次。"))
    level, scores, comment = _clean(
        level=level, indicators=indicators if indicators is not None else {}, comment=comment, channel=subject.channel
    )
    try:
        with transaction.atomic():
            rating = Rating.objects.create(
                subject_type=subject_type,
                subject_id=subject_id,
                subject_label=subject.label[:200],
                subject_url=subject.url[:300],
                rater=actor,
                org=subject.org,
                channel=subject.channel,
                level=level,
                indicators=scores,
                comment=comment,
            )
    except IntegrityError:
        # Two submissions raced past the check above: the first one counts.
        raise AlreadyRated(_("该事项已评价，每件事项只能评价一次。")) from None
    timeline.record(
        rating,
        "ratings.rated",
        actor=actor,
        data={"subject": f"{subject_type}:{subject_id}", "level": level, "channel": subject.channel},
    )
    if scheme().is_bad(level):
        _open_rectification(rating)
    events.on_commit(rating_events.rating_given, sender=Rating, rating=rating, subject=subject)
    return rating


def _open_rectification(rating: Rating) -> Rectification:
    item = Rectification.objects.create(
        reference=f"tmp-{uuid.uuid4().hex[:16]}",
        rating=rating,
        org=rating.org,
        working_days=scheme().rectification_working_days,
    )
    item.reference = f"ZG{timezone.localdate(context.now()):%Y}{item.pk:07d}"
    item.save(update_fields=["reference"])
    timeline.record(item, "ratings.rectification_created", data={"rating": rating.pk, "level": rating.level})
    workflow.transition(item, action="open", actor=None)
    return item


# What each step keeps on the item (besides the timeline): action -> {input field: model field}.
KEPT = {
    "confirm": {"finding": "finding"},
    "refute": {"finding": "finding"},
    "rectify": {"measures": "measures"},
    "follow_up": {"method": "follow_up_method", "result": "follow_up_result", "satisfaction": "follow_up_satisfaction"},
    "close": {"reply": "reply"},
}


@transaction.atomic
def rectification_advance(
    *,
    rectification: Rectification,
    action: str,
    actor: Any,
    data: Mapping[str, Any] | None = None,
    expected_version: int | None = None,
) -> workflow.Step:
    """Take a workflow step on a rectification (``workflow.WorkflowError`` or
    ``access.AccessDenied`` if refused); what the step records is kept on the item."""
    step = workflow.transition(rectification, action=action, actor=actor, data=data, expected_version=expected_version)
    values: dict[str, Any] = {field: (step.data or {})[key] for key, field in KEPT.get(action, {}).items()}
    now = context.now()
    if action in {"confirm", "refute"}:
        values["founded"] = action == "confirm"
    elif action == "follow_up":
        values.update(followed_up_at=now, followed_up_by=actor)
    elif action == "send_back":
        # A new follow-up is due after the further work.
        values.update(followed_up_at=None, followed_up_by=None)
    elif action == "close":
        values["closed_at"] = now
    if values:
        Rectification.objects.filter(pk=rectification.pk).update(**values)
        for field, value in values.items():
            setattr(rectification, field, value)
    if action == "close":
        _tell_the_rater(rectification)
        events.on_commit(rating_events.rectification_closed, sender=Rectification, rectification=rectification)
    return step


def _tell_the_rater(item: Rectification) -> None:
    rating = item.rating
    notify.enqueue(
        user=rating.rater,
        title=_("您的评价已处理"),
        body=_("您对「%(subject)s」的评价已由%(unit)s核实处理并办结，请登录平台查看处理结果。")
        % {"subject": rating.subject_label, "unit": item.org.name},
        url=reverse("ratings:mine"),
        channels=("in_app", "sms"),
        subject=item,
        dedupe_key=f"ratings.rectification.{item.pk}.closed",
    )


def rectification_contact(*, rectification: Rectification, actor: Any) -> str:
    """The rater's mobile number, for the follow-up call (回访), to an officer who may act on
    the item and may see full identifiers; each reveal is a read on the citizen's timeline."""
    access.require(actor, "act", rectification)
    if not access.can_unmask(actor, rectification):
        decision = access.Decision(False, _("您的岗位不能查看完整手机号码，请由所长或社区民警回访。"), status=403)
        access.log_denial(actor, "unmask", rectification, decision)
        raise access.AccessDenied(decision)
    mobile = contacts.mobile_of(rectification.rating.rater_id)
    if mobile is None:
        return ""
    timeline.record_read(
        ("accounts.citizenprofile", mobile.profile_id),
        fields=["phone"],
        actor=actor,
        purpose="ratings.follow_up",
        org_path=rectification.org.path,
        rectification=rectification.reference,
    )
    return mobile.phone
