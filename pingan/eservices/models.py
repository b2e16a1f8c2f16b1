"""Applications for online police services (rows S9–S15 of the seed).

A service is data (``catalog/services/*.yaml``, ``eservices.catalog``); an application is one
person's request for one service, moved by the service's shared workflow. A draft is an
application in the ``draft`` state: saving and resuming needs nothing else, and submitting
is the workflow's ``submit`` step (which starts the clocks).
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from pingan.core.identity import EncryptedTextField
from pingan.core.workflow import StateField, Transition, WorkflowModel


class Channel(models.TextChoices):
    ONLINE = "online", _("网上办")
    APP = "app", _("掌上办")
    KIOSK = "kiosk", _("自助办")
    COUNTER = "counter", _("窗口办")


FINISHED_STATES = ("completed", "refused", "withdrawn")
# States where the next step is the staff's: the workbench queue.
STAFF_STATES = ("submitted", "under_review", "pending_approval", "inspected", "approved")


class Application(WorkflowModel):
    """One application. ``org`` is the handling unit (its staff see and decide it);
    ``org_path`` copies its path so the workbench filters 10^6 rows without a join."""

    workflow_code = models.CharField(max_length=60, editable=False)
    # No index on the state or the deadline alone: neither is selective at 10^6 rows, and
    # the planner would prefer them to the indexes below that are (application_queue_idx).
    state = StateField(_("状态"), db_index=False)
    due_at = models.DateTimeField(
        _("办理期限"),
        null=True,
        blank=True,
        editable=False,
        help_text="the nearest running deadline (denormalised from the item's clocks)",
    )
    reference = models.CharField(_("受理编号"), max_length=24, unique=True)
    service_code = models.CharField(_("事项"), max_length=60)
    department = models.CharField(_("警种"), max_length=30)
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="applications"
    )
    org = models.ForeignKey("orgs.OrgUnit", verbose_name=_("办理单位"), on_delete=models.PROTECT, related_name="+")
    org_path = models.CharField(max_length=255, editable=False)
    partner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("合作单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="a partner doing a step (e.g. the dealer inspecting an e-bike)",
    )
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    form_sealed = EncryptedTextField(blank=True, default="", help_text="the form's answers as JSON, encrypted")
    result = models.JSONField(default=dict, blank=True, help_text="what the service produced (plate, credential…)")
    idempotency_key = models.CharField(max_length=64, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The workbench: a jurisdiction's open work by deadline, and its counts, from the
            # index alone (path range, state, deadline state and department read from the
            # entries; only the page's rows are fetched), also when filtered by department.
            # Not a partial index: SQLite cannot match a partial index's "state IN (...)" to a
            # query whose values are bound parameters.
            models.Index(
                fields=["org_path", "state", "deadline_state", "due_at", "department"], name="application_queue_idx"
            ),
            models.Index(fields=["applicant", "-created_at"], name="application_mine_idx"),
            # The workbench filtered by service: the service, then the jurisdiction's path range
            # (the planners pick it over the one above for that filter on both databases); also
            # any lookup by service (the API's filter).
            models.Index(
                fields=["service_code", "org_path", "state", "deadline_state", "due_at"],
                name="application_service_idx",
            ),
            # Indicators: applications completed in a period.
            models.Index(fields=["completed_at", "state", "org_path"], name="application_completed_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["applicant", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="application_idempotency_unique",
            )
        ]
        verbose_name = _("办事申请")
        verbose_name_plural = _("办事申请")

    def __str__(self) -> str:
        return self.reference

    def get_absolute_url(self) -> str:
        return reverse("eservices:application", args=[self.reference])

    def timeline_org_path(self) -> str:
        return self.org_path

    @property
    def service(self) -> Any:
        from pingan.eservices import catalog

        return catalog.get(self.service_code)

    @property
    def form_data(self) -> dict[str, Any]:
        return json.loads(self.form_sealed) if self.form_sealed else {}

    @form_data.setter
    def form_data(self, value: dict[str, Any]) -> None:
        self.form_sealed = json.dumps(value, ensure_ascii=False, sort_keys=True)

    @property
    def finished(self) -> bool:
        return self.state in FINISHED_STATES

    def needs_person(self, step: Transition) -> bool:
        return step.in_person or step.action in self.service.in_person_steps

    def clock_budget(self, clock: str) -> int:
        from pingan.core import calendar, context

        service = self.service
        limit = service.legal_limit if clock == "legal" else service.promised_limit
        return limit.working_days_from(calendar.local_date(context.now()))


def upload_path(instance: Document, filename: str) -> str:
    # Never the uploaded name: a random name under the application (MEDIA_ROOT is not served).
    return f"applications/{instance.application_id}/{instance.token}.{instance.extension}"


class Document(models.Model):
    """A document uploaded for an application (checked type and size; served only through
    an access-checked view)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="documents")
    code = models.CharField(_("材料"), max_length=40)
    token = models.CharField(max_length=32, unique=True)
    original_name = models.CharField(_("文件名"), max_length=200)
    extension = models.CharField(max_length=8)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    file = models.FileField(upload_to=upload_path, max_length=200)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code", "uploaded_at"]
        verbose_name = _("申请材料")
        verbose_name_plural = _("申请材料")

    def __str__(self) -> str:
        return f"{self.application_id}:{self.code}"


class KioskCode(models.Model):
    """A one-time code sent to the mobile of the person at a kiosk (its hash only)."""

    kiosk = models.CharField(max_length=40)
    id_number_hash = models.CharField(max_length=64, db_index=True)
    code_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["kiosk", "created_at"], name="kioskcode_kiosk_idx")]

    def __str__(self) -> str:
        return f"{self.kiosk} {self.created_at:%Y-%m-%d %H:%M}"
