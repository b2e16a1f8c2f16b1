"""Serializers of the foundation endpoints: shapes only — reads come from query functions,
writes go through actions."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from pingan.accounts.models import Kind as AccountKind
from pingan.core.catalog import roles as role_catalog
from pingan.core.catalog import staff_roles
from pingan.core.identity import mask_phone, mask_resident_id, parse_resident_id
from pingan.core.models import TimelineEvent
from pingan.orgs import queries as org_queries
from pingan.orgs.models import UNIT_FIELDS, Level, OrgUnit
from pingan.orgs.models import Kind as OrgKind

CODE_MAX_LENGTH = 40


def role_name(code: str) -> str:
    role = role_catalog().get(code)
    return role.name if role is not None else code


class OrgCodeField(serializers.CharField):
    """An org unit's code in, the active ``OrgUnit`` out; an unknown code is a 400 that says so."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", CODE_MAX_LENGTH)
        super().__init__(**kwargs)

    def run_validation(self, data: Any = serializers.empty) -> OrgUnit:
        code = super().run_validation(data)  # a valid code string first (type, length, no NUL)
        try:
            return org_queries.unit_get(code)
        except OrgUnit.DoesNotExist:
            raise serializers.ValidationError(
                _("没有代码为 %(code)s 的单位，请检查单位代码。") % {"code": code}, code="unknown_org"
            ) from None


# --- Organisation tree ------------------------------------------------------------------------


class OrgRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrgUnit
        fields = ["code", "name", "level", "kind"]
        read_only_fields = fields


class OrgUnitSerializer(serializers.ModelSerializer):
    parent = serializers.SerializerMethodField(help_text="code of the parent unit (null for the province)")

    class Meta:
        model = OrgUnit
        fields = ["code", *UNIT_FIELDS]
        read_only_fields = fields

    def get_parent(self, unit: OrgUnit) -> str | None:
        # From the materialised path: no query per row.
        codes = unit.ancestor_codes
        return codes[-2] if len(codes) > 1 else None


class OrgUnitDetailSerializer(OrgUnitSerializer):
    parent_unit = serializers.SerializerMethodField()
    children = serializers.SerializerMethodField(help_text="direct children, departments included")
    descendants = serializers.SerializerMethodField(help_text="units under this one, by level (departments excluded)")

    class Meta(OrgUnitSerializer.Meta):
        fields = [*OrgUnitSerializer.Meta.fields, "parent_unit", "children", "descendants"]
        read_only_fields = fields

    @extend_schema_field(OrgRefSerializer(allow_null=True))
    def get_parent_unit(self, unit: OrgUnit) -> dict[str, Any] | None:
        parent = org_queries.units().filter(pk=unit.parent_id).first() if unit.parent_id else None
        return OrgRefSerializer(parent).data if parent is not None else None

    @extend_schema_field(OrgRefSerializer(many=True))
    def get_children(self, unit: OrgUnit) -> list[dict[str, Any]]:
        return list(OrgRefSerializer(org_queries.children(unit, departments=True).order_by("path"), many=True).data)

    @extend_schema_field(serializers.DictField(child=serializers.IntegerField()))
    def get_descendants(self, unit: OrgUnit) -> dict[str, int]:
        return org_queries.descendant_counts(unit)


class OrgFilterSerializer(serializers.Serializer):
    level = serializers.ChoiceField(choices=Level.choices, required=False, help_text="province, city, county…")
    kind = serializers.ChoiceField(
        choices=OrgKind.choices, required=False, help_text="departments are listed only with kind=department"
    )
    parent = OrgCodeField(required=False, help_text="code of the parent: its direct children")
    under = OrgCodeField(required=False, help_text="code of a unit: its whole subtree (itself included)")
    q = serializers.CharField(required=False, max_length=50, help_text="part of the name")
    department = serializers.ChoiceField(choices=[], required=False, help_text="department (警种) code")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = list(org_queries.departments().items())


# --- Accounts ---------------------------------------------------------------------------------


class PostSerializer(serializers.Serializer):
    org = serializers.CharField(source="org.code", help_text="org unit code")
    org_name = serializers.CharField(source="org.name")
    role = serializers.CharField()
    role_name = serializers.SerializerMethodField()

    def get_role_name(self, post: Any) -> str:
        return role_name(post.role)


