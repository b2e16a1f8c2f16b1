from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from pingan.core import context


def client_ip(request: HttpRequest) -> str | None:
    # Behind the reverse proxy the operator configures PINGAN_TRUSTED_PROXY; REMOTE_ADDR otherwise.
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    """Makes the signed-in user and client address available to the timeline."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        channel = "api" if request.path.startswith("/api/") else "web"
        user = getattr(request, "user", None)
        token = context.set_for_request(
            context.ActorContext(
                user=user if user is not None and user.is_authenticated else None,
                ip=client_ip(request),
                channel=channel,
            )
        )
        try:
            response = self.get_response(request)
        finally:
            context.reset(token)
        response.headers.setdefault("X-Request-ID", context.current().request_id)
        return response


class SecurityHeadersMiddleware:
    """Headers Django's SecurityMiddleware does not set."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(self), payment=()")
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        if request.user.is_authenticated if hasattr(request, "user") else False:
            # Pages with personal data must not linger in shared caches or the back button.
            response.headers.setdefault("Cache-Control", "no-store")
        return response


class RejectNullCharactersMiddleware:
    """Refuse (400) requests whose path, query or form fields contain a NUL character.

    PostgreSQL cannot store NUL in text, so such input would otherwise fail deep inside a
    query with a 500; no legitimate form field or identifier contains one. JSON bodies are
    checked for the escaped form too. Uploaded files are not inspected (they are bytes).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._has_null(request):
            from django.http import HttpResponseBadRequest
            from django.utils.translation import gettext as _

            return HttpResponseBadRequest(
                _("请求包含非法字符（NUL），已拒绝。").encode(), content_type="text/plain; charset=utf-8"
            )
        return self.get_response(request)

    @staticmethod
    def _has_null(request: HttpRequest) -> bool:
        if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
            return True
        if request.method not in ("POST", "PUT", "PATCH"):
            return False
        content_type = request.META.get("CONTENT_TYPE", "")
        try:
            if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
                return any("\x00" in value for _, values in request.POST.lists() for value in values)
            body = request.body
        except Exception:  # too large or malformed: Django answers that itself, later
            return False
        return b"\x00" in body or b"\\u0000" in body
