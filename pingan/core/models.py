"""Core tables: the timeline (append-only, hash-chained) and deadline clocks."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from pingan.core.paths import PathUnder  # noqa: F401  (registers the `under` lookup)

MAX_TIMELINE_CHAINS = 64


class AppendOnlyError(RuntimeError):
    pass


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):  # type: ignore[override]
        raise AppendOnlyError("the timeline is append-only")

    def delete(self):  # type: ignore[override]
        raise AppendOnlyError("the timeline is append-only")

    def bulk_update(self, *args, **kwargs):  # type: ignore[override]
        raise AppendOnlyError("the timeline is append-only")


class TimelineEvent(models.Model):
    """One thing that happened to one object: who, what, when, from where, before/after.

    Events are split over ``TIMELINE_CHAINS`` hash chains by subject; within a chain each
    event's ``hash`` covers its content and the previous event's hash, so altering or
    deleting any row breaks the chain (``manage.py verify_timeline``). Database triggers
    refuse UPDATE and DELETE; the model refuses them too.
    """

    chain = models.PositiveSmallIntegerField()
    seq = models.BigIntegerField()
    occurred_at = models.DateTimeField()
    actor_id = models.BigIntegerField(
        null=True, blank=True, help_text="accounts.User id; not a foreign key so the log outlives accounts"
    )
    actor_label = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=100)
    subject_type = models.CharField(max_length=100)
    subject_id = models.CharField(max_length=64)
    org_path = models.CharField(max_length=255, blank=True, help_text="jurisdiction of the subject when it happened")
    ip = models.GenericIPAddressField(null=True, blank=True)
    channel = models.CharField(max_length=20, blank=True)
    request_id = models.CharField(max_length=32, blank=True)
    data = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chain", "seq"], name="timeline_chain_seq_unique")]
        indexes = [
            models.Index(fields=["subject_type", "subject_id", "id"], name="timeline_subject_idx"),
            models.Index(fields=["actor_id", "id"], name="timeline_actor_idx"),
            models.Index(fields=["org_path", "id"], name="timeline_org_idx"),
            models.Index(fields=["action", "id"], name="timeline_action_idx"),
        ]
        verbose_name = _("时间线事件")
        verbose_name_plural = _("时间线事件")

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.action} {self.subject_type}#{self.subject_id}"

    def save(self, *args, **kwargs):  # type: ignore[override]
        if not self._state.adding:
            raise AppendOnlyError("timeline events are never updated")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[override]
        raise AppendOnlyError("timeline events are never deleted")


class TimelineHead(models.Model):
    """The last event of each chain; locked while appending so a chain never forks."""

    chain = models.PositiveSmallIntegerField(primary_key=True)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"chain {self.chain} @ {self.seq}"
