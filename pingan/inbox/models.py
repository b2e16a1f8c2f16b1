"""Notices: messages that put something in one officer's "my work" list (an overdue item
escalated to the station chief, a task handed over)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class NoticeKind(models.TextChoices):
    ESCALATION = "escalation", _("超期督办")
    WARNING = "warning", _("临期提醒")
    INFO = "info", _("通知")


class Notice(models.Model):
    """One message to one officer about one object. At most one open notice of a kind per
    recipient and subject, so a repeated escalation never floods an inbox."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(_("类型"), max_length=20, choices=NoticeKind.choices)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    url = models.CharField(max_length=300, blank=True)
    subject_type = models.CharField(max_length=100)
    subject_id = models.CharField(max_length=64)
    org = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="+")
    due_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "kind", "subject_type", "subject_id"], name="notice_once_per_subject"
            )
        ]
        indexes = [models.Index(fields=["recipient", "read_at", "due_at"], name="notice_inbox_idx")]
        verbose_name = _("提醒")
        verbose_name_plural = _("提醒")

    def __str__(self) -> str:
        return self.title
