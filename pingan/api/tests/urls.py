"""Test-only endpoints built from ``pingan.api.base`` the way an app would build them,
over real actions and the workflow engine's test item, plus the real URLconf.

Used with ``@pytest.mark.urls("pingan.api.tests.urls")``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.urls import include, path
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from pingan.accounts import actions as account_actions
from pingan.api import base
from pingan.api.serializers import OrgCodeField, OrgRefSerializer
from pingan.core import access, workflow
from pingan.core.tests.workflowapp.models import Ticket
from pingan.urls import urlpatterns as site_urlpatterns


class NewStaffSerializer(serializers.Serializer):
    badge_number = serializers.CharField(max_length=6)
    name = serializers.CharField(max_length=50, source="user.name")
    org = OrgCodeField(write_only=True)
    home_org = OrgRefSerializer(read_only=True)


class StaffCreateViewSet(base.IdempotentCreateMixin, mixins.CreateModelMixin, base.ViewSet):
    """POST creates a staff account through the real action: idempotent by key."""

    serializer_class = NewStaffSerializer

    def perform_create(self, serializer: NewStaffSerializer) -> None:
        data = serializer.validated_data
        user = account_actions.staff_create(
            badge_number=data["badge_number"],
            name=data["user"]["name"],
            home_org=data["org"],
            roles=["counter_officer"],
            actor=self.request.user,
        )
        serializer.instance = user.staff


class TicketSerializer(serializers.ModelSerializer):
    class Meta:
        model = Ticket
        fields = ["id", "title", "state", "version"]
        read_only_fields = fields


class TransitionSerializer(serializers.Serializer):
    action = serializers.CharField(max_length=50)
    data = serializers.DictField(required=False)


def tickets_for(user: Any) -> QuerySet[Ticket]:
    return access.scope(user, Ticket.objects.all())


class TicketViewSet(base.VersionedMixin, mixins.RetrieveModelMixin, base.ViewSet):
    """Read with an ETag; move through the workflow with If-Match."""

    query = staticmethod(tickets_for)
    serializer_class = TicketSerializer
    versioned_actions = ("transition",)

    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str | None = None) -> Response:
        ticket = self.get_object()
        expected = self.expected_version(request)
        body = TransitionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        workflow.transition(
            ticket,
            action=body.validated_data["action"],
            actor=request.user,
            data=body.validated_data.get("data"),
            expected_version=expected,
        )
        response = Response(TicketSerializer(ticket).data)
        response["ETag"] = base.etag(ticket.version)
        return response


class UnscopedViewSet(base.ReadOnlyViewSet):
    """Forgot to declare its query function: must refuse to run."""

    serializer_class = TicketSerializer


class RaiseView(base.ActorContextMixin, APIView):
    """Raises what ``?what=`` names, to see the error format end to end."""

    def get(self, request: Request) -> Response:
        what = request.query_params.get("what")
        if what == "django_validation":
            raise DjangoValidationError({"phone": ["手机号码格式不正确。"], "__all__": ["请检查后重试。"]})
        if what == "denied_403":
            raise access.AccessDenied(access.Decision(False, "审计岗位只能查看，不能办理。", status=403))
        if what == "denied_404":
            raise access.AccessDenied(access.Decision(False, "whatever the reason, it is not shown", status=404))
        raise RuntimeError("secret internal detail")


def plain_django_view(request: Any) -> Any:
    """Not a DRF view: its crash becomes Django's HTML 500 page, unless the API middleware steps in."""
    raise RuntimeError("crash outside DRF")


router = SimpleRouter()
router.register("staff", StaffCreateViewSet, basename="test-staff")
router.register("tickets", TicketViewSet, basename="test-ticket")
router.register("unscoped", UnscopedViewSet, basename="test-unscoped")

urlpatterns = [
    path("test-api/", include([*router.urls, path("raise/", RaiseView.as_view())])),
    path("api/test-plain/", plain_django_view),
    *site_urlpatterns,
]
