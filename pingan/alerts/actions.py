"""Writes of alerts: subscriptions, publishing, widening the push, withdrawing, clues.

    from pingan.alerts import actions as alerts
    from pingan.core import geo

    alert = alerts.alert_publish(subject_type="reunion.record", subject_id="XR2025000123",
                                 title="紧急寻找走失儿童：王**，男，6岁", body="……",
                                 origin=geo.point(36.65, 117.12), missing_since=moment,
                                 org=county_bureau, actor=investigator)
    alerts.alerts_widen_due()        # the worker's job: widens every active alert on schedule
    alerts.alert_withdraw(alert=alert, reason="found", actor=investigator)

Every refusal is an exception: ``access.AccessDenied`` (not a publisher here),
``ValidationError`` (bad input, per field) or :class:`AlertRefused` (wrong state). Nothing
is stored when one is raised.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from pingan.alerts import events as alert_events
from pingan.alerts import schedule
from pingan.alerts.models import (
    Alert,
    AlertDelivery,
    AlertState,
    Clue,
    ClueState,
    Subscription,
    WithdrawReason,
)
from pingan.core import access, events, geo, timeline
from pingan.core.identity import normalize_mobile
from pingan.notify import actions as notify
from pingan.orgs.models import OrgUnit

log = logging.getLogger(__name__)

MAX_TITLE, MAX_BODY = 100, 2000
MAX_CLUE_TEXT, MAX_PLACE, MAX_NOTE = 2000, 200, 500
PHOTO_MAX_BYTES = 5 * 1024 * 1024
# Magic numbers of the accepted photo types: the name alone proves nothing.
PHOTO_SIGNATURES = {"jpg": (b"\xff\xd8\xff",), "jpeg": (b"\xff\xd8\xff",), "png": (b"\x89PNG\r\n\x1a\n",)}
PHOTO_CONTENT_TYPES = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png"}
# Clock skew allowed between a browser or another server and this one.
SKEW = dt.timedelta(minutes=5)
# A push after the radius stopped growing looks only at subscriptions changed since the
# previous push began, less this margin (a save committed a little after its timestamp).
CHANGE_MARGIN = dt.timedelta(minutes=10)
# Stored points are rounded to 0.01° (about 1 km): plenty for a 100 km radius, and less to keep.
POINT_DECIMALS = 2
REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
BATCH = 5000


class AlertRefused(Exception):
    """An alert action refused for the alert's state; ``message`` is for the person."""

    status = 409

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def _invalid(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


# --- Who may publish ------------------------------------------------------------------


def publisher_posts(actor: Any, org: OrgUnit) -> list[access.Post]:
    """The actor's posts that may publish for ``org``: a publishing role, at a unit of a
    publishing level (county or above), whose jurisdiction contains ``org``."""
    plan = schedule.scheme()
    posts = [
        post
        for post in access.posts_of(actor)
        if post.role in plan.publisher_roles and org.path.startswith(post.jurisdiction_path)
    ]
    if not posts:
        return []
    levels = dict(OrgUnit.objects.filter(pk__in={post.org_id for post in posts}).values_list("pk", "level"))
    return [post for post in posts if levels.get(post.org_id) in plan.publisher_levels]


def may_publish(actor: Any, org: OrgUnit) -> bool:
    return bool(publisher_posts(actor, org))


def _require_publisher(actor: Any, org: OrgUnit, subject: Any, action: str) -> None:
    if publisher_posts(actor, org):
        return
    decision = access.Decision(
        False,
        _("只有县级以上公安机关的侦查员或局领导可以在其管辖范围内发布、撤回紧急预警。"),
        status=403,
    )
    access.log_denial(actor, action, subject, decision)
    raise access.AccessDenied(decision)


# --- Input checks ---------------------------------------------------------------------


def _text(value: Any, field: str, limit: int, errors: dict[str, list[str]], *, required: bool = True) -> str:
    if not isinstance(value, str):
        errors[field] = [_("格式不正确。")]
        return ""
    value = value.strip()
    if required and not value:
        errors[field] = [_("此项为必填项。")]
    elif len(value) > limit:
        errors[field] = [_("最多 %(n)s 个字。") % {"n": limit}]
    elif "\x00" in value:
        errors[field] = [_("包含无效字符。")]
    return value


def _moment(value: Any, field: str, errors: dict[str, list[str]], *, now: dt.datetime) -> dt.datetime | None:
    if not isinstance(value, dt.datetime) or timezone.is_naive(value):
        errors[field] = [_("请填写有效的日期和时间（含时区）。")]
        return None
    if value > now + SKEW:
        errors[field] = [_("时间不能晚于现在。")]
        return None
    return value


@dataclass(frozen=True)
class CheckedPhoto:
    extension: str
    size: int
    sha256: str
    upload: File


def check_photo(photo: Any, field: str = "photo") -> CheckedPhoto:
    """A JPEG or PNG of at most 5 MB, checked by its content (``ValidationError`` otherwise)."""
    if not isinstance(photo, File):
        raise _invalid(field, _("照片格式不正确。"))
    name = (photo.name or "").rsplit("/", 1)[-1]
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in PHOTO_SIGNATURES:
        raise _invalid(field, _("照片只接受 JPG 或 PNG 格式。"))
    size = photo.size
    if not size:
        raise _invalid(field, _("照片文件是空的。"))
    if size > PHOTO_MAX_BYTES:
        raise _invalid(field, _("照片不能超过 %(n)s MB。") % {"n": PHOTO_MAX_BYTES // (1024 * 1024)})
    photo.seek(0)
    head = photo.read(16)
    if not any(head.startswith(signature) for signature in PHOTO_SIGNATURES[extension]):
        raise _invalid(field, _("文件内容不是 JPG 或 PNG 图片。"))
    photo.seek(0)
    digest = hashlib.sha256()
    for chunk in photo.chunks():
        digest.update(chunk)
    photo.seek(0)
    return CheckedPhoto(
        extension="jpg" if extension == "jpeg" else extension, size=size, sha256=digest.hexdigest(), upload=photo
    )


def _link(name: str, *args: Any) -> str:
    return reverse(name, args=args)


def _point(latitude: Any, longitude: Any) -> geo.Point:
    point = geo.point(latitude, longitude)
    return geo.Point(round(point.latitude, POINT_DECIMALS), round(point.longitude, POINT_DECIMALS))


def new_reference() -> str:
    return "TY" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))


# --- Subscriptions --------------------------------------------------------------------


@transaction.atomic
def subscription_set(*, user: Any, point: geo.Point | None = None, county: OrgUnit | None = None) -> Subscription:
    """Opt in, or move one's point: a location (a map, the browser's position, typed) or a
    county (its seat becomes the point). One current point per citizen; the old one is
    overwritten, never kept. The timeline records that it changed, never where."""
    if access.user_kind(user) != "citizen":
        raise access.AccessDenied(access.Decision(False, _("只有群众账号可以订阅紧急预警。"), status=403))
    if (point is None) == (county is None):
        raise _invalid("location", _("请填写位置，或选择一个区县。"))
    if county is not None:
        if not isinstance(county, OrgUnit) or county.level != "county" or county.kind == "department":
            raise _invalid("county", _("请选择一个区县。"))
        point = geo.Point(county.latitude, county.longitude)
    if not isinstance(point, geo.Point):
        raise _invalid("location", _("位置格式不正确。"))
    rounded = _point(point.latitude, point.longitude)
    subscription = Subscription.objects.select_for_update().filter(user=user).first()
    created = subscription is None
    if subscription is None:
        subscription = Subscription(user=user)
    subscription.latitude, subscription.longitude = rounded.latitude, rounded.longitude
    subscription.county = county
    try:
        with transaction.atomic():
            subscription.save()
    except IntegrityError:  # a concurrent first opt-in of the same person committed first
        subscription = Subscription.objects.select_for_update().get(user=user)
        subscription.latitude, subscription.longitude, subscription.county = rounded.latitude, rounded.longitude, county
        subscription.save()
        created = False
    timeline.record(
        subscription,
        "alerts.subscribed" if created else "alerts.subscription_moved",
        actor=user,
        data={"by": "county" if county is not None else "point"},
    )
    return subscription


@transaction.atomic
def subscription_delete(*, user: Any) -> bool:
    """Opt out: the subscription is deleted (alerts already received stay in the person's
    list, and a withdrawal still reaches them). False if there was none."""
    subscription = Subscription.objects.select_for_update().filter(user=user).first()
    if subscription is None:
        return False
    timeline.record(subscription, "alerts.unsubscribed", actor=user)
    subscription.delete()
    return True


def subscriptions_bulk_create(*, points: list[tuple[str, float, float]], batch: int = BATCH) -> int:
    """Subscribers reached through partner apps (``external_ref``, latitude, longitude), in
    bulk: the seed and benchmarks. Existing refs are skipped. One timeline event per call."""
    created = 0
    for start in range(0, len(points), batch):
        chunk = points[start : start + batch]
        rows = []
        for ref, latitude, longitude in chunk:
            point = _point(latitude, longitude)
            if not ref or len(ref) > 64:
                raise _invalid("external_ref", _("外部订阅标识应为 1 至 64 个字符。"))
            rows.append(Subscription(external_ref=ref, latitude=point.latitude, longitude=point.longitude))
        with transaction.atomic():
            before = Subscription.objects.filter(external_ref__in=[row.external_ref for row in rows]).count()
            Subscription.objects.bulk_create(rows, ignore_conflicts=True)
            created += len(rows) - before
    if created:
        timeline.record(("alerts.subscription", "bulk"), "alerts.subscribers_imported", data={"created": created})
    return created


# --- Publishing and pushing -----------------------------------------------------------


@dataclass(frozen=True)
class PushResult:
    radius_km: int
    delivered: int  # new deliveries in this push
    in_app: int  # of which in-app messages to citizen accounts


def alert_publish(
    *,
    subject_type: str,
    subject_id: str,
    title: str,
    body: str,
    origin: geo.Point,
    missing_since: dt.datetime,
    org: OrgUnit,
    actor: Any,
    photo: File | None = None,
    now: dt.datetime | None = None,
) -> Alert:
    """Publish an alert about ``(subject_type, subject_id)`` and push it to the first band.

    Only a publisher (catalog/alerts.yaml: investigator or bureau leader at a county-level
    or higher unit whose jurisdiction contains ``org``) may. Idempotent per subject: while
    an alert about the subject is active, it is returned and nothing else happens.
    ``title`` and ``body`` are what the public sees (mask the name: ``王**``); ``origin``
    and ``missing_since`` are where and when the person went missing — the radius counts
    from that moment (100 km within 1 h, 200 km within 2 h, 300 km within 3 h, then 500).
    """
    now = now or timezone.now()
    if not isinstance(org, OrgUnit) or org.pk is None:
        raise _invalid("org", _("请指定发布单位。"))
    _require_publisher(actor, org, org, "alerts.publish")
    errors: dict[str, list[str]] = {}
    subject_type = _text(subject_type, "subject_type", 100, errors)
    if isinstance(subject_id, int) and not isinstance(subject_id, bool):
        subject_id = str(subject_id)
    subject_id = _text(subject_id, "subject_id", 64, errors)
    title = _text(title, "title", MAX_TITLE, errors)
    body = _text(body, "body", MAX_BODY, errors)
    for field, value in (("title", title), ("body", body)):
        if field not in errors and notify.contains_id_number(value):
            errors[field] = [_("公开发布的内容不得包含身份证号码。")]
    if not isinstance(origin, geo.Point):
        errors["origin"] = [_("请指定走失地点的经纬度。")]
    missing_since = _moment(missing_since, "missing_since", errors, now=now)  # type: ignore[assignment]
    if missing_since is not None and now - missing_since > dt.timedelta(days=schedule.scheme().publish_within_days):
        errors["missing_since"] = [
            _("紧急预警只用于 %(n)s 天内走失的人员；更早的案件请通过寻亲比对处理。")
            % {"n": schedule.scheme().publish_within_days}
        ]
    checked = None
    if photo is not None:
        try:
            checked = check_photo(photo)
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        existing = Alert.objects.filter(
            subject_type=subject_type, subject_id=subject_id, state=AlertState.ACTIVE
        ).first()
        if existing is not None:
            return existing
        alert = Alert(
            reference=new_reference(),
            subject_type=subject_type,
            subject_id=subject_id,
            title=title,
            body=body,
            origin_latitude=origin.latitude,
            origin_longitude=origin.longitude,
            missing_since=missing_since,
            org=org,
            published_by=actor,
            published_at=now,
        )
        if checked is not None:
            alert.photo_token = secrets.token_hex(16)
            alert.photo_extension = checked.extension
            alert.photo.save(f"{alert.photo_token}.{checked.extension}", checked.upload, save=False)
        try:
            with transaction.atomic():
                alert.save(force_insert=True)
        except IntegrityError:
            if alert.photo:
                alert.photo.delete(save=False)
            # A concurrent publish about the same subject committed first: that one stands.
            return Alert.objects.get(subject_type=subject_type, subject_id=subject_id, state=AlertState.ACTIVE)
        timeline.record(
            alert,
            "alerts.published",
            actor=actor,
            data={
                "subject": f"{subject_type}:{subject_id}",
                "missing_since": missing_since.isoformat(),  # type: ignore[union-attr]
                "photo": checked.sha256 if checked else None,
            },
        )
        events.on_commit(alert_events.alert_published, sender=Alert, alert=alert)
        _push(alert, now=now)
    return alert


def alert_widen(*, alert: Alert, now: dt.datetime | None = None) -> PushResult:
    """Push ``alert`` to every subscriber inside the radius for the time elapsed since the
    disappearance who has not had it yet (each subscriber at most once per alert)."""
    with transaction.atomic():
        return _push(alert, now=now or timezone.now())


def _candidates(alert: Alert, radius_km: int, changed_since: dt.datetime | None) -> list[tuple[int, int | None]]:
    """(subscription id, user id) of subscribers within ``radius_km`` not yet reached: the
    bounding box on the (latitude, longitude) index, the anti-join on the deliveries'
    unique indexes, then the exact great-circle distance (``geo.distance_km``)."""
    origin = geo.Point(alert.origin_latitude, alert.origin_longitude)
    if changed_since is not None:
        # Few rows changed since the last push: the updated_at index finds them, and the
        # distance below does the rest (a box here would tempt the planner onto the
        # latitude index and a scan of the whole band).
        query = Subscription.objects.filter(updated_at__gte=changed_since)
    else:
        box = geo.bounding_box(origin, radius_km)
        query = Subscription.objects.filter(latitude__gte=box.south, latitude__lte=box.north)
        if box.west <= box.east:
            query = query.filter(longitude__gte=box.west, longitude__lte=box.east)
        else:  # the box crosses the antimeridian
            query = query.filter(Q(longitude__gte=box.west) | Q(longitude__lte=box.east))
    reached = AlertDelivery.objects.filter(alert=alert)
    query = query.exclude(Exists(reached.filter(subscription=OuterRef("pk")))).exclude(
        Q(user__isnull=False) & Exists(reached.filter(user=OuterRef("user")))
    )
    # The ORM builds the statement; rows are read straight from the cursor (no model or
    # per-row ORM work: at hundreds of thousands of rows that cost more than the query).
    sql, params = query.values_list("pk", "user_id", "latitude", "longitude").query.sql_with_params()
    distance, point = geo.distance_km, geo.Point
    found: list[tuple[int, int | None]] = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(BATCH):
            found.extend(
                (pk, user_id)
                for pk, user_id, latitude, longitude in rows
                if distance(origin, point(latitude, longitude)) <= radius_km
            )
    return found


def _insert_deliveries(alert: Alert, reached: list[tuple[int, int | None]], *, band_km: int, now: dt.datetime) -> None:
    """Insert-ignore the deliveries (``ON CONFLICT DO NOTHING`` against the (alert,
    subscription) and (alert, user) unique indexes), in the fastest form each database
    takes: on PostgreSQL one ``INSERT ... SELECT FROM unnest(ids, user ids)`` per 50,000
    rows (two array parameters: no per-row placeholders for the driver to parse); on
    SQLite ``executemany`` (a C loop over one prepared statement). With ``bulk_create``
    the ORM's per-row preparation made the whole push 4× slower (docs/alerts.md)."""
    meta = AlertDelivery._meta
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(meta.get_field(name).column) for name in ("alert", "subscription", "user", "band_km", "delivered_at")
    )
    table = quote(meta.db_table)
    stamp = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            sql = (
                f"INSERT INTO {table} ({columns}) SELECT %s, s, u, %s, %s "  # noqa: S608  (names from model metadata)
                "FROM unnest(%s::bigint[], %s::bigint[]) AS reached(s, u) ON CONFLICT DO NOTHING"
            )
            for start in range(0, len(reached), 50_000):
                chunk = reached[start : start + 50_000]
                cursor.execute(sql, [alert.pk, band_km, stamp, [pk for pk, _ in chunk], [user for _, user in chunk]])
            return
        sql = f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"  # noqa: S608
        for start in range(0, len(reached), BATCH):
            cursor.executemany(
                sql, [(alert.pk, pk, user_id, band_km, stamp) for pk, user_id in reached[start : start + BATCH]]
            )


