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
