"""Names for pages: departments, states and a service's workflow, in the active language."""

from __future__ import annotations

from typing import Any

from pingan.core import workflow
from pingan.orgs import queries as orgs

# Every service workflow names its states alike; this one has them all but two.
_STATE_SOURCES = ("service_approval", "service_inspection", "service_standard")


def department_name(code: str) -> str:
    return orgs.departments().get(code, code)


def state_name(code: str) -> str:
    for source in _STATE_SOURCES:
        wf = workflow.get(source)
        if code in wf.states:
            return wf.state_name(code)
    return code


def workflow_for(service: Any) -> workflow.Workflow:
    return workflow.get(service.workflow)