def _push(alert: Alert, *, now: dt.datetime) -> PushResult:
    """One push. ``now`` sets the radius (tests and back-dated runs pass it); which
    subscriptions changed since the last push is judged by the real clock (``swept_at``)."""
    started = timezone.now()
    locked = Alert.objects.select_for_update().get(pk=alert.pk)
    if locked.state != AlertState.ACTIVE:
        return PushResult(radius_km=locked.radius_km, delivered=0, in_app=0)
    plan = schedule.scheme()
    radius = max(plan.radius_for(max(now - locked.missing_since, dt.timedelta(0))), locked.radius_km)
    grew = radius > locked.radius_km
    changed_since = None if grew or locked.swept_at is None else locked.swept_at - CHANGE_MARGIN
    reached = _candidates(locked, radius, changed_since)
    _insert_deliveries(locked, reached, band_km=radius, now=now)
    delivered = len(reached)  # exact: the row lock keeps other pushes of this alert out
    user_ids = [user_id for _pk, user_id in reached if user_id is not None]
    in_app = 0
    if user_ids:
        in_app = notify.enqueue_in_app_many(
            user_ids=user_ids,
            title=_("紧急寻人：%(title)s") % {"title": locked.title},
            body=locked.body[:300],
            url=_link("alerts:public", locked.reference),
            subject=locked,
            dedupe_key=f"alerts.{locked.reference}.published",
            event="alerts.notified",
        )
    reach = dict(locked.reach or {})
    if delivered:
        reach[str(radius)] = int(reach.get(str(radius), 0)) + delivered
    Alert.objects.filter(pk=locked.pk).update(radius_km=radius, swept_at=started, reach=reach)
    alert.radius_km, alert.swept_at, alert.reach = radius, started, reach
    if delivered or grew:
        timeline.record(
            locked,
            "alerts.widened",
            data={"radius_km": radius, "delivered": delivered, "in_app": in_app, "total": sum(reach.values())},
        )
        events.on_commit(alert_events.alert_widened, sender=Alert, alert=locked, radius_km=radius, delivered=delivered)
    return PushResult(radius_km=radius, delivered=delivered, in_app=in_app)


