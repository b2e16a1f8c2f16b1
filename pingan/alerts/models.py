"""Emergency alerts (团圆-style): who subscribed where, what was published, to whom it was
delivered, and the clues the public sent back.

The app knows nothing about the records an alert is about: an alert names its subject as
``(subject_type, subject_id)`` (``"reunion.record"``, a reference) and the publishing app
reacts to this app's events (``pingan.alerts.events``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from pingan.core.identity import EncryptedTextField


class Subscription(models.Model):
    """One subscriber's current point — nothing else about where they are or were.

    A citizen account of this site subscribes as itself (``user``; alerts reach it as in-app
    messages). A subscriber reached through a partner app's push channel has no account
    here and is known only by an opaque ``external_ref`` (the demo seeds such subscribers).
    Changing the point overwrites it; opting out deletes the row. Radius queries use the
    ``(latitude, longitude)`` index through a bounding box, then the exact distance
    (docs/alerts.md says why rather than a geohash column).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("订阅人"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="alert_subscription",
    )
    external_ref = models.CharField(
        max_length=64, blank=True, default="", help_text="opaque id of a subscriber reached through a partner app"
    )
    latitude = models.FloatField(_("纬度"))
    longitude = models.FloatField(_("经度"))
    county = models.ForeignKey(
        "orgs.OrgUnit",
        verbose_name=_("所选区县"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="set when the subscriber chose a county rather than a point (its seat is the point)",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(latitude__gte=-90, latitude__lte=90)
                & models.Q(longitude__gte=-180, longitude__lte=180),
                name="alerts_subscription_point_valid",
            ),
            models.CheckConstraint(
                condition=(models.Q(user__isnull=False) & models.Q(external_ref=""))
                | (models.Q(user__isnull=True) & ~models.Q(external_ref="")),
                name="alerts_subscription_one_identity",
            ),
            models.UniqueConstraint(
                fields=["external_ref"], condition=~models.Q(external_ref=""), name="alerts_subscription_external_ref"
            ),
        ]
        indexes = [models.Index(fields=["latitude", "longitude"], name="alerts_subscription_point_idx")]
        verbose_name = _("预警订阅")
        verbose_name_plural = _("预警订阅")

    def __str__(self) -> str:
        return f"subscription #{self.pk}"


class AlertState(models.TextChoices):
    ACTIVE = "active", _("发布中")
    WITHDRAWN = "withdrawn", _("已撤回")


class WithdrawReason(models.TextChoices):
    FOUND = "found", _("已找到")
    FALSE_REPORT = "false_report", _("虚假报案")
    OTHER = "other", _("其他原因")


def photo_path(instance: Alert | Clue, filename: str) -> str:
    # Never the uploaded name: a random name (MEDIA_ROOT is not served; views check access).
    folder = "alerts" if isinstance(instance, Alert) else "clues"
    return f"alerts/{folder}/{instance.photo_token}.{instance.photo_extension}"


class Alert(models.Model):
    """A published alert. At most one active alert per subject (a partial unique index).

    ``radius_km`` is how far it has been pushed so far and ``swept_at`` when the last push
    started; ``reach`` counts deliveries per band (``{"100": n, ...}``), kept under the
    row lock by every push so lists never count millions of rows.
    """

    reference = models.CharField(_("预警编号"), max_length=20, unique=True)
    subject_type = models.CharField(max_length=100)
    subject_id = models.CharField(max_length=64)
    title = models.CharField(_("标题"), max_length=100)
    body = models.TextField(_("内容"))
    photo = models.FileField(_("照片"), upload_to=photo_path, max_length=200, blank=True)
    photo_token = models.CharField(max_length=32, blank=True)
    photo_extension = models.CharField(max_length=8, blank=True)
    origin_latitude = models.FloatField(_("走失地点纬度"))
    origin_longitude = models.FloatField(_("走失地点经度"))
    missing_since = models.DateTimeField(_("走失时间"))
    org = models.ForeignKey("orgs.OrgUnit", verbose_name=_("发布单位"), on_delete=models.PROTECT, related_name="alerts")
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发布人"), on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(_("发布时间"))
    state = models.CharField(_("状态"), max_length=12, choices=AlertState.choices, default=AlertState.ACTIVE)
    radius_km = models.PositiveIntegerField(_("当前推送半径（公里）"), default=0)
    swept_at = models.DateTimeField(null=True, blank=True, help_text="when the last push started")
    reach = models.JSONField(default=dict, blank=True, help_text="deliveries per band: {radius_km: count}")
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("撤回人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    withdraw_reason = models.CharField(_("撤回原因"), max_length=20, choices=WithdrawReason.choices, blank=True)
    withdraw_note = models.CharField(_("撤回说明"), max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subject_type", "subject_id"],
                condition=models.Q(state="active"),
                name="alerts_alert_one_active_per_subject",
            ),
            models.CheckConstraint(
                condition=models.Q(origin_latitude__gte=-90, origin_latitude__lte=90)
                & models.Q(origin_longitude__gte=-180, origin_longitude__lte=180),
                name="alerts_alert_origin_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(state="active", withdrawn_at__isnull=True)
                | models.Q(state="withdrawn", withdrawn_at__isnull=False),
                name="alerts_alert_withdrawn_consistent",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "published_at"], name="alerts_alert_state_idx"),
            models.Index(fields=["subject_type", "subject_id"], name="alerts_alert_subject_idx"),
        ]
        verbose_name = _("紧急预警")
        verbose_name_plural = _("紧急预警")

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("alerts:public", args=[self.reference])

    @property
    def is_active(self) -> bool:
        return self.state == AlertState.ACTIVE

    @property
    def delivered_count(self) -> int:
        return sum(int(n) for n in (self.reach or {}).values())

    def reach_by_band(self) -> list[tuple[int, int]]:
        return sorted((int(band), int(n)) for band, n in (self.reach or {}).items())


