"""Writes to accounts: creating staff, citizens and partners; posts; personal-data reveals."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from pingan.accounts.models import CitizenProfile, Kind, PartnerProfile, Post, StaffProfile, User
from pingan.core import access, timeline
from pingan.core.catalog import staff_roles
from pingan.core.identity import blind_index, normalize_mobile, parse_resident_id
from pingan.orgs.models import Kind as OrgKind
from pingan.orgs.models import Level, OrgUnit


def _check_roles(roles: Iterable[str]) -> list[str]:
    roles = list(roles)
    unknown = sorted(set(roles) - set(staff_roles()))
    if unknown:
        raise ValidationError(_("未知角色：%(roles)s") % {"roles": "、".join(unknown)}, code="role")
    return roles


def _check_badge(badge_number: str) -> str:
    badge_number = (badge_number or "").strip()
    if not (len(badge_number) == 6 and badge_number.isdigit()):
        raise ValidationError(_("警号应为6位数字。"), code="badge")
    return badge_number


@transaction.atomic
def staff_create(
    *,
    badge_number: str,
    name: str,
    home_org: OrgUnit,
    roles: Sequence[str] = (),
    password: str | None = None,
    actor: Any = None,
) -> User:
    """A staff account with posts at ``home_org`` for each role (the badge is the username)."""
    badge_number = _check_badge(badge_number)
    roles = _check_roles(roles)
    if not name.strip():
        raise ValidationError(_("请填写姓名。"), code="name")
    if User.objects.filter(username=badge_number).exists():
        raise ValidationError(_("警号 %(badge)s 已被使用。") % {"badge": badge_number}, code="badge_taken")
    user = User(username=badge_number, kind=Kind.STAFF, name=name.strip())
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    StaffProfile.objects.create(user=user, badge_number=badge_number, home_org=home_org)
    for role in roles:
        Post.objects.create(user=user, org=home_org, role=role)
    timeline.record(
        user, "accounts.staff_created", actor=actor, org_path=home_org.path, data={"org": home_org.code, "roles": roles}
    )
    return user


@transaction.atomic
def post_add(*, user: User, org: OrgUnit, role: str, actor: Any = None, started_on: dt.date | None = None) -> Post:
    """Give a staff member another post (a staff member may hold several)."""
    _check_roles([role])
    if user.kind != Kind.STAFF:
        raise ValidationError(_("只有民警账号可以任职。"), code="not_staff")
    post, created = Post.objects.get_or_create(user=user, org=org, role=role, defaults={"started_on": started_on})
    if not created and not post.is_active:
        post.is_active = True
        post.save(update_fields=["is_active"])
    user.__dict__.pop("_posts", None)
    timeline.record(user, "accounts.post_added", actor=actor, org_path=org.path, data={"org": org.code, "role": role})
    return post


@transaction.atomic
def post_end(*, post: Post, actor: Any = None) -> Post:
    locked = Post.objects.select_for_update().get(pk=post.pk)
    if locked.is_active:
        locked.is_active = False
        locked.save(update_fields=["is_active"])
        timeline.record(
            locked.user,
            "accounts.post_ended",
            actor=actor,
            org_path=locked.org.path,
            data={"org": locked.org.code, "role": locked.role},
        )
    return locked


def home_org_for_county(county_code: str) -> OrgUnit:
    """The county bureau serving an ID's county code; the province for codes outside Shandong."""
    unit = OrgUnit.objects.filter(code=county_code, level=Level.COUNTY).exclude(kind=OrgKind.DEPARTMENT).first()
    if unit is None and county_code.startswith("37"):
        # Abolished Shandong codes (e.g. 3712xx, 莱芜 before 2019) go to their city if it still exists.
        unit = OrgUnit.objects.filter(code=county_code[:4], level=Level.CITY).first()
    return unit or OrgUnit.objects.get(depth=0)


@dataclass(frozen=True)
class CitizenData:
    """Validated real-name data, ready to store."""

    name: str
    id_number: str
    phone: str
    birth_date: dt.date
    sex: str
    county_code: str


def citizen_data_clean(*, name: str, id_number: str, phone: str) -> CitizenData:
    """Validate a citizen's real-name data; raises ValidationError with every problem found."""
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name or len(name) > 50:
        errors["name"] = [_("请填写与身份证一致的姓名（不超过50个字）。")]
    parsed = None
    try:
        parsed = parse_resident_id(id_number)
    except ValidationError as error:
        errors["id_number"] = error.messages
    clean_phone = ""
    try:
        clean_phone = normalize_mobile(phone)
    except ValidationError as error:
        errors["phone"] = error.messages
    if errors:
        raise ValidationError(errors)
    assert parsed is not None
    return CitizenData(
        name=name,
        id_number=parsed.number,
        phone=clean_phone,
        birth_date=parsed.birth_date,
        sex=parsed.sex,
        county_code=parsed.county_code,
    )


