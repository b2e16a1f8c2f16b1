"""Under ``/api/``, every error response is the API's JSON error format — also those made
before DRF runs: a middleware's refusal (the NUL guard, an unknown Host), Django's own
400/403/404/500 pages. DRF's views already answer in the format; this is the safety net
for everything around them, so a client never has to parse an HTML error page."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from pingan.api.errors import NOT_FOUND_MESSAGE, SERVER_ERROR_MESSAGE, error_body

API_PREFIX = "/api/"
CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    429: "throttled",
}
# A short plain-text refusal is a message written for people: keep it.
PLAIN_MESSAGE_MAX = 300


def _message(response: HttpResponse) -> str:
    status = response.status_code
    if response.get("Content-Type", "").startswith("text/plain"):
        text = response.content.decode(response.charset or "utf-8", errors="replace").strip()
        if text and len(text) <= PLAIN_MESSAGE_MAX:
            return text
    if status == 404:
        return str(NOT_FOUND_MESSAGE)
    if status >= 500:
        return str(SERVER_ERROR_MESSAGE)
    if status in (401, 403):
        return _("您无权进行此操作。")
    return _("请求无法处理，请检查后重试。")


class ApiErrorFormatMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and request.path.startswith(API_PREFIX)
            and not response.streaming
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            code = CODES.get(response.status_code, "server_error" if response.status_code >= 500 else "error")
            body = error_body(code, _message(response))
            # Rewritten in place: the headers other middleware set (CSP, request id…) stay.
            response.content = json.dumps(body, ensure_ascii=False).encode("utf-8")
            response["Content-Type"] = "application/json"
            if response.has_header("Content-Length"):
                response["Content-Length"] = str(len(response.content))
        return response
