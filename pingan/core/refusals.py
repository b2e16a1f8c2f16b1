"""What a page tells the user when an action refused: one reading of the refusals the
shared machinery raises (the access layer's ``AccessDenied``, the workflow engine's
``WorkflowError``, Django's ``ValidationError``), so every app answers with the same status
and wording. A 404 decision is the "does not exist" answer (nothing leaks)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from pingan.core import access

REFUSALS = (access.AccessDenied, ValidationError)  # plus workflow.WorkflowError, imported by callers


def refusal_status(error: Exception) -> int:
    if isinstance(error, access.AccessDenied):
        return error.decision.status
    return int(getattr(error, "status", 400))


def refusal_message(error: Exception) -> str:
    if isinstance(error, access.AccessDenied):
        return error.decision.reason
    if isinstance(error, ValidationError):
        return "；".join(str(message) for message in error.messages)
    errors = getattr(error, "errors", None)  # e.g. the kinship engine's ProfileError
    if isinstance(errors, list) and errors and all(isinstance(e, str) for e in errors):
        return "；".join(errors)
    return str(getattr(error, "message", error))


def errors_onto_form(form: Any, error: ValidationError, *, rename: Callable[[str], str] | None = None) -> None:
    """An action's per-field problems shown on the form's own fields (``rename``: the
    form's name for an action's field), the rest at the top of the form."""
    for key, problems in error.message_dict.items():
        name = rename(key) if rename is not None else key
        form.add_error(name if name in form.fields else None, problems)


def workflow_step_from_post(
    request: HttpRequest,
    item: Any,
    *,
    advance: Callable[..., Any],
    page: Callable[[dict[str, Any] | None, int], HttpResponse],
    input_limit: int = 4000,
) -> HttpResponse:
    """The "take this step" POST of a workflow item's page, the same everywhere: read the
    action, the version the user saw and the step's input fields; call the app's action
    ``advance(action=, data=, expected_version=)``; on refusal re-show the page (``page(errors,
    status)``) with the reason, a 404 decision being "does not exist"; on success redirect."""
    from pingan.core import workflow

    action = request.POST.get("action", "")[:40]
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        messages.error(request, _("表单不完整，请刷新页面后重试。"))
        return page(None, 400)
    transition = item.workflow().transition_for(item.state, action)
    fields = transition.input_fields if transition else []
    data = {
        name: request.POST.get(name, "").strip()[:input_limit] for name in fields if request.POST.get(name, "").strip()
    }
    try:
        advance(
            action=action,
            data=data if transition and transition.input_schema is not None else None,
            expected_version=version,
        )
    except workflow.InputInvalid as error:
        return page({"action": action, "fields": error.errors}, 400)
    except (workflow.WorkflowError, *REFUSALS) as error:
        status = refusal_status(error)
        if status == 404:
            raise Http404(refusal_message(error)) from None
        messages.error(request, refusal_message(error))
        item.refresh_from_db()
        return page(None, status)
    messages.success(request, _("已办理：%(state)s") % {"state": item.state_name})
    return redirect(item)
