"""Writes to accounts: creating staff, citizens and partners; posts; personal-data reveals."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import django_otp
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from pingan.accounts import signin
from pingan.accounts.models import CitizenProfile, Kind, PartnerProfile, Post, StaffProfile, User
from pingan.core import access, bulk, timeline
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


def _require_administrator(actor: Any, org: OrgUnit) -> None:
    """An acting user (``None``: the system, e.g. the seed) must be an administrator over ``org``."""
    if actor is not None:
        access.require(actor, "act", org, role="administrator")


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
    # Checked before the transaction opens: a refusal stays logged on the timeline.
    _require_administrator(actor, home_org)
    with transaction.atomic():
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
            user,
            "accounts.staff_created",
            actor=actor,
            org_path=home_org.path,
            data={"org": home_org.code, "roles": roles},
        )
        return user


def post_add(*, user: User, org: OrgUnit, role: str, actor: Any = None, started_on: dt.date | None = None) -> Post:
    """Give a staff member another post (a staff member may hold several)."""
    _require_administrator(actor, org)
    with transaction.atomic():
        _check_roles([role])
        if user.kind != Kind.STAFF:
            raise ValidationError(_("只有民警账号可以任职。"), code="not_staff")
        post, created = Post.objects.get_or_create(user=user, org=org, role=role, defaults={"started_on": started_on})
        if not created and not post.is_active:
            post.is_active = True
            post.save(update_fields=["is_active"])
        user.__dict__.pop("_posts", None)
        timeline.record(
            user, "accounts.post_added", actor=actor, org_path=org.path, data={"org": org.code, "role": role}
        )
        return post


def post_end(*, post: Post, actor: Any = None) -> Post:
    if actor is not None:
        access.require(actor, "act", post, role="administrator")
    with transaction.atomic():
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
    # "name" lives on the account; the identifiers on the profile.
    return {field: getattr(profile.user if field == "name" else profile, field) for field in fields}


@dataclass(frozen=True)
class StaffData:
    """A staff member for the bulk path: badge, name, home unit and posts (unit, role)."""

    badge_number: str
    name: str
    home_org: OrgUnit
    posts: tuple[tuple[OrgUnit, str], ...]


def _common_path(paths: Iterable[str]) -> str:
    """The deepest org path every path in ``paths`` lies under ("37/" at worst)."""
    paths = list(paths)
    if not paths:
        return "37/"
    first, last = min(paths), max(paths)
    common = first[: next((i for i, (a, b) in enumerate(zip(first, last, strict=False)) if a != b), len(first))]
    return common[: common.rfind("/") + 1] or "37/"


def staff_bulk_create(rows: Sequence[StaffData], *, batch_size: int = 2000, actor: Any = None) -> int:
    """Bulk path for synthetic demo and benchmark staff, with the checks of ``staff_create``
    (6-digit badges unused and not repeated, known roles, a name). Passwords are unusable;
    one timeline event records the batch."""
    for org in {row.home_org.pk: row.home_org for row in rows}.values():
        _require_administrator(actor, org)
    with transaction.atomic():
        return _staff_bulk_insert(rows, batch_size=batch_size, actor=actor)


def _staff_bulk_insert(rows: Sequence[StaffData], *, batch_size: int, actor: Any) -> int:
    badges = [_check_badge(row.badge_number) for row in rows]
    seen: set[str] = set()
    for badge in badges:
        if badge in seen:
            raise ValidationError(_("警号 %(badge)s 已被使用。") % {"badge": badge}, code="badge_taken")
        seen.add(badge)
    _check_roles(sorted({role for row in rows for _org, role in row.posts}))
    if any(not row.name.strip() for row in rows):
        raise ValidationError(_("请填写姓名。"), code="name")
    for start in range(0, len(badges), 10000):
        taken = User.objects.filter(username__in=badges[start : start + 10000]).values_list("username", flat=True)
        for badge in taken[:1]:
            raise ValidationError(_("警号 %(badge)s 已被使用。") % {"badge": badge}, code="badge_taken")
    users = [
        User(username=badge, kind=Kind.STAFF, name=row.name.strip(), password=UNUSABLE)
        for badge, row in zip(badges, rows, strict=True)
    ]
    User.objects.bulk_create(users, batch_size=batch_size)
    StaffProfile.objects.bulk_create(
        [
            StaffProfile(user=user, badge_number=user.username, home_org=row.home_org)
            for user, row in zip(users, rows, strict=True)
        ],
        batch_size=batch_size,
    )
    Post.objects.bulk_create(
        [Post(user=user, org=org, role=role) for user, row in zip(users, rows, strict=True) for org, role in row.posts],
        batch_size=batch_size,
    )
    if rows:
        timeline.record(
            ("accounts.staff", "bulk"),
            "accounts.staff_bulk_created",
            actor=actor,
            data={"count": len(rows), "badges": [badges[0], badges[-1]]},
            org_path=_common_path(row.home_org.path for row in rows),
        )
    return len(rows)


@transaction.atomic
def password_set(*, user: User, password: str, actor: Any = None) -> User:
    """Set an account's password (checked by the configured validators)."""
    from django.contrib.auth import password_validation

    locked = User.objects.select_for_update().get(pk=user.pk)
    password_validation.validate_password(password, locked)
    locked.set_password(password)
    locked.save(update_fields=["password"])
    timeline.record(locked, "accounts.password_set", actor=actor)
    return locked


