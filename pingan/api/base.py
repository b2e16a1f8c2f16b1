"""What every Pingan API view is built from (``docs/how-to/add-an-api.md`` shows how).

    class ApplicationViewSet(base.ReadOnlyViewSet):
        query = staticmethod(queries.applications_for)     # called with the user: always scoped
        serializer_class = ApplicationSerializer
        filter_serializer_class = ApplicationFilter        # query parameters, validated (400 on bad ones)

- ``ScopedQuerysetMixin``: ``get_queryset()`` is the app's query function called with the
  signed-in user, so an unscoped queryset cannot slip into an API view.
- ``ActorContextMixin``: after DRF authenticates, the actor context names the caller, so
  token-authenticated calls are attributed on the timeline.
- ``IdempotentCreateMixin`` / :func:`idempotent`: a POST that creates something honours an
  ``Idempotency-Key`` header (the first response is stored for 24 h and replayed on retry).
- ``VersionedMixin`` / :func:`expected_version`: optimistic concurrency with a ``version``
  field, ``ETag`` on reads and ``If-Match`` on writes.
- JSON in and out only, bodies limited to ``DATA_UPLOAD_MAX_MEMORY_SIZE``, strict
  limit/offset pagination.
"""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import inspect
import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, mixins, parsers, permissions, renderers, serializers, viewsets
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response

from pingan.api.errors import Conflict as ConflictError
from pingan.api.errors import PreconditionRequired, RequestTooLarge, StaleVersion, Unprocessable
from pingan.core import context

# --- Input and output ---------------------------------------------------------------------


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, bounded: oversized bodies are refused (413) before they are read
    whole, and no input (deep nesting, unknown charset, bad bytes) escapes as a 500."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        parser_context = parser_context or {}
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2_621_440
        request = parser_context.get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > limit:
            raise RequestTooLarge()
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise RequestTooLarge()
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise exceptions.UnsupportedMediaType(media_type or "") from None
        try:
            text = raw.decode(encoding)
            return json.loads(text, parse_constant=_refuse_constant)
        except (ValueError, RecursionError) as error:
            raise exceptions.ParseError(_("请求体不是有效的 JSON：%(error)s") % {"error": error}) from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


class Pagination(LimitOffsetPagination):
    """``?limit=&offset=``, validated: a bad value is a 400, not silently the default."""

    default_limit = 50
    max_limit = 500
    max_offset = 10**9

    def _integer(self, request: Request, name: str, minimum: int, maximum: int, default: int) -> int:
        raw = request.query_params.get(name)
        if raw is None or raw == "":
            return default
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 12 and minimum <= int(raw) <= maximum):
            raise exceptions.ValidationError(
                {name: [_("应为 %(min)s 到 %(max)s 之间的整数。") % {"min": minimum, "max": maximum}]}
            )
        return int(raw)

    def get_limit(self, request: Request) -> int:
        return self._integer(request, self.limit_query_param, 1, self.max_limit, self.default_limit)

    def get_offset(self, request: Request) -> int:
        return self._integer(request, self.offset_query_param, 0, self.max_offset, 0)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.limit_query_param,
                "required": False,
                "in": "query",
                "description": f"Number of results to return (default {self.default_limit}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_limit},
            },
            {
                "name": self.offset_query_param,
                "required": False,
                "in": "query",
                "description": "Index of the first result to return.",
                "schema": {"type": "integer", "minimum": 0, "maximum": self.max_offset},
            },
        ]


# --- Permissions ---------------------------------------------------------------------------


class IsStaff(permissions.BasePermission):
    """Staff accounts only (citizens and partners have their own endpoints)."""

    message = gettext_lazy("此接口仅供民警使用。")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and getattr(user, "kind", None) == "staff")


# --- The base view ---------------------------------------------------------------------------


class ActorContextMixin:
    """JSON only; the authenticated caller becomes the actor of everything the request does."""

    parser_classes: ClassVar[list[type[parsers.BaseParser]]] = [JSONParser]
    renderer_classes: ClassVar[list[type[renderers.BaseRenderer]]] = [renderers.JSONRenderer]
    pagination_class = Pagination

    def perform_authentication(self, request: Request) -> None:
        super().perform_authentication(request)  # type: ignore[misc]
        user = request.user
        context.set_user(user if user is not None and user.is_authenticated else None)