def alerts_widen_due(*, now: dt.datetime | None = None) -> str:
    """The worker's periodic job: push every active alert as far as its schedule now says,
    and to subscribers who moved into range since the last push. One transaction per alert."""
    ids = list(Alert.objects.filter(state=AlertState.ACTIVE).order_by("published_at").values_list("pk", flat=True))
    delivered = 0
    for pk in ids:
        alert = Alert.objects.filter(pk=pk, state=AlertState.ACTIVE).first()
        if alert is None:
            continue
        delivered += alert_widen(alert=alert, now=now).delivered
    return f"{len(ids)} active alerts, {delivered} new deliveries"


# --- Withdrawing ----------------------------------------------------------------------

WITHDRAW_TEXT = {
    WithdrawReason.FOUND: "已找到，感谢您的关注和帮助。",
    WithdrawReason.FALSE_REPORT: "经核实，此前发布的信息不实，现予撤回。",
    WithdrawReason.OTHER: "该预警已撤回。",
}


@transaction.atomic
def alert_withdraw(*, alert: Alert, reason: str, actor: Any, note: str = "", now: dt.datetime | None = None) -> Alert:
    """Withdraw an active alert (the person was found, the report was false, or another
    reason): everyone it reached gets a withdrawal notice, and it leaves the public lists."""
    _require_publisher(actor, alert.org, alert, "alerts.withdraw")
    return _withdraw(alert=alert, reason=reason, actor=actor, note=note, now=now)


