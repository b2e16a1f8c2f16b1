"""OpenAPI generation (drf-spectacular): the error responses and headers every operation
documents, and the authentication schemes of ``pingan.api.auth``.

Every operation lists the errors it can answer with, all in the one error format
(``pingan.api.errors``), so clients and the schema fuzzing in the suite can rely on it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from pingan.api import base

ERROR_DESCRIPTIONS = {
    400: "Bad request: invalid parameters or body (`fields` names the culprits)",
    401: "Not signed in, or the token is invalid or expired",
    403: "Signed in but not allowed (the message says why), or CSRF check failed",
    404: "Not found, or not visible to you (the two are indistinguishable)",
    406: "Only application/json responses are offered",
    409: "Conflict: the state changed, the If-Match version is stale, or a request with this key is running",
    413: "Request body too large",
    415: "Request body must be application/json",
    422: "Idempotency key reused with a different request, or a business rule refused it",
    428: "If-Match header required",
}


class ErrorDetailSerializer(serializers.Serializer):
    """One error: a stable `code`, a `message` in the user's language, messages per field."""

    def get_fields(self) -> dict[str, serializers.Field]:
        # "fields" cannot be declared as a class attribute on a serializer (it is a property).
        return {
            "code": serializers.CharField(help_text="stable, for programs: invalid, not_found, stale_version…"),
            "message": serializers.CharField(help_text="for people, in the language of Accept-Language"),
            "fields": serializers.DictField(
                child=serializers.ListField(child=serializers.CharField()),
                required=False,
                help_text="request field (dotted when nested) -> messages",
            ),
        }


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


class AutoSchema(openapi.AutoSchema):
    """Adds the documented error responses and the idempotency / version headers."""

    def _action(self) -> str:
        return getattr(self.view, "action", None) or self.method.lower()

    def _idempotent(self) -> bool:
        return self.method == "POST" and self._action() in getattr(self.view, "idempotent_actions", ())

    def _versioned(self) -> bool:
        return self._action() in getattr(self.view, "versioned_actions", ())

    def error_codes(self) -> list[int]:
        codes = [400, 401, 403, 404, 406]
        if self.method in {"POST", "PUT", "PATCH"}:
            codes += [413, 415]
        if self._idempotent():
            codes += [409, 422]
        if self._versioned():
            codes += [409, 428]
        extra = getattr(self.view, "extra_error_codes", {})
        codes += extra.get(self._action(), [])
        return sorted(set(codes))

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for code in self.error_codes():
            if str(code) not in responses:
                response = OpenApiResponse(response=ErrorSerializer, description=ERROR_DESCRIPTIONS.get(code, ""))
                responses[str(code)] = self._get_response_for_code(response, str(code), direction=direction)
        return responses

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if self._idempotent():
            parameters.append(
                OpenApiParameter(
                    base.IDEMPOTENCY_HEADER,
                    str,
                    OpenApiParameter.HEADER,
                    required=False,
                    pattern=base.IDEMPOTENCY_KEY_PATTERN.pattern,
                    description=(
                        "Any unique string (a UUID): a retry with the same key within 24 hours returns the first "
                        "response instead of creating again; the same key with a different request is refused (422)."
                    ),
                )
            )
        if self._versioned():
            parameters.append(
                OpenApiParameter(
                    "If-Match",
                    str,
                    OpenApiParameter.HEADER,
                    required=True,
                    pattern=base.IF_MATCH_PATTERN.pattern,
                    description='The version you read (the ETag, e.g. "7"); a stale one is refused (409).',
                )
            )
        return parameters


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "pingan.api.auth.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        definition = build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix=self.target.authenticate_header(None)
        )
        definition["description"] = (
            "`Authorization: Token <token>`. Tokens are issued by an operator with `manage.py api_token`."
        )
        return definition


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "pingan.api.auth.SessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": "The signed-in browser session; unsafe methods need the X-CSRFToken header.",
        }
