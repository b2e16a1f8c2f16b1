from __future__ import annotations

from pathlib import Path
from typing import Any

from django.apps import AppConfig


def ticket_ready(item: Any, *, actor: Any, data: Any, transition: Any) -> str | None:
    """A guard: a blocked ticket cannot be collected."""
    return "材料尚未齐全，不能领取。" if item.blocked else None


class WorkflowAppConfig(AppConfig):
    name = "pingan.core.tests.workflowapp"
    label = "workflowapp"
    verbose_name = "Workflow engine test app"
    default_auto_field = "django.db.models.BigAutoField"
    # The engine loads workflows from here too (besides settings.WORKFLOW_DIRS).
    workflow_dirs = [Path(__file__).resolve().parent / "workflows"]

    def ready(self) -> None:
        from pingan.core import access, registry
        from pingan.core.tests.workflowapp.models import Ticket

        access.register(
            Ticket,
            access.Policy(
                org_field="org",
                owner_field="owner",
                act_roles=frozenset({"counter_officer", "station_chief"}),
            ),
        )
        registry.workflow_guards.register("workflowapp_ticket_ready", ticket_ready)
