"""One error format for every API error, in the user's language (``Accept-Language``):

    {"error": {"code": "invalid", "message": "提交的数据有误，请检查标出的字段。",
               "fields": {"id_number": ["身份证号码校验位不正确，请核对后重新输入。"]}}}

``code`` is stable and meant for programs; ``message`` is for people; ``fields`` maps a
request field (dotted for nested ones: ``items.0.name``) to its messages and is present
only when fields are at fault.

Mapped here: DRF's exceptions, Django's ``ValidationError``/``Http404``/``PermissionDenied``,
the access layer's ``AccessDenied`` (404 "not found" exactly like a missing object, or
403 with the reason), and the workflow engine's errors. Anything else is a bug: it is
logged with the request id and answered with a generic 500 that reveals nothing.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from pingan.core import context
from pingan.core.access import AccessDenied

log = logging.getLogger(__name__)

NOT_FOUND_MESSAGE = gettext_lazy("未找到该记录，或您无权查看。")
SERVER_ERROR_MESSAGE = gettext_lazy("系统出现错误，已记录。请稍后重试。")
INVALID_MESSAGE = gettext_lazy("提交的数据有误，请检查标出的字段。")


# --- Exceptions the API raises itself -------------------------------------------------


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("请求内容过大。")
    default_code = "request_too_large"


class StaleVersion(exceptions.APIException):
    """The version the client read is no longer current (optimistic concurrency).

    409, like the workflow engine's ``Conflict`` for a stale ``expected_version``, so a
    client handles "someone changed it first" one way whichever path refused it.
    """

    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("该记录已被他人修改，请刷新后重试。")
    default_code = "stale_version"


class PreconditionRequired(exceptions.APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = gettext_lazy("请在 If-Match 请求头中提供您所修改记录的版本号。")
    default_code = "version_required"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("该记录的状态已经改变，请刷新后重试。")
    default_code = "conflict"


class Unprocessable(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = gettext_lazy("请求无法处理。")
    default_code = "unprocessable"


# --- The format -----------------------------------------------------------------------


def error_body(code: str, message: str, fields: Mapping[str, list[str]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": str(message)}
    if fields:
        body["fields"] = {name: [str(item) for item in messages] for name, messages in fields.items()}
    return {"error": body}


def flatten_fields(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail -> ``{"dotted.field": [messages]}``."""
    result: dict[str, list[str]] = {}
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            result.update(flatten_fields(value, name))
    elif isinstance(detail, list | tuple):
        if all(not isinstance(item, Mapping | list | tuple) for item in detail):
            if detail:
                result.setdefault(prefix, []).extend(str(item) for item in detail)
        else:
            for index, item in enumerate(detail):
                result.update(flatten_fields(item, f"{prefix}.{index}" if prefix else str(index)))
    elif detail is not None:
        result.setdefault(prefix, []).append(str(detail))
    return result


def _validation_body(code: str, detail: Any) -> dict[str, Any]:
    """A validation error: field messages under ``fields``; the others become ``message``."""
    if isinstance(detail, Mapping):
        fields = flatten_fields(detail)
        general = fields.pop("non_field_errors", []) + fields.pop(NON_FIELD_ERRORS, [])
        message = " ".join(general) if general else str(INVALID_MESSAGE)
        return error_body(code, message, fields)
    if isinstance(detail, list | tuple):
        messages = flatten_fields(detail).values()
        return error_body(code, " ".join(" ".join(items) for items in messages) or str(INVALID_MESSAGE))
    return error_body(code, str(detail))


def _api_exception_response(exc: exceptions.APIException) -> Response:
    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
    if getattr(exc, "wait", None):
        headers["Retry-After"] = f"{int(exc.wait)}"  # type: ignore[attr-defined]
    if isinstance(exc, exceptions.NotFound):
        # One answer for "does not exist" and "exists but not yours": nothing leaks.
        body = error_body("not_found", str(NOT_FOUND_MESSAGE))
    elif isinstance(exc.detail, Mapping | list):
        body = _validation_body(exc.default_code, exc.detail)
    else:
        codes = exc.get_codes()
        body = error_body(codes if isinstance(codes, str) else exc.default_code, str(exc.detail))
    return Response(body, status=exc.status_code, headers=headers)


