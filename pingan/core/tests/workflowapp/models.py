from __future__ import annotations

from django.conf import settings
from django.db import models

from pingan.core.workflow import WorkflowModel


class Ticket(WorkflowModel):
    """A citizen's request handled at a station: what the engine tests move around."""

    workflow_code = "ticket"

    title = models.CharField(max_length=100, default="")
    org = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="+")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    blocked = models.BooleanField(default=False)
    legal_days = models.PositiveIntegerField(default=10)
    promised_days = models.PositiveIntegerField(default=3)

    def __str__(self) -> str:
        return self.title or f"ticket #{self.pk}"

    def clock_budget(self, clock: str) -> int:
        return {"legal": self.legal_days, "promised": self.promised_days}[clock]