class StaffSerializer(serializers.Serializer):
    badge_number = serializers.CharField()
    name = serializers.CharField(source="user.name")
    home_org = OrgRefSerializer()
    posts = serializers.SerializerMethodField(help_text="active posts")

    @extend_schema_field(PostSerializer(many=True))
    def get_posts(self, staff: Any) -> list[dict[str, Any]]:
        posts = getattr(staff.user, "active_posts", None)
        if posts is None:
            posts = staff.user.posts.filter(is_active=True).select_related("org").order_by("org__path", "role")
        return list(PostSerializer(posts, many=True).data)


class StaffFilterSerializer(serializers.Serializer):
    org = OrgCodeField(required=False, help_text="code of a unit: staff based anywhere in its subtree")
    role = serializers.ChoiceField(choices=[], required=False, help_text="staff holding this role (active post)")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(code, role.name) for code, role in staff_roles().items()]


class CitizenSerializer(serializers.Serializer):
    """A citizen as staff see them by default: identifiers masked."""

    id = serializers.IntegerField(help_text="citizen record id")
    account = serializers.IntegerField(source="user_id", help_text="account id")
    name = serializers.CharField(source="user.name")
    id_number_masked = serializers.SerializerMethodField()
    phone_masked = serializers.SerializerMethodField()
    home_org = OrgRefSerializer()

    def get_id_number_masked(self, profile: Any) -> str:
        return mask_resident_id(profile.id_number)

    def get_phone_masked(self, profile: Any) -> str:
        return mask_phone(profile.phone)


class CitizenLookupSerializer(serializers.Serializer):
    id_number = serializers.CharField(max_length=30, help_text="18-character resident ID number (GB 11643)")

    def validate_id_number(self, value: str) -> str:
        try:
            return parse_resident_id(value).number
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None


IDENTIFIERS = [("id_number", "id_number"), ("phone", "phone")]


class RevealSerializer(serializers.Serializer):
    """Which identifiers to reveal."""

    identifiers = serializers.ListField(
        child=serializers.ChoiceField(choices=IDENTIFIERS),
        required=False,
        min_length=1,
        max_length=2,
        help_text="which identifiers to reveal (default: both)",
    )


class RevealedSerializer(serializers.Serializer):
    """Full identifiers (only those asked for)."""

    id_number = serializers.CharField(required=False)
    phone = serializers.CharField(required=False)


class MeStaffSerializer(serializers.Serializer):
    badge_number = serializers.CharField()
    home_org = OrgRefSerializer()
    posts = PostSerializer(many=True)


class MeCitizenSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    id_number_masked = serializers.CharField()
    phone_masked = serializers.CharField()
    home_org = OrgRefSerializer()


class MePartnerSerializer(serializers.Serializer):
    organisation = serializers.CharField()
    partner_kind = serializers.CharField()
    org = OrgRefSerializer()


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=AccountKind.choices)
    name = serializers.CharField()
    staff = MeStaffSerializer(allow_null=True)
    citizen = MeCitizenSerializer(allow_null=True)
    partner = MePartnerSerializer(allow_null=True)


# --- Timeline -----------------------------------------------------------------------------------


class TimelineFilterSerializer(serializers.Serializer):
    subject_type = serializers.CharField(required=False, max_length=100, help_text='model label, e.g. "orgs.orgunit"')
    subject_id = serializers.CharField(required=False, max_length=64)
    org = OrgCodeField(required=False, help_text="auditors and administrators: every event in this unit's subtree")
    action = serializers.CharField(
        required=False, max_length=100, help_text='only this event type, e.g. "access.denied"'
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        has_subject = "subject_type" in attrs or "subject_id" in attrs
        if has_subject and not ("subject_type" in attrs and "subject_id" in attrs):
            raise serializers.ValidationError(_("subject_type 和 subject_id 需同时提供。"))
        if not has_subject and "org" not in attrs:
            raise serializers.ValidationError(_("请提供 subject_type 和 subject_id，或（审计、管理岗位）提供 org。"))
        if has_subject and "org" in attrs:
            raise serializers.ValidationError(_("subject_type/subject_id 与 org 只能二选一。"))
        return attrs


class TimelineEventSerializer(serializers.ModelSerializer):
    ip = serializers.SerializerMethodField(help_text="client address; shown to staff only")

    class Meta:
        model = TimelineEvent
        fields = [
            "id",
            "occurred_at",
            "action",
            "actor_id",
            "actor_label",
            "subject_type",
            "subject_id",
            "org_path",
            "channel",
            "ip",
            "request_id",
            "data",
            "hash",
        ]
        read_only_fields = fields

    def get_ip(self, event: TimelineEvent) -> str | None:
        request = self.context.get("request")
        if request is None or getattr(request.user, "kind", None) != "staff":
            return None
        return event.ip
