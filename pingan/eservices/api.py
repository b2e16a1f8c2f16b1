"""``/api/v1/applications/``: the citizen app (掌上办) and integrations apply and track;
staff systems read their jurisdiction's applications and take workflow steps.

- citizens list and read their own; create a draft with the form's answers and, with
  ``submit: true``, submit it in the same request (send ``Idempotency-Key``: a retry or a
  double tap creates one application); services needing documents are completed on the web;
- staff list and read their jurisdiction's and take steps with ``If-Match``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from pingan.api import base, routes
from pingan.api.serializers import OrgCodeField, OrgRefSerializer
from pingan.core import access
from pingan.eservices import actions, catalog, queries
from pingan.eservices.models import Application, Channel


class ApplicationSerializer(serializers.ModelSerializer):
    org = OrgRefSerializer(read_only=True)
    service = serializers.CharField(source="service_code", read_only=True)
    service_name = serializers.CharField(source="service.name", read_only=True)
    state_name = serializers.CharField(read_only=True, help_text="the state's name in the caller's language")

    class Meta:
        model = Application
        fields = [
            "reference", "service", "service_name", "department", "org", "channel", "state", "state_name",
            "version", "due_at", "deadline_state", "created_at", "submitted_at", "completed_at", "result",
        ]  # fmt: skip
        read_only_fields = fields


class ApplicationFilter(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=[(s, s) for s in ("draft", *queries.STAFF_STATES, "supplement", "completed", "refused", "withdrawn")],
        required=False,
    )
    service = serializers.CharField(required=False, max_length=60, help_text="a service code")


class ApplicationCreateSerializer(serializers.Serializer):
    service = serializers.CharField(max_length=60, help_text="a service code from the catalogue")
    org = OrgCodeField(required=False, help_text="the handling unit; default: the one serving the applicant")
    form = serializers.DictField(required=False, default=dict, help_text="the answers, per the service's schema")
    submit = serializers.BooleanField(required=False, default=False, help_text="submit at once")

    def validate_service(self, value: str) -> str:
        if value not in catalog.services():
            raise serializers.ValidationError(_("没有这个办事事项。"))
        return value


class ApplicationTransitionSerializer(serializers.Serializer):
    action = serializers.CharField(max_length=40, help_text="a workflow action, e.g. accept, supplement, withdraw")
    data = serializers.DictField(required=False, allow_null=True, help_text="the input the action asks for")
    version = serializers.IntegerField(required=False, min_value=0, help_text="or send If-Match")


def applications_for(user: Any, *, state: str | None = None, service: str | None = None) -> QuerySet[Application]:
    query = queries.mine(user) if access.user_kind(user) == "citizen" else queries.applications_for(user)
    if state:
        query = query.filter(state=state)
    if service:
        query = query.filter(service_code=service)
    return query.order_by("-created_at", "-id")


@extend_schema_view(list=extend_schema(parameters=[ApplicationFilter]))
class ApplicationViewSet(base.VersionedMixin, base.ReadOnlyViewSet):
    query = staticmethod(applications_for)
    filter_serializer_class = ApplicationFilter
    serializer_class = ApplicationSerializer
    lookup_field = "reference"
    lookup_value_regex = r"SQ[0-9]{8,20}"
    idempotent_actions = ("create",)
    versioned_actions = ("transition",)
    extra_error_codes = {"transition": [409, 422], "create": [403, 422]}

    @extend_schema(request=ApplicationCreateSerializer, responses={201: ApplicationSerializer})
    def create(self, request: Request) -> Response:
        """Apply for a service (citizens); ``Idempotency-Key`` makes a retry return the first result."""
        return base.idempotent(request, lambda: self._create(request))

    def _create(self, request: Request) -> Response:
        if access.user_kind(request.user) != "citizen":
            raise access.AccessDenied(
                access.Decision(False, _("此接口供群众本人申请；窗口代办请使用综合窗口。"), status=403)
            )
        body = ApplicationCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        application = actions.draft_create(
            actor=request.user,
            service_code=data["service"],
            org=data.get("org"),
            channel=Channel.APP,
            form_data=data["form"],
        )
        if data["submit"]:
            actions.submit(application=application, actor=request.user)
        response = Response(ApplicationSerializer(application).data, status=status.HTTP_201_CREATED)
        response["ETag"] = base.etag(application.version)
        return response

    @extend_schema(request=ApplicationTransitionSerializer, responses=ApplicationSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, reference: str | None = None) -> Response:
        application = self.get_object()
        body = ApplicationTransitionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        actions.advance(
            application=application,
            action=body.validated_data["action"],
            actor=request.user,
            data=body.validated_data.get("data"),
            expected_version=self.expected_version(request),
        )
        response = Response(ApplicationSerializer(application).data)
        response["ETag"] = base.etag(application.version)
        return response


routes.register("applications", ApplicationViewSet, basename="application")