def _django_validation_body(error: DjangoValidationError) -> dict[str, Any]:
    if hasattr(error, "error_dict"):
        fields = {name: list(messages) for name, messages in error.message_dict.items()}
        general = fields.pop(NON_FIELD_ERRORS, [])
        codes = {item.code for items in error.error_dict.values() for item in items if item.code}
        code = codes.pop() if len(codes) == 1 else "invalid"
        return error_body(code, " ".join(general) or str(INVALID_MESSAGE), fields)
    items = list(error.error_list)
    code = items[0].code if len(items) == 1 and items[0].code else "invalid"
    return error_body(code, " ".join(error.messages))


# --- The workflow engine's errors (pingan.core.workflow, optional) ------------------------

# Class name -> (HTTP status, code) when the error does not declare its own ``status`` and
# ``code`` (the engine's do). Looked up by name so this module works with or without the
# engine, most specific first.
WORKFLOW_ERRORS: dict[str, tuple[int, str]] = {
    "InputInvalid": (status.HTTP_400_BAD_REQUEST, "input_invalid"),
    "GuardFailed": (status.HTTP_409_CONFLICT, "guard_failed"),
    "InPersonRequired": (status.HTTP_409_CONFLICT, "in_person_required"),
    "IllegalTransition": (status.HTTP_409_CONFLICT, "illegal_transition"),
    "Conflict": (status.HTTP_409_CONFLICT, "conflict"),
    "WorkflowError": (status.HTTP_409_CONFLICT, "workflow_error"),
}


def workflow_module() -> Any | None:
    try:
        return importlib.import_module("pingan.core.workflow")
    except ImportError:
        return None


def _workflow_mapping(exc: Exception) -> tuple[int, str] | None:
    module = workflow_module()
    if module is None:
        return None
    for name, mapping in WORKFLOW_ERRORS.items():  # most specific first
        cls = getattr(module, name, None)
        if isinstance(cls, type) and isinstance(exc, cls):
            return mapping
    return None


def _error_fields(exc: Exception) -> dict[str, list[str]]:
    """Field messages an engine error carries, whatever it calls them."""
    for attribute in ("fields", "errors", "message_dict"):
        value = getattr(exc, attribute, None)
        if isinstance(value, Mapping) and value:
            fields = flatten_fields(value)
            fields.pop(NON_FIELD_ERRORS, None)  # already part of the message
            return fields
    return {}


def _workflow_response(exc: Exception, default_status: int, default_code: str) -> Response:
    declared = getattr(exc, "status", None)
    status_code = declared if isinstance(declared, int) and 400 <= declared < 500 else default_status
    code = getattr(exc, "code", None)
    message = getattr(exc, "message", None) or str(exc) or str(INVALID_MESSAGE)
    body = error_body(code if isinstance(code, str) and code else default_code, str(message), _error_fields(exc))
    return Response(body, status=status_code)


# --- The handler ---------------------------------------------------------------------------


def exception_handler(exc: Exception, context_: Mapping[str, Any]) -> Response:
    """DRF's ``EXCEPTION_HANDLER``: every exception raised in an API view ends here."""
    response = _response_for(exc)
    set_rollback()
    return response


def _response_for(exc: Exception) -> Response:
    if isinstance(exc, AccessDenied):
        decision = exc.decision
        if decision.status == status.HTTP_404_NOT_FOUND:
            return _api_exception_response(exceptions.NotFound())
        return Response(error_body("permission_denied", decision.reason or _("您无权进行此操作。")), status=403)
    if isinstance(exc, Http404):
        return _api_exception_response(exceptions.NotFound())
    if isinstance(exc, DjangoPermissionDenied):
        return _api_exception_response(exceptions.PermissionDenied(*exc.args))
    if isinstance(exc, RequestDataTooBig):
        return _api_exception_response(RequestTooLarge())
    if isinstance(exc, exceptions.APIException):
        return _api_exception_response(exc)
    workflow = _workflow_mapping(exc)
    if workflow is not None:
        return _workflow_response(exc, *workflow)
    if isinstance(exc, DjangoValidationError):
        return Response(_django_validation_body(exc), status=400)
    if isinstance(exc, SuspiciousOperation):
        return _api_exception_response(exceptions.ParseError(_("请求无法处理，请检查后重试。")))
    log.error(
        "unhandled API error (request %s)", context.current().request_id, exc_info=(type(exc), exc, exc.__traceback__)
    )
    return Response(error_body("server_error", str(SERVER_ERROR_MESSAGE)), status=500)


def not_found_view(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any path under ``/api/`` that names no endpoint: the same JSON 404 as everywhere."""
    return JsonResponse(
        error_body("not_found", str(NOT_FOUND_MESSAGE)), status=404, json_dumps_params={"ensure_ascii": False}
    )
