"""The foundation endpoints under ``/api/v1/``. Thin: reads through query functions,
writes through actions, errors through ``pingan.api.errors``."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, generics, mixins, permissions, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from pingan.accounts import actions as account_actions
from pingan.accounts import queries as account_queries
from pingan.accounts.models import CitizenProfile, Post
from pingan.api import base, serializers
from pingan.api import queries as api_queries
from pingan.core import access, timeline
from pingan.core.identity import mask_phone, mask_resident_id
from pingan.core.models import TimelineEvent
from pingan.orgs import queries as org_queries
from pingan.orgs.models import OrgUnit

CODE_REGEX = r"[0-9A-Za-z_-]{1,40}"
ID_REGEX = r"[0-9]{1,18}"


# --- Organisation tree (public) -------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="Org units",
        description=(
            "The organisation tree (public): `?level=city` gives the 16 city bureaus. Departments (警种) "
            "are listed only with `kind=department` or `department=<code>`. An unknown `parent`/`under` "
            "code is a 400."
        ),
        parameters=[serializers.OrgFilterSerializer],
    ),
    retrieve=extend_schema(summary="One org unit, with its parent and children"),
)
class OrgUnitViewSet(base.ReadOnlyViewSet):
    permission_classes = [permissions.AllowAny]
    filter_serializer_class = serializers.OrgFilterSerializer
    serializer_class = serializers.OrgUnitSerializer
    lookup_field = "code"
    lookup_value_regex = CODE_REGEX

    def scoped_queryset(self, user: Any) -> QuerySet[OrgUnit]:
        # Scoped like everything else; the tree's policy is public, so everyone sees all of it.
        if self.action == "list":
            return access.scope(user, org_queries.units_filter(**self.get_filters()))
        return access.scope(user, org_queries.units())

    def get_serializer_class(self) -> type[serializers.OrgUnitSerializer]:
        return serializers.OrgUnitDetailSerializer if self.action == "retrieve" else serializers.OrgUnitSerializer


# --- The signed-in account ----------------------------------------------------------------------------


class MeView(base.ActorContextMixin, generics.GenericAPIView):
    serializer_class = serializers.MeSerializer
    pagination_class = None

    @extend_schema(summary="The signed-in account", responses=serializers.MeSerializer)
    def get(self, request: Request) -> Response:
        user = request.user
        data: dict[str, Any] = {"id": user.pk, "kind": user.kind, "name": user.name}
        data.update(staff=None, citizen=None, partner=None)
        if user.kind == "staff" and hasattr(user, "staff"):
            posts = Post.objects.filter(user=user, is_active=True).select_related("org").order_by("org__path", "role")
            data["staff"] = {"badge_number": user.staff.badge_number, "home_org": user.staff.home_org, "posts": posts}
        elif user.kind == "citizen" and hasattr(user, "citizen"):
            # The citizen's own record, masked even for them (a shared screen shows no full ID);
            # reading one's own data is not logged.
            profile = user.citizen
            data["citizen"] = {
                "id": profile.pk,
                "id_number_masked": mask_resident_id(profile.id_number),
                "phone_masked": mask_phone(profile.phone),
                "home_org": profile.home_org,
            }
        elif user.kind == "partner" and hasattr(user, "partner"):
            partner = user.partner
            data["partner"] = {
                "organisation": partner.organisation,
                "partner_kind": partner.partner_kind,
                "org": partner.org,
            }
        return Response(self.get_serializer(data).data)


# --- Staff ----------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Staff within your jurisdiction", parameters=[serializers.StaffFilterSerializer]),
    retrieve=extend_schema(summary="One staff member, by badge number"),
)
class StaffViewSet(base.ReadOnlyViewSet):
    permission_classes = [base.IsStaff]
    filter_serializer_class = serializers.StaffFilterSerializer
    serializer_class = serializers.StaffSerializer
    lookup_field = "badge_number"
    lookup_url_kwarg = "badge"
    lookup_value_regex = r"[0-9]{6}"

    def scoped_queryset(self, user: Any) -> QuerySet:
        filters = self.get_filters() if self.action == "list" else {}
        return account_queries.staff_directory_for(user, unit=filters.get("org"), role=filters.get("role"))


# --- Citizens (staff only, masked) ------------------------------------------------------------------


MASKED_FIELDS = ["name", "id_number", "phone"]


@extend_schema_view(retrieve=extend_schema(summary="One citizen (identifiers masked)"))
class CitizenViewSet(mixins.RetrieveModelMixin, base.ViewSet):
    permission_classes = [base.IsStaff]
    serializer_class = serializers.CitizenSerializer
    query = staticmethod(account_queries.citizens_for)
    lookup_value_regex = ID_REGEX
    pagination_class = None

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        profile = self.get_object()
        timeline.record_read(profile, fields=MASKED_FIELDS, purpose="api_view_masked")
        return Response(self.get_serializer(profile).data)

    @extend_schema(
        summary="Find a citizen by ID number",
        description="Exact match within your jurisdiction (identifiers masked). A malformed number is a 400 "
        "saying what is wrong; no match (or outside your jurisdiction) is a 404.",
        request=serializers.CitizenLookupSerializer,
        responses=serializers.CitizenSerializer,
    )
    @action(detail=False, methods=["post"])
    def lookup(self, request: Request) -> Response:
        lookup = serializers.CitizenLookupSerializer(data=request.data)
        lookup.is_valid(raise_exception=True)
        profile = account_queries.citizen_by_id_number(request.user, lookup.validated_data["id_number"])
        if profile is None:
            raise exceptions.NotFound()
        timeline.record_read(profile, fields=MASKED_FIELDS, purpose="api_lookup")
        return Response(serializers.CitizenSerializer(profile).data)

    @extend_schema(
        summary="Reveal a citizen's full identifiers",
        description="For roles that may unmask (counter officer, investigator, community officer, station chief) "
        "within jurisdiction; every reveal is recorded on the citizen's timeline. Other roles get a 403.",
        request=serializers.RevealSerializer,
        responses=serializers.RevealedSerializer,
    )
    @action(detail=True, methods=["post"])
    def reveal(self, request: Request, pk: str | None = None) -> Response:
        profile: CitizenProfile = self.get_object()
        body = serializers.RevealSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        identifiers = list(dict.fromkeys(body.validated_data.get("identifiers") or ["id_number", "phone"]))
        revealed = account_actions.personal_data_reveal(viewer=request.user, profile=profile, fields=identifiers)
        return Response(serializers.RevealedSerializer(revealed).data)


# --- Timeline -------------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="Timeline of one object, or of a subtree",
        description=(
            "With `subject_type` and `subject_id`: the history of one object you may view, oldest first "
            "(an unknown type or object, or one you may not view, is the same 404). With `org`: auditors and "
            "administrators see every event in that unit's subtree within their jurisdiction, newest first."
        ),
        parameters=[serializers.TimelineFilterSerializer],
    )
)
class TimelineViewSet(base.ActorContextMixin, base.FilterMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = serializers.TimelineEventSerializer
    filter_serializer_class = serializers.TimelineFilterSerializer

    def get_queryset(self) -> QuerySet[TimelineEvent]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request to scope by
            return TimelineEvent.objects.none()
        filters = self.get_filters()
        user = self.request.user
        if "org" in filters:
            events = api_queries.timeline_for_org(user, filters["org"])
        else:
            events = api_queries.timeline_for_subject(user, filters["subject_type"], filters["subject_id"])
        if filters.get("action"):
            events = events.filter(action=filters["action"])
        return events