@transaction.atomic
def citizens_bulk_insert(
    rows: Sequence[CitizenData],
    *,
    home_orgs: Sequence[OrgUnit],
    registered_at: Sequence[dt.datetime] | None = None,
) -> int:
    """The bulk path of ``citizens_bulk_register`` for benchmark-sized seeding (10^5–10^6
    people): the same stored values (identifiers encrypted, keyed hashes, unusable password,
    field defaults), written as rows (``core.bulk``) instead of model instances. Rows must
    be validated and unique. One timeline event records the batch."""
    if not rows:
        return 0
    usernames = [f"c{secrets.token_hex(8)}" for _row in rows]
    user_ids = bulk.insert_rows(
        User,
        ["username", "name", "kind", "password"],
        [(username, row.name, Kind.CITIZEN, UNUSABLE) for username, row in zip(usernames, rows, strict=True)],
    )
    now = timezone.now()
    registered = registered_at if registered_at is not None else [now] * len(rows)  # else: as for a sign-up
    bulk.insert_rows(
        CitizenProfile,
        ["user_id", "id_number", "id_number_hash", "phone", "phone_hash", "birth_date", "sex", "county_code",
         "home_org_id", "created_at"],
        [
            (user_id, row.id_number, blind_index(row.id_number, purpose="id_number"), row.phone,
             blind_index(row.phone, purpose="phone"), row.birth_date, row.sex, row.county_code, org.pk, opened)
            for user_id, row, org, opened in zip(user_ids, rows, home_orgs, registered, strict=True)
        ],
    )  # fmt: skip
    timeline.record(
        ("accounts.citizens", "bulk"), "accounts.citizens_bulk_registered", data={"count": len(rows)}, org_path="37/"
    )
    return len(rows)


# --- Sign-in, second factor, passwords ------------------------------------------------
# The sign-in record never holds a password or a raw ID or mobile number: the subject is
# the account when the identifier names one, else a keyed hash of what was typed.


def _signin_subject(identifier: str, user: User | None) -> Any:
    if user is not None:
        return user
    return ("accounts.signin", signin.resolve(identifier)[1])


def signin_record_failure(
    *, reason: str, identifier: str = "", user: User | None = None, step: str = "password"
) -> None:
    """A refused sign-in attempt (``reason``: bad_credentials, locked_out, bad_token, throttled)."""
    if user is None:
        user = signin.resolve(identifier)[0]
    timeline.record(
        _signin_subject(identifier, user),
        "accounts.signin_failed",
        actor=None,
        data={
            "reason": reason,
            "step": step,
            "identifier_kind": signin.identifier_kind(identifier) if identifier else "",
        },
    )