@transaction.atomic
def alert_withdraw_resolved(*, alert: Alert, actor: Any, note: str = "", now: dt.datetime | None = None) -> Alert:
    """Withdraw an alert because its subject was resolved: the child was found. Called by
    the publishing domain after its own, already authorised, action (e.g. a reunion that a
    DNA examiner recorded): whoever resolved the case, everyone reached must hear at once
    that the search is over, so no publisher role is needed here. ``actor`` is recorded."""
    return _withdraw(alert=alert, reason=WithdrawReason.FOUND, actor=actor, note=note, now=now, resolved=True)


def _withdraw(
    *, alert: Alert, reason: str, actor: Any, note: str, now: dt.datetime | None, resolved: bool = False
) -> Alert:
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if reason not in WithdrawReason.values:
        errors["reason"] = [_("请选择撤回原因：已找到、虚假报案或其他原因。")]
    note = _text(note, "note", MAX_NOTE, errors, required=reason == WithdrawReason.OTHER)
    if errors:
        raise ValidationError(errors)
    locked = Alert.objects.select_for_update().get(pk=alert.pk)
    if locked.state != AlertState.ACTIVE:
        raise AlertRefused(_("该预警已撤回。"))
    locked.state = AlertState.WITHDRAWN
    locked.withdrawn_at, locked.withdrawn_by = now, actor
    locked.withdraw_reason, locked.withdraw_note = reason, note
    locked.save(update_fields=["state", "withdrawn_at", "withdrawn_by", "withdraw_reason", "withdraw_note"])
    reached = AlertDelivery.objects.filter(alert=locked)
    noticed = reached.filter(withdrawn_notice_at__isnull=True).update(withdrawn_notice_at=now)
    in_app = notify.enqueue_in_app_many(
        user_ids=reached.filter(user__isnull=False).values_list("user_id", flat=True).iterator(chunk_size=BATCH),
        title=_("预警已撤回：%(title)s") % {"title": locked.title},
        body=_(WITHDRAW_TEXT[WithdrawReason(reason)]),
        url=_link("alerts:received"),
        subject=locked,
        dedupe_key=f"alerts.{locked.reference}.withdrawn",
        event="alerts.withdrawal_notified",
    )
    timeline.record(
        locked,
        "alerts.withdrawn",
        actor=actor,
        data={"reason": reason, "note": note, "notices": noticed, "in_app": in_app, "subject_resolved": resolved},
    )
    events.on_commit(alert_events.alert_withdrawn, sender=Alert, alert=locked, reason=reason)
    alert.state, alert.withdrawn_at, alert.withdraw_reason = locked.state, now, reason
    return locked


