"""What a page tells the user when an action refused: one reading of the refusals the
shared machinery raises (the access layer's ``AccessDenied``, the workflow engine's
``WorkflowError``, Django's ``ValidationError``), so every app answers with the same status
and wording. A 404 decision is the "does not exist" answer (nothing leaks)."""

from __future__ import annotations

from django.core.exceptions import ValidationError

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