class AlertDelivery(models.Model):
    """One alert delivered to one subscriber — at most once (unique per alert and
    subscription, and per alert and account), inserted in bulk with insert-ignore.

    ``user`` is copied from the subscription so the withdrawal notice and the citizen's list
    of alerts received still work after they opt out (the subscription is then deleted and
    ``subscription`` becomes null). No location is kept here.
    """

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries")
    subscription = models.ForeignKey(
        Subscription, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    band_km = models.PositiveIntegerField(_("推送半径（公里）"))
    delivered_at = models.DateTimeField(_("送达时间"))
    withdrawn_notice_at = models.DateTimeField(_("撤回通知时间"), null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["alert", "subscription"], name="alerts_delivery_once"),
            models.UniqueConstraint(
                fields=["alert", "user"], condition=models.Q(user__isnull=False), name="alerts_delivery_once_per_user"
            ),
        ]
        indexes = [models.Index(fields=["user", "delivered_at"], name="alerts_delivery_user_idx")]
        verbose_name = _("预警送达")
        verbose_name_plural = _("预警送达")

    def __str__(self) -> str:
        return f"{self.alert_id} → {self.subscription_id}"


class ClueState(models.TextChoices):
    NEW = "new", _("待研判")
    USEFUL = "useful", _("有价值")
    NOT_USEFUL = "not_useful", _("无价值")
    DUPLICATE = "duplicate", _("重复线索")


class Clue(models.Model):
    """A clue sent back by the public about an alert: who (an account, or a phone number for
    an anonymous sender, encrypted), where and when they saw the person, what they saw."""

    alert = models.ForeignKey(Alert, on_delete=models.PROTECT, related_name="clues")
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sender_phone = EncryptedTextField(_("联系电话"), blank=True)
    text = models.TextField(_("线索内容"))
    place = models.CharField(_("发现地点"), max_length=200)
    latitude = models.FloatField(_("纬度"), null=True, blank=True)
    longitude = models.FloatField(_("经度"), null=True, blank=True)
    seen_at = models.DateTimeField(_("发现时间"))
    photo = models.FileField(_("照片"), upload_to=photo_path, max_length=200, blank=True)
    photo_token = models.CharField(max_length=32, blank=True)
    photo_extension = models.CharField(max_length=8, blank=True)
    idempotency_key = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True)
    state = models.CharField(_("研判结果"), max_length=12, choices=ClueState.choices, default=ClueState.NEW)
    triaged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    triaged_at = models.DateTimeField(null=True, blank=True)
    triage_note = models.CharField(_("研判说明"), max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["alert", "idempotency_key"], name="alerts_clue_idempotent"),
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True, longitude__isnull=True)
                | models.Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180),
                name="alerts_clue_point_valid",
            ),
        ]
        ordering = ["-created_at", "-id"]
        verbose_name = _("群众线索")
        verbose_name_plural = _("群众线索")

    def __str__(self) -> str:
        return f"clue #{self.pk} on {self.alert_id}"