def signin_record_success(*, user: User, second_factor: str = "") -> None:
    timeline.record(user, "accounts.signed_in", actor=user, data={"second_factor": second_factor})


def signout_record(*, user: User) -> None:
    timeline.record(user, "accounts.signed_out", actor=user)


def totp_device_prepare(*, user: User) -> TOTPDevice:
    """The staff member's TOTP device awaiting confirmation (created with a fresh key if none).

    A confirmed device stays in force until the new one is confirmed with a valid token.
    """
    if user.kind != Kind.STAFF:
        raise ValidationError(_("只有民警账号需要设置动态口令。"), code="not_staff")
    with transaction.atomic():
        User.objects.select_for_update().get(pk=user.pk)  # two tabs must not create two devices
        device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="pingan", confirmed=False)
        return device


@dataclass(frozen=True)
class TokenCheck:
    """The outcome of a TOTP token check: the device that accepted it, or why not."""

    device: TOTPDevice | None
    throttled_until: dt.datetime | None = None

    @property
    def ok(self) -> bool:
        return self.device is not None


def totp_token_check(*, user: User, device: TOTPDevice, token: str) -> TokenCheck:
    """Check a token against one of the user's devices; confirming the device if it was new.

    Deliberately not one transaction: a wrong token must leave django-otp's throttling
    counter raised (the next attempt waits 1, 2, 4, 8... seconds), so the failure is
    committed, not rolled back with an exception.
    """
    if device.user_id != user.pk:
        raise ValueError("device of another user")
    fresh = TOTPDevice.objects.get(pk=device.pk)
    allowed, info = fresh.verify_is_allowed()
    if not allowed:
        until = (info or {}).get("locked_until")
        signin_record_failure(reason="throttled", user=user, step="totp")
        return TokenCheck(None, throttled_until=until)
    verified = django_otp.verify_token(user, device.persistent_id, token)
    if verified is None:
        signin_record_failure(reason="bad_token", user=user, step="totp")
        return TokenCheck(None)
    if not verified.confirmed:
        with transaction.atomic():
            confirmed = TOTPDevice.objects.select_for_update().get(pk=verified.pk)
            confirmed.confirmed = True
            confirmed.save(update_fields=["confirmed"])
            replaced = TOTPDevice.objects.filter(user=user).exclude(pk=confirmed.pk).delete()[0]
            timeline.record(user, "accounts.totp_confirmed", actor=user, data={"replaced": replaced})
        verified = confirmed
    return TokenCheck(verified)


def totp_device_reset(*, user: User, actor: Any) -> int:
    """Remove a staff member's TOTP devices (lost phone): the next sign-in sets up a new one.

    Only an administrator over the staff member's unit may do it for someone else
    (``actor=None``: the system, i.e. an operator's ``manage.py totp_reset``).
    """
    if actor is not None and getattr(actor, "pk", None) != user.pk:
        staff = StaffProfile.objects.select_related("home_org").get(user=user)
        access.require(actor, "act", staff, role="administrator")
    with transaction.atomic():
        removed = TOTPDevice.objects.filter(user=user).delete()[0]
        timeline.record(user, "accounts.totp_reset", actor=actor, data={"removed": removed})
        return removed


def password_change(*, user: User, old_password: str, new_password: str) -> User:
    """The account holder changes their password: the old one first, then the validators."""
    if not User.objects.get(pk=user.pk).check_password(old_password):
        raise ValidationError({"old_password": [_("原密码不正确。")]}, code="old_password")
    try:
        return password_set(user=user, password=new_password, actor=user)
    except ValidationError as error:
        raise ValidationError({"new_password1": error.messages}, code="password") from None
