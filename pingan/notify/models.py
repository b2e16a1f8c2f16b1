"""The notification outbox: one row per message per channel, written in the transaction
of the change it reports, delivered afterwards by :mod:`pingan.notify.delivery`.

Statuses follow GOV.UK Notify: ``created`` (queued), ``sending`` (claimed by a worker),
``delivered``, ``temporary-failure`` (retried with backoff until delivered) and
``permanent-failure`` (never retried: no address, invalid address, account closed).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    IN_APP = "in_app", _("站内消息")
    EMAIL = "email", _("电子邮件")
    SMS = "sms", _("短信")


class Status(models.TextChoices):
    CREATED = "created", _("待发送")
    SENDING = "sending", _("发送中")
    DELIVERED = "delivered", _("已送达")
    TEMPORARY_FAILURE = "temporary-failure", _("暂时失败，将重试")
    PERMANENT_FAILURE = "permanent-failure", _("发送失败")


class Message(models.Model):
    """One message to one person on one channel.

    ``next_attempt_at`` is the outbox's queue: a row is due when it is not null and has
    passed. A claimed row (``sending``) carries the claim's end there, so the row of a
    worker that died mid-send becomes due again once the claim lapses; delivered and
    permanently failed rows have none. ``claim_token`` makes the outcome of a send count
    only for the worker that still holds the claim.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("接收人"), on_delete=models.CASCADE, related_name="+"
    )
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.CREATED)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    url = models.CharField(_("链接"), max_length=300, blank=True)
    subject_type = models.CharField(max_length=100, blank=True, help_text="what the message is about (model label)")
    subject_id = models.CharField(max_length=64, blank=True)
    dedupe_key = models.CharField(
        max_length=150, blank=True, default="", help_text="enqueueing again with the same key is a no-op"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="due for (re)delivery from this moment")
    claim_token = models.CharField(max_length=32, blank=True)
    attempts = models.PositiveIntegerField(_("发送次数"), default=0)
    last_error = models.CharField(_("最近错误"), max_length=500, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "channel", "dedupe_key"],
                condition=~models.Q(dedupe_key=""),
                name="notify_message_dedupe",
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=["delivered", "permanent-failure"])
                | models.Q(next_attempt_at__isnull=True),
                name="notify_message_finished_not_queued",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(next_attempt_at__isnull=False),
                name="notify_message_due_idx",
            ),
            models.Index(fields=["recipient", "channel", "read_at", "id"], name="notify_message_inbox_idx"),
        ]
        verbose_name = _("消息")
        verbose_name_plural = _("消息")

    def __str__(self) -> str:
        return f"{self.get_channel_display()} #{self.pk} {self.title}"

    @property
    def is_unread(self) -> bool:
        return self.channel == Channel.IN_APP and self.read_at is None