# --- Clues ----------------------------------------------------------------------------


def clue_submit(
    *,
    alert: Alert,
    sender: Any = None,
    phone: str = "",
    text: str,
    place: str,
    seen_at: dt.datetime,
    idempotency_key: str,
    latitude: Any = None,
    longitude: Any = None,
    photo: File | None = None,
    now: dt.datetime | None = None,
) -> Clue:
    """A clue from the public about an active alert, sent back to the case (the event
    ``clue_received``). A signed-in sender is recorded as such; an anonymous one leaves a
    mobile number (encrypted at rest). The same ``idempotency_key`` returns the clue already
    stored (a double click, a retried request) and does nothing else."""
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    key = idempotency_key.strip() if isinstance(idempotency_key, str) else ""
    if not 8 <= len(key) <= 64:
        raise _invalid("idempotency_key", _("表单已过期，请刷新页面后重试。"))
    existing = Clue.objects.filter(alert=alert, idempotency_key=key).first()
    if existing is not None:
        return existing
    if alert.state != AlertState.ACTIVE:
        raise AlertRefused(_("该预警已撤回，不再接收线索。感谢您的关注。"))
    signed_in = access.user_kind(sender) != "anonymous"
    if isinstance(phone, str) and phone.strip():
        try:
            phone = normalize_mobile(phone)
        except ValidationError as error:
            errors["phone"] = list(error.messages)
    elif not signed_in:
        errors["phone"] = [_("未登录时请留下手机号码，以便民警联系您。")]
    else:
        phone = ""
    text = _text(text, "text", MAX_CLUE_TEXT, errors)
    place = _text(place, "place", MAX_PLACE, errors)
    seen = _moment(seen_at, "seen_at", errors, now=now)
    if seen is not None and seen < alert.missing_since - dt.timedelta(days=1):
        errors["seen_at"] = [_("发现时间早于走失时间，请核对。")]
    point = None
    if latitude not in (None, "") or longitude not in (None, ""):
        try:
            point = geo.point(latitude, longitude)
        except geo.InvalidPoint:
            errors["location"] = [_("经纬度无效：纬度应在 -90 至 90 之间，经度应在 -180 至 180 之间。")]
    checked = None
    if photo is not None:
        try:
            checked = check_photo(photo)
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        clue = Clue(
            alert=alert,
            sender=sender if signed_in else None,
            sender_phone=phone,
            text=text,
            place=place,
            latitude=point.latitude if point else None,
            longitude=point.longitude if point else None,
            seen_at=seen,
            idempotency_key=key,
        )
        if checked is not None:
            clue.photo_token = secrets.token_hex(16)
            clue.photo_extension = checked.extension
            clue.photo.save(f"{clue.photo_token}.{checked.extension}", checked.upload, save=False)
        try:
            with transaction.atomic():
                clue.save(force_insert=True)
        except IntegrityError:
            if clue.photo:
                clue.photo.delete(save=False)
            return Clue.objects.get(alert=alert, idempotency_key=key)
        timeline.record(
            alert,
            "alerts.clue_received",
            actor=sender if signed_in else None,
            data={"clue": clue.pk, "photo": checked.sha256 if checked else None, "located": point is not None},
        )
        notify.enqueue(
            user=alert.published_by,
            title=_("紧急预警收到新线索：%(title)s") % {"title": alert.title},
            body=_("发现地点：%(place)s") % {"place": place[:100]},
            url=_link("alerts:staff_detail", alert.reference),
            channels=("in_app",),
            subject=alert,
            dedupe_key=f"alerts.clue.{clue.pk}",
        )
        events.on_commit(alert_events.clue_received, sender=Clue, alert=alert, clue=clue)
    return clue


