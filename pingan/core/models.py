"""Core tables: the timeline (append-only, hash-chained) and deadline clocks."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils.translation import gettext_lazy as _

from pingan.core.bulk import AnyOf  # noqa: F401  (registers the `any` lookup)
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


class SeedRun(models.Model):
    """One completed step of ``manage.py seed`` at a scale and seed (``pingan.core.seeding``).

    A re-run with the same step, scale, seed and fraction skips the step (and restores what
    it handed to later steps from ``result``); any other combination runs the step, which
    then adds only what is missing.
    """

    step = models.CharField(max_length=60)
    scale = models.CharField(max_length=20)
    seed = models.BigIntegerField()
    fraction = models.FloatField(help_text="share of the real population seeded (0 where the scale ignores it)")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    result = models.JSONField(default=dict, blank=True, help_text="counts and values handed to later steps")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["step", "scale", "seed", "fraction"], name="seedrun_unique"),
        ]
        verbose_name = _("演示数据步骤")
        verbose_name_plural = _("演示数据步骤")

    def __str__(self) -> str:
        return f"{self.step} {self.scale} seed={self.seed} fraction={self.fraction}"


class ClockState(models.TextChoices):
    RUNNING = "running", _("计时中")
    WARNING = "warning", _("即将超期")
    OVERDUE = "overdue", _("已超期")
    PAUSED = "paused", _("已暂停")
    STOPPED = "stopped", _("已停止")


class Clock(models.Model):
    """One deadline clock of one workflow item (``subject``), e.g. its legal time limit.

    Transitions start, pause, resume and stop it (``core.deadlines``); the worker's sweep
    marks it ``warning`` at ``warn_at`` (80% of its working time) and ``overdue`` at
    ``due_at``, each once. Working time is counted on working days only; the start day is
    not counted. While paused (补正: waiting for the citizen) ``due_at``/``warn_at`` are
    empty and ``consumed`` holds the working time used so far; resuming sets a new
    deadline from the remaining budget, so the pause does not count.
    """

    subject_type = models.CharField(max_length=100)
    subject_id = models.CharField(max_length=64)
    name = models.CharField(max_length=40, help_text="the clock's code in the workflow (e.g. legal)")
    org_path = models.CharField(max_length=255, blank=True, help_text="jurisdiction of the item, for scoping")
    budget_working_days = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    pause_reason = models.CharField(max_length=200, blank=True)
    consumed = models.DurationField(
        default=dt.timedelta(0), help_text="working time used before the current pause (24 h per working day)"
    )
    stopped_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    overdue_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=ClockState.choices, default=ClockState.RUNNING)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subject_type", "subject_id", "name"], name="clock_subject_name_unique"),
            models.CheckConstraint(
                condition=~models.Q(state__in=["running", "warning", "overdue"])
                | models.Q(due_at__isnull=False, warn_at__isnull=False),
                name="clock_running_has_deadline",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "warn_at"], name="clock_sweep_warn_idx"),
            models.Index(fields=["state", "due_at"], name="clock_sweep_due_idx"),
            models.Index(fields=["org_path", "state"], name="clock_org_idx"),
        ]
        verbose_name = _("时限")
        verbose_name_plural = _("时限")

    def __str__(self) -> str:
        return f"{self.subject_type}#{self.subject_id} {self.name} ({self.state})"

    @property
    def is_running(self) -> bool:
        return self.state in {ClockState.RUNNING, ClockState.WARNING, ClockState.OVERDUE}