class FilterMixin:
    """Query parameters validated by ``filter_serializer_class`` (400 with fields on bad ones)."""

    filter_serializer_class: type[serializers.Serializer] | None = None
    request: Request

    def get_filters(self) -> dict[str, Any]:
        if self.filter_serializer_class is None:
            return {}
        cached = getattr(self, "_validated_filters", None)
        if cached is None:
            serializer = self.filter_serializer_class(data=self.request.query_params, context={"request": self.request})
            serializer.is_valid(raise_exception=True)
            cached = self._validated_filters = dict(serializer.validated_data)
        return cached


def call_query(query: Callable[..., QuerySet], user: Any, **filters: Any) -> QuerySet:
    """Call an app's query function with the user, whichever way it takes it
    (``things_for(user)`` or ``things_for(*, user, ...)``)."""
    parameters = inspect.signature(query).parameters
    user_parameter = parameters.get("user")
    kwargs = {name: value for name, value in filters.items() if name in parameters}
    if user_parameter is not None and user_parameter.kind is inspect.Parameter.KEYWORD_ONLY:
        return query(user=user, **kwargs)
    return query(user, **kwargs)


class ScopedQuerysetMixin(FilterMixin):
    """``get_queryset()`` goes through the app's query function, scoped by the user.

    Declare ``query = staticmethod(queries.things_for)``; on lists, validated filters whose
    names the query function accepts are passed on as keyword arguments (details and actions
    look the object up in the unfiltered scope). Or override ``scoped_queryset``.
    """

    query: ClassVar[Callable[..., QuerySet] | None] = None

    def scoped_queryset(self, user: Any) -> QuerySet:
        if self.query is None:
            raise ImproperlyConfigured(
                f"{type(self).__name__}: declare `query = staticmethod(<app>.queries.<things>_for)` "
                "or override scoped_queryset(user); API views never build unscoped querysets."
            )
        filters = self.get_filters() if getattr(self, "action", None) == "list" else {}
        return call_query(type(self).query, user, **filters)  # type: ignore[arg-type]

    def get_queryset(self) -> QuerySet:
        return self.scoped_queryset(self.request.user)


class ReadOnlyViewSet(
    ActorContextMixin,
    ScopedQuerysetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """List and detail of an app's records, scoped by its query function."""


class ViewSet(ActorContextMixin, ScopedQuerysetMixin, viewsets.GenericViewSet):
    """Pick the actions you need (``mixins.ListModelMixin``…, ``@action``); writes call actions."""


# --- Idempotency ------------------------------------------------------------------------------

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,200}$")
IDEMPOTENCY_TTL = dt.timedelta(hours=24)