@transaction.atomic
def citizen_register(
    *, name: str, id_number: str, phone: str, password: str | None, home_org: OrgUnit | None = None, actor: Any = None
) -> User:
    """A real-name citizen account. One account per ID number and per mobile number."""
    data = citizen_data_clean(name=name, id_number=id_number, phone=phone)
    id_hash = blind_index(data.id_number, purpose="id_number")
    phone_hash = blind_index(data.phone, purpose="phone")
    errors: dict[str, list[str]] = {}
    if CitizenProfile.objects.filter(id_number_hash=id_hash).exists():
        errors["id_number"] = [_("该身份证号码已注册，请直接登录或找回密码。")]
    if CitizenProfile.objects.filter(phone_hash=phone_hash).exists():
        errors["phone"] = [_("该手机号码已被其他账号使用。")]
    if errors:
        raise ValidationError(errors)
    user = User(username=f"c{secrets.token_hex(8)}", kind=Kind.CITIZEN, name=data.name)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    org = home_org or home_org_for_county(data.county_code)
    try:
        with transaction.atomic():
            profile = CitizenProfile.objects.create(
                user=user,
                id_number=data.id_number,
                id_number_hash=id_hash,
                phone=data.phone,
                phone_hash=phone_hash,
                birth_date=data.birth_date,
                sex=data.sex,
                county_code=data.county_code,
                home_org=org,
            )
    except IntegrityError:
        # Two sign-ups with the same ID raced past the checks above.
        raise ValidationError({"id_number": [_("该身份证号码已注册，请直接登录或找回密码。")]}) from None
    timeline.record(profile, "accounts.citizen_registered", actor=actor or user, org_path=org.path)
    return user


UNUSABLE = make_password(None)


@transaction.atomic
def citizens_bulk_register(rows: Sequence[CitizenData], *, home_orgs: Sequence[OrgUnit], batch_size: int = 2000) -> int:
    """Bulk path for synthetic demo and benchmark data: rows are already validated and unique.

    Passwords are unusable (demo citizens other than the documented accounts cannot sign in).
    One timeline event records the batch.
    """
    users = [
        User(username=f"c{secrets.token_hex(8)}", kind=Kind.CITIZEN, name=row.name, password=UNUSABLE) for row in rows
    ]
    User.objects.bulk_create(users, batch_size=batch_size)
    profiles = []
    for user, row, org in zip(users, rows, home_orgs, strict=True):
        profile = CitizenProfile(
            user=user,
            id_number_hash=blind_index(row.id_number, purpose="id_number"),
            phone_hash=blind_index(row.phone, purpose="phone"),
            birth_date=row.birth_date,
            sex=row.sex,
            county_code=row.county_code,
            home_org=org,
        )
        # The encrypted fields encrypt on insert, as for a single save.
        profile.id_number = row.id_number
        profile.phone = row.phone
        profiles.append(profile)
    CitizenProfile.objects.bulk_create(profiles, batch_size=batch_size)
    timeline.record(
        ("accounts.citizens", "bulk"), "accounts.citizens_bulk_registered", data={"count": len(rows)}, org_path="37/"
    )
    return len(rows)


@transaction.atomic
def partner_create(
    *,
    username: str,
    organisation: str,
    partner_kind: str,
    credit_code: str,
    org: OrgUnit,
    password: str | None = None,
    actor: Any = None,
) -> User:
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": [_("用户名已被使用。")]})
    user = User(username=username, kind=Kind.PARTNER, name=organisation)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    PartnerProfile.objects.create(
        user=user, organisation=organisation, partner_kind=partner_kind, credit_code=credit_code, org=org
    )
    timeline.record(user, "accounts.partner_created", actor=actor, org_path=org.path, data={"org": org.code})
    return user


def personal_data_reveal(
    *, viewer: Any, profile: CitizenProfile, fields: Sequence[str] = ("id_number", "phone")
) -> dict[str, str]:
    """Full identifiers of a citizen for a viewer allowed to see them; every reveal is logged."""
    if not access.can_unmask(viewer, profile):
        decision = access.check(viewer, "view", profile)
        if decision:
            decision = access.Decision(False, _("您的岗位不能查看完整证件号码和手机号码。"), status=403)
        access.log_denial(viewer, "unmask", profile, decision)
        raise access.AccessDenied(decision)
    timeline.record_read(profile, fields=list(fields), actor=viewer, purpose="unmask")
    return {field: getattr(profile, field) for field in fields}