@transaction.atomic
def clue_triage(*, clue: Clue, outcome: str, actor: Any, note: str = "") -> Clue:
    """Record what a clue was worth (有价值 / 无价值 / 重复线索), by a publisher of its alert."""
    locked = Clue.objects.select_for_update().select_related("alert", "alert__org").get(pk=clue.pk)
    _require_publisher(actor, locked.alert.org, locked, "alerts.clue_triage")
    errors: dict[str, list[str]] = {}
    if outcome not in (ClueState.USEFUL, ClueState.NOT_USEFUL, ClueState.DUPLICATE):
        errors["outcome"] = [_("请选择研判结果。")]
    note = _text(note, "note", MAX_NOTE, errors, required=False)
    if errors:
        raise ValidationError(errors)
    before = locked.state
    locked.state, locked.triaged_by, locked.triaged_at, locked.triage_note = outcome, actor, timezone.now(), note
    locked.save(update_fields=["state", "triaged_by", "triaged_at", "triage_note"])
    timeline.record(
        locked.alert,
        "alerts.clue_triaged",
        actor=actor,
        data={"clue": locked.pk, "note": note},
        before={"state": before},
        after={"state": outcome},
    )
    events.on_commit(alert_events.clue_triaged, sender=Clue, alert=locked.alert, clue=locked)
    return locked