def request_fingerprint(request: Request) -> str:
    """What makes two requests "the same": method, path and JSON body."""
    data = request.data
    if hasattr(data, "lists"):
        data = dict(data.lists())
    canonical = json.dumps(
        {"method": request.method, "path": request.path, "body": data},
        sort_keys=True,
        cls=DjangoJSONEncoder,
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _stored_body(response: Response) -> Any:
    return json.loads(json.dumps(response.data, cls=DjangoJSONEncoder))


def idempotent(request: Request, handler: Callable[[], Response], *, ttl: dt.timedelta = IDEMPOTENCY_TTL) -> Response:
    """Run ``handler`` once per ``Idempotency-Key`` (per user); replay its response on retries.

    The key's record and whatever ``handler`` writes commit in one transaction: a failed
    request leaves no record, so the client may retry it; of two concurrent requests with
    one key, the second waits for the first and then gets its response. Only successful
    (2xx) responses are stored. Without the header, or for anonymous callers, ``handler``
    simply runs.
    """
    from pingan.api.models import IdempotencyRecord

    key = request.headers.get(IDEMPOTENCY_HEADER)
    user = request.user
    if key is None or not (user and user.is_authenticated):
        return handler()
    if not IDEMPOTENCY_KEY_PATTERN.match(key):
        raise exceptions.ValidationError({IDEMPOTENCY_HEADER: [_("幂等键应为1到200个可见ASCII字符（例如一个UUID）。")]})
    fingerprint = request_fingerprint(request)
    now = timezone.now()
    with transaction.atomic():
        # Expired keys are forgotten lazily, by their owner's next keyed request.
        IdempotencyRecord.objects.filter(user=user, expires_at__lte=now).delete()
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user=user,
                    key=key,
                    fingerprint=fingerprint,
                    method=request.method or "",
                    path=request.path[:255],
                    expires_at=now + ttl,
                )
        except IntegrityError:
            existing = IdempotencyRecord.objects.filter(user=user, key=key).first()
            if existing is None or existing.status is None:
                raise ConflictError(_("使用该幂等键的请求正在处理中，请稍后重试。")) from None
            if existing.fingerprint != fingerprint:
                raise Unprocessable(
                    _("该幂等键已用于另一个不同的请求；请为新请求使用新的幂等键。"), code="idempotency_key_reused"
                ) from None
            headers = {"Idempotent-Replayed": "true", **(existing.response_headers or {})}
            return Response(existing.response_body, status=existing.status, headers=headers)
        response = handler()
        if 200 <= response.status_code < 300:
            record.status = response.status_code
            record.response_body = _stored_body(response)
            record.response_headers = {name: response[name] for name in ("Location",) if response.has_header(name)}
            record.save(update_fields=["status", "response_body", "response_headers"])
        else:
            record.delete()
    return response


class IdempotentCreateMixin:
    """``create`` (and any action named in ``idempotent_actions``) honours ``Idempotency-Key``.

    For an ``@action``, wrap its body: ``return idempotent(request, lambda: self._do(request))``.
    """

    idempotent_actions: ClassVar[Iterable[str]] = ("create",)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return idempotent(request, lambda: super(IdempotentCreateMixin, self).create(request, *args, **kwargs))  # type: ignore[misc]


# --- Optimistic concurrency --------------------------------------------------------------------

IF_MATCH_PATTERN = re.compile(r'^(?:W/)?"?(\d{1,18})"?$')


def etag(version: int) -> str:
    return f'"{version}"'


def expected_version(request: Request, *, required: bool = True, body_field: str = "version") -> int | None:
    """The version the client read: ``If-Match: "7"``, else ``{"version": 7}`` in the body.

    Missing and ``required``: 428; malformed: 400. Pass it to the action (the workflow
    engine's ``transition(expected_version=...)`` refuses a stale one with ``Conflict``, 409).
    """
    header = request.headers.get("If-Match")
    if header is not None:
        match = IF_MATCH_PATTERN.match(header.strip())
        if match is None:
            raise exceptions.ValidationError({"If-Match": [_('If-Match 应为记录的版本号，例如 "7"。')]})
        return int(match.group(1))
    data = request.data if isinstance(request.data, Mapping) else {}
    value = data.get(body_field)
    if value is not None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise exceptions.ValidationError({body_field: [_("版本号应为非负整数。")]})
        return value
    if required:
        raise PreconditionRequired()
    return None


def require_version(obj: Any, expected: int | None, *, field: str = "version") -> None:
    """Refuse (409 ``stale_version``) when ``obj`` is no longer at the version the client read.

    Call it on the row locked by the action (``select_for_update``) so the check and the
    write cannot be separated by another officer's change.
    """
    current = getattr(obj, field)
    if expected is not None and current != expected:
        raise StaleVersion(
            _("该记录已被他人修改（您看到的是第 %(expected)s 版，当前为第 %(current)s 版），请刷新后重试。")
            % {"expected": expected, "current": current}
        )


class VersionedMixin:
    """Reads carry ``ETag: "<version>"``; actions in ``versioned_actions`` need ``If-Match``."""

    version_field: ClassVar[str] = "version"
    versioned_actions: ClassVar[Iterable[str]] = ("update", "partial_update", "destroy")

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()  # type: ignore[attr-defined]
        response = Response(self.get_serializer(instance).data)  # type: ignore[attr-defined]
        response["ETag"] = etag(getattr(instance, self.version_field))
        return response

    def expected_version(self, request: Request) -> int | None:
        return expected_version(request, required=True, body_field=self.version_field)
