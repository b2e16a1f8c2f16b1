"""Supervised assignments (交办督办) and the plans they belong to — row S8 of the seed:
"doing practical things for the people" (我为群众办实事), a plan of areas and key tasks,
a task list, progress fought on a wall chart (挂图作战)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from pingan.core.workflow import WorkflowModel

MAX_WORKING_DAYS = 250


class Plan(models.Model):
    """A work plan issued by a unit (e.g. 2021年"我为群众办实事"实践活动), with its areas."""

    code = models.SlugField(_("编号"), max_length=40, unique=True)
    title = models.CharField(_("名称"), max_length=200)
    year = models.PositiveSmallIntegerField(_("年度"))
    org = models.ForeignKey("orgs.OrgUnit", verbose_name=_("发布单位"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-year", "code"]
        verbose_name = _("工作方案")
        verbose_name_plural = _("工作方案")

    def __str__(self) -> str:
        return self.title


class PlanArea(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="areas")
    number = models.PositiveSmallIntegerField(_("序号"))
    name = models.CharField(_("领域"), max_length=100)

    class Meta:
        ordering = ["plan", "number"]
        constraints = [models.UniqueConstraint(fields=["plan", "number"], name="plan_area_number_unique")]
        verbose_name = _("工作领域")
        verbose_name_plural = _("工作领域")

    def __str__(self) -> str:
        return self.name


class Assignment(WorkflowModel):
    """A task a leader hands to a unit with a time limit in working days.

    ``issuer_org`` is the assigning unit (its leaders approve, answer questions and
    withdraw); ``org`` is the responsible unit (its officers accept, work and report) and
    decides who may see the task. ``org`` is always within ``issuer_org``'s subtree.
    """

    workflow_code = "assignment"

    reference = models.CharField(_("编号"), max_length=20, unique=True)
    title = models.CharField(_("事项"), max_length=200)
    description = models.TextField(_("要求"), blank=True)
    plan = models.ForeignKey(
        Plan, verbose_name=_("工作方案"), null=True, blank=True, on_delete=models.PROTECT, related_name="assignments"
    )
    area = models.ForeignKey(
        PlanArea,
        verbose_name=_("工作领域"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assignments",
    )
    key_task = models.BooleanField(_("重点任务"), default=False)
    issuer_org = models.ForeignKey(
        "orgs.OrgUnit", verbose_name=_("交办单位"), on_delete=models.PROTECT, related_name="+"
    )
    org = models.ForeignKey("orgs.OrgUnit", verbose_name=_("承办单位"), on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    working_days = models.PositiveSmallIntegerField(
        _("办理时限（工作日）"), validators=[MinValueValidator(1), MaxValueValidator(MAX_WORKING_DAYS)]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["org", "state", "due_at"], name="assignment_org_state_idx"),
            models.Index(fields=["issuer_org", "state"], name="assignment_issuer_state_idx"),
            models.Index(fields=["plan", "area", "state"], name="assignment_plan_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(working_days__gte=1, working_days__lte=MAX_WORKING_DAYS),
                name="assignment_working_days_range",
            )
        ]
        verbose_name = _("交办事项")
        verbose_name_plural = _("交办事项")

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("assignments:detail", args=[self.reference])

    def clock_budget(self, clock: str) -> int:
        return self.working_days
