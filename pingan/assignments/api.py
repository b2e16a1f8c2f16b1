"""``/api/v1/assignments/``: supervised tasks for integrations (and the wall charts of other
systems): list and detail in the caller's jurisdiction, create (idempotent), and workflow
transitions with optimistic concurrency (``If-Match``)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from pingan.api import base, routes
from pingan.api.serializers import OrgCodeField, OrgRefSerializer
from pingan.assignments import actions, queries
from pingan.assignments.models import MAX_WORKING_DAYS, Assignment
from pingan.core import workflow


def _state_choices() -> list[tuple[str, str]]:
    wf = workflow.get(Assignment.workflow_code)
    return [(code, state.name_en) for code, state in wf.states.items()]


class AssignmentSerializer(serializers.ModelSerializer):
    org = OrgRefSerializer(read_only=True)
    issuer_org = OrgRefSerializer(read_only=True)
    state_name = serializers.CharField(read_only=True, help_text="the state's name in the caller's language")
    plan = serializers.SlugRelatedField(slug_field="code", read_only=True)
    area = serializers.CharField(source="area.name", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Assignment
        fields = [
            "reference", "title", "description", "plan", "area", "key_task", "issuer_org", "org", "working_days",
            "state", "state_name", "version", "due_at", "deadline_state", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class AssignmentFilter(serializers.Serializer):
    state = serializers.ChoiceField(choices=[], required=False)
    overdue = serializers.BooleanField(required=False, default=False, help_text="only items past their deadline")
    under = OrgCodeField(required=False, help_text="code of a unit: tasks of its whole subtree")
    search = serializers.CharField(required=False, max_length=100, help_text="words of the title, or a reference")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = _state_choices()


class AssignmentCreateSerializer(serializers.Serializer):
    title = serializers.CharField(min_length=2, max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")
    org = OrgCodeField(help_text="code of the responsible unit (a bureau or station in your jurisdiction)")
    working_days = serializers.IntegerField(min_value=1, max_value=MAX_WORKING_DAYS)
    key_task = serializers.BooleanField(required=False, default=False)


class TransitionSerializer(serializers.Serializer):
    action = serializers.CharField(max_length=40, help_text="a workflow action, e.g. assign, accept, report")
    data = serializers.DictField(required=False, allow_null=True, help_text="the input the action asks for")
    version = serializers.IntegerField(required=False, min_value=0, help_text="or send If-Match")


@extend_schema_view(list=extend_schema(parameters=[AssignmentFilter]))
class AssignmentViewSet(base.VersionedMixin, base.ReadOnlyViewSet):
    permission_classes = [base.IsStaff]
    query = staticmethod(queries.assignments_for)
    filter_serializer_class = AssignmentFilter
    serializer_class = AssignmentSerializer
    lookup_field = "reference"
    lookup_value_regex = r"JB[0-9]{4,20}"
    idempotent_actions = ("create",)
    versioned_actions = ("transition",)
    extra_error_codes = {"transition": [409, 422], "create": [403]}

    @extend_schema(request=AssignmentCreateSerializer, responses={201: AssignmentSerializer})
    def create(self, request: Request) -> Response:
        """A draft task for a unit in your jurisdiction (chiefs and bureau leaders); send
        ``Idempotency-Key`` so a retry never creates a second one."""
        return base.idempotent(request, lambda: self._create(request))

    def _create(self, request: Request) -> Response:
        body = AssignmentCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        item = actions.assignment_create(actor=request.user, **body.validated_data)
        response = Response(
            AssignmentSerializer(item, context={"request": request}).data, status=status.HTTP_201_CREATED
        )
        response["ETag"] = base.etag(item.version)
        return response

    @extend_schema(request=TransitionSerializer, responses=AssignmentSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, reference: str | None = None) -> Response:
        item = self.get_object()
        body = TransitionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        actions.assignment_advance(
            assignment=item,
            action=body.validated_data["action"],
            actor=request.user,
            data=body.validated_data.get("data"),
            expected_version=self.expected_version(request),
        )
        response = Response(AssignmentSerializer(item, context={"request": request}).data)
        response["ETag"] = base.etag(item.version)
        return response


routes.register("assignments", AssignmentViewSet, basename="assignment")
