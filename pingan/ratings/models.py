"""好差评: one rating per finished service, by the person served (一事一评), and for every
bad rating a rectification the responsible unit verifies, fixes and follows up with the
rater before closing (差评整改, 回访) within a time limit."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from pingan.core.workflow import WorkflowModel


class Rating(models.Model):
    """A citizen's rating of one finished service. Never changed once given.

    ``subject_type``/``subject_id`` name the service (``pingan.ratings.subjects``); label,
    link, channel and responsible unit are copied from it when rated, so the rating keeps
    its meaning whatever later happens to the subject.
    """

    subject_type = models.CharField(_("事项类型"), max_length=60)
    subject_id = models.CharField(_("事项编号"), max_length=64)
    subject_label = models.CharField(_("事项"), max_length=200)
    subject_url = models.CharField(max_length=300, blank=True)
    rater = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("评价人"), on_delete=models.PROTECT, related_name="+"
    )
    org = models.ForeignKey("orgs.OrgUnit", verbose_name=_("责任单位"), on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(_("评价渠道"), max_length=10)
    level = models.PositiveSmallIntegerField(_("评价等级"))
    indicators = models.JSONField(_("分项评价"), default=dict, blank=True)
    comment = models.TextField(_("评价意见"), blank=True)
    created_at = models.DateTimeField(_("评价时间"), auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subject_type", "subject_id"], name="rating_one_per_subject"),
            models.CheckConstraint(condition=models.Q(level__gte=1, level__lte=5), name="rating_level_range"),
        ]
        indexes = [
            # Indicators count ratings in a period across a subtree: date first.
            models.Index(fields=["created_at", "org"], name="rating_created_org_idx"),
            models.Index(fields=["org", "created_at"], name="rating_org_created_idx"),
            models.Index(fields=["rater", "created_at"], name="rating_rater_idx"),
        ]
        ordering = ["-created_at", "-id"]
        verbose_name = _("评价")
        verbose_name_plural = _("评价")

    def __str__(self) -> str:
        return f"{self.subject_label}（{self.level}）"

    @property
    def level_name(self) -> str:
        from pingan.ratings.scheme import scheme

        return scheme().level(self.level).name

    @property
    def is_bad(self) -> bool:
        from pingan.ratings.scheme import scheme

        return scheme().is_bad(self.level)


class FollowUpMethod(models.TextChoices):
    PHONE = "phone", _("电话回访")
    VISIT = "visit", _("上门回访")
    SMS = "sms", _("短信回访")
    ONLINE = "online", _("网上回访")


class FollowUpSatisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    FAIRLY = "fairly_satisfied", _("基本满意")
    DISSATISFIED = "dissatisfied", _("不满意")


class Rectification(WorkflowModel):
    """The closed loop of one bad rating: the responsible unit verifies it (核实), rectifies
    what was wrong (整改), contacts the rater (回访, required before closing) and its chief
    closes it with a reply the rater sees. The ``legal`` clock starts when it opens."""

    workflow_code = "rectification"

    reference = models.CharField(_("编号"), max_length=20, unique=True)
    rating = models.OneToOneField(
        Rating, verbose_name=_("评价"), on_delete=models.PROTECT, related_name="rectification"
    )
    org = models.ForeignKey("orgs.OrgUnit", verbose_name=_("责任单位"), on_delete=models.PROTECT, related_name="+")
    working_days = models.PositiveSmallIntegerField(_("整改时限（工作日）"))
    founded = models.BooleanField(_("核实情况属实"), null=True, blank=True)
    finding = models.TextField(_("核实情况"), blank=True)
    measures = models.TextField(_("整改措施"), blank=True)
    follow_up_method = models.CharField(_("回访方式"), max_length=10, blank=True, choices=FollowUpMethod.choices)
    follow_up_result = models.TextField(_("回访情况"), blank=True)
    follow_up_satisfaction = models.CharField(
        _("回访满意度"), max_length=20, blank=True, choices=FollowUpSatisfaction.choices
    )
    followed_up_at = models.DateTimeField(_("回访时间"), null=True, blank=True)
    followed_up_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reply = models.TextField(_("答复群众"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["org", "state", "due_at"], name="rectification_org_state_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(state="closed") | models.Q(followed_up_at__isnull=False),
                name="rectification_closed_after_follow_up",
            )
        ]
        verbose_name = _("差评整改")
        verbose_name_plural = _("差评整改")

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def title(self) -> str:
        return str(_("差评整改：%(subject)s") % {"subject": self.rating.subject_label})

    def get_absolute_url(self) -> str:
        return reverse("ratings:rectification", args=[self.reference])

    def clock_budget(self, clock: str) -> int:
        return self.working_days
