"""``GET /api/v1/inbox/``: the signed-in officer's "my work" — every module's waiting items,
overdue first then by deadline, with the count of each kind."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from pingan.api import base, routes
from pingan.inbox import queries


class InboxFilter(serializers.Serializer):
    kind = serializers.CharField(required=False, max_length=40, help_text="only entries of this kind")
    limit = serializers.IntegerField(required=False, min_value=1, max_value=500, default=100)

    def validate_kind(self, value: str) -> str:
        if value not in {source.key for source in queries.all_sources()}:
            raise serializers.ValidationError(f"unknown kind {value!r}", code="unknown_kind")
        return value


class EntrySerializer(serializers.Serializer):
    kind = serializers.CharField()
    title = serializers.CharField()
    url = serializers.CharField(help_text="the page of the item")
    reference = serializers.CharField()
    unit_name = serializers.CharField()
    state_label = serializers.CharField()
    due_at = serializers.DateTimeField(allow_null=True)
    deadline_state = serializers.CharField(help_text='"", running, warning, overdue, paused or stopped')


class KindSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()


class InboxSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    kinds = KindSerializer(many=True)
    entries = EntrySerializer(many=True)


class InboxView(base.ActorContextMixin, base.FilterMixin, generics.GenericAPIView):
    permission_classes = [base.IsStaff]
    filter_serializer_class = InboxFilter
    pagination_class = None

    @extend_schema(parameters=[InboxFilter], responses=InboxSerializer)
    def get(self, request: Request) -> Response:
        filters = self.get_filters()
        page = queries.inbox_for(request.user, kind=filters.get("kind"), limit=filters.get("limit", 100))
        return Response(InboxSerializer({"total": page.total, "kinds": page.kinds, "entries": page.entries}).data)


routes.add_path(path("inbox/", InboxView.as_view(), name="inbox"))
