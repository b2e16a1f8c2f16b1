"""Deadline clocks: started, paused, resumed and stopped by workflow transitions
(``clocks: {legal: start}`` in a workflow file), warned at 80% of their working time and
flagged overdue by the worker's :func:`sweep`.

Working time counts working days only (``core.calendar``), and the start day is not
counted: a 5-working-day limit started on a Wednesday ends at the end of the fifth
working day after it. Pausing (补正: waiting for the citizen) freezes the time used;
resuming sets a new deadline from what is left, so the deadline moves by exactly the
working time spent paused.

The item keeps ``due_at`` (nearest running deadline) and ``deadline_state`` in step, so
lists sort and filter without joining clocks.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone

from pingan.core import access, calendar, events, timeline
from pingan.core.models import Clock, ClockState

log = logging.getLogger(__name__)

# The warning comes when this share of the working time is used (80%).
WARNING_NUMERATOR, WARNING_DENOMINATOR = 4, 5
RUNNING = (ClockState.RUNNING, ClockState.WARNING, ClockState.OVERDUE)
# The item's deadline_state is the most urgent of its clocks' states.
URGENCY = ("overdue", "warning", "running", "paused", "stopped")
ESCALATE_TO = "station_chief"


def subject_of(item: models.Model) -> tuple[str, str]:
    return timeline.subject_key(item)


def clocks_for(item: models.Model) -> models.QuerySet[Clock]:
    subject_type, subject_id = subject_of(item)
    return Clock.objects.filter(subject_type=subject_type, subject_id=subject_id).order_by("name")


def _org_path(item: models.Model) -> str:
    getter = getattr(item, "timeline_org_path", None)
    if callable(getter):
        return getter() or ""
    return access.org_path_of(item) or ""


def _shown(moment: dt.datetime) -> dt.datetime:
    """A deadline at local midnight is shown as the end of the day before (23:59:59.999999)."""
    if moment.astimezone(calendar.TZ).time() == dt.time.min:
        return moment - dt.timedelta(microseconds=1)
    return moment


def _exact(moment: dt.datetime) -> dt.datetime:
    if moment.astimezone(calendar.TZ).time() == dt.time.max:
        return moment + dt.timedelta(microseconds=1)
    return moment


def _budget(clock: Clock) -> dt.timedelta:
    return dt.timedelta(days=clock.budget_working_days)


def _schedule(clock: Clock, *, base: dt.datetime) -> None:
    """Set ``due_at``/``warn_at`` from the budget left, counting from ``base``."""
    budget = _budget(clock)
    remaining = budget - clock.consumed
    warn_remaining = remaining - budget * (WARNING_DENOMINATOR - WARNING_NUMERATOR) // WARNING_DENOMINATOR
    clock.due_at = _shown(calendar.add_working_time(base, remaining))
    clock.warn_at = _shown(calendar.add_working_time(base, warn_remaining))


def remaining(clock: Clock, *, now: dt.datetime | None = None) -> dt.timedelta:
    """Working time left (negative once overdue); while paused, what is left at resume."""
    if clock.state == ClockState.STOPPED or clock.due_at is None:
        return _budget(clock) - clock.consumed
    now = now or timezone.now()
    return calendar.working_time_between(max(now, calendar.start_of_next_day(clock.started_at)), _exact(clock.due_at))


def used(clock: Clock, *, now: dt.datetime) -> dt.timedelta:
    """Working time used so far (the start day not counted)."""
    if not clock.is_running:
        return clock.consumed
    left = calendar.working_time_between(now, _exact(clock.due_at))
    return max(dt.timedelta(0), _budget(clock) - left)


def _start(clock: Clock, *, now: dt.datetime) -> None:
    clock.started_at = now
    clock.consumed = dt.timedelta(0)
    clock.paused_at = clock.stopped_at = clock.warned_at = clock.overdue_at = clock.escalated_at = None
    clock.pause_reason = ""
    clock.state = ClockState.RUNNING
    _schedule(clock, base=calendar.start_of_next_day(now))
    _mark_passed(clock, now=now)


def _mark_passed(clock: Clock, *, now: dt.datetime) -> None:
    """A clock whose warning point already passed (e.g. a zero budget) shows it at once;
    the sweep still sends the events."""
    if clock.overdue_at is not None:
        clock.state = ClockState.OVERDUE
    elif clock.warned_at is not None:
        clock.state = ClockState.WARNING
    else:
        clock.state = ClockState.RUNNING


def _pause(clock: Clock, *, now: dt.datetime, reason: str) -> None:
    clock.consumed = used(clock, now=now)
    clock.paused_at = now
    clock.pause_reason = reason[:200]
    clock.due_at = clock.warn_at = None
    clock.state = ClockState.PAUSED


def _resume(clock: Clock, *, now: dt.datetime) -> None:
    clock.paused_at = None
    clock.pause_reason = ""
    _schedule(clock, base=max(now, calendar.start_of_next_day(clock.started_at)))
    _mark_passed(clock, now=now)


def _stop(clock: Clock, *, now: dt.datetime) -> None:
    clock.consumed = used(clock, now=now)
    clock.stopped_at = now
    clock.state = ClockState.STOPPED


def apply_effects(
    item: models.Model, effects: Mapping[str, str], *, now: dt.datetime | None = None, reason: str = ""
) -> dict[str, str]:
    """Apply a transition's clock effects to ``item``'s clocks (inside its transaction) and
    refresh ``item.due_at``/``item.deadline_state`` (the caller saves the item).

    An effect that does not fit the clock's status is skipped (workflow files are checked
    at load so that this does not happen); the applied effects are returned.
    """
    now = now or timezone.now()
    subject_type, subject_id = subject_of(item)
    clocks = {
        c.name: c for c in Clock.objects.select_for_update().filter(subject_type=subject_type, subject_id=subject_id)
    }
    applied: dict[str, str] = {}
    for name, effect in effects.items():
        clock = clocks.get(name)
        if effect == "start":
            if clock is None:
                clock = Clock(
                    subject_type=subject_type,
                    subject_id=subject_id,
                    name=name,
                    budget_working_days=item.clock_budget(name),  # type: ignore[attr-defined]
                    started_at=now,
                )
                clocks[name] = clock
            elif clock.state != ClockState.STOPPED:
                log.warning("clock %s of %s:%s already running; start skipped", name, subject_type, subject_id)
                continue
            else:
                clock.budget_working_days = item.clock_budget(name)  # type: ignore[attr-defined]
            _start(clock, now=now)
        elif clock is None:
            log.warning("clock %s of %s:%s never started; %s skipped", name, subject_type, subject_id, effect)
            continue
        elif effect == "pause" and clock.is_running:
            _pause(clock, now=now, reason=reason)
        elif effect == "resume" and clock.state == ClockState.PAUSED:
            _resume(clock, now=now)
        elif effect == "stop" and clock.state != ClockState.STOPPED:
            _stop(clock, now=now)
        else:
            log.warning("clock %s of %s:%s is %s; %s skipped", name, subject_type, subject_id, clock.state, effect)
            continue
        clock.org_path = _org_path(item)
        clock.save()
        applied[name] = effect
    refresh_item(item, clocks.values())
    return applied


def refresh_item(item: models.Model, clocks: Any = None) -> None:
    """Set ``item.due_at`` (nearest running deadline) and ``item.deadline_state`` from its clocks."""
    clocks = list(clocks_for(item) if clocks is None else clocks)
    item.due_at = min((c.due_at for c in clocks if c.is_running and c.due_at is not None), default=None)  # type: ignore[attr-defined]
    states = {c.state for c in clocks}
    item.deadline_state = next((state for state in URGENCY if state in states), "")  # type: ignore[attr-defined]


# --- The sweep ----------------------------------------------------------------------------


@dataclass
class SweepResult:
    warned: int = 0
    overdue: int = 0
    skipped: int = 0  # locked by another worker or a transition: the next sweep takes them
    orphaned: int = 0  # the item no longer exists: the clock was stopped

    def __str__(self) -> str:
        return f"{self.warned} warned, {self.overdue} overdue, {self.skipped} skipped, {self.orphaned} orphaned"


def _due(now: dt.datetime) -> Q:
    return Q(state=ClockState.RUNNING, warn_at__lte=now, warned_at__isnull=True) | Q(
        state__in=RUNNING, due_at__lte=now, overdue_at__isnull=True
    )


def sweep(now: dt.datetime | None = None, *, batch: int = 500) -> SweepResult:
    """Mark clocks past ``warn_at`` as warning and past ``due_at`` as overdue, once each.

    Each clock is handled in its own short transaction that locks the item, then the
    clock — the order ``transition()`` uses — skipping rows another worker holds
    (``SKIP LOCKED`` on PostgreSQL), so several workers can sweep side by side.
    """
    now = now or timezone.now()
    result = SweepResult()
    seen: set[int] = set()
    while True:
        rows = list(
            Clock.objects.filter(_due(now))
            .exclude(pk__in=seen)
            .order_by("due_at", "pk")
            .values_list("pk", "subject_type", "subject_id")[:batch]
        )
        if not rows:
            if result.warned or result.overdue or result.skipped or result.orphaned:
                log.info("deadline sweep: %s", result)
            return result
        for pk, subject_type, subject_id in rows:
            seen.add(pk)
            _sweep_one(pk, subject_type, subject_id, now=now, result=result)


def _skip_locked() -> dict[str, bool]:
    return {"skip_locked": True} if connection.features.has_select_for_update_skip_locked else {}


@transaction.atomic
def _sweep_one(pk: int, subject_type: str, subject_id: str, *, now: dt.datetime, result: SweepResult) -> None:
    try:
        model = apps.get_model(subject_type)
    except (LookupError, ValueError):
        log.error("clock %s names unknown model %s", pk, subject_type)
        result.skipped += 1
        return
    manager = model._default_manager
    item = manager.select_for_update(**_skip_locked()).filter(pk=subject_id).first()
    if item is None:
        if manager.filter(pk=subject_id).exists():
            result.skipped += 1
        else:
            Clock.objects.filter(pk=pk).update(state=ClockState.STOPPED, stopped_at=now)
            result.orphaned += 1
        return
    clock = Clock.objects.select_for_update(**_skip_locked()).filter(pk=pk).first()
    if clock is None:
        result.skipped += 1
        return
    clock_data = {"clock": clock.name, "due_at": clock.due_at, "budget_working_days": clock.budget_working_days}
    if clock.is_running and clock.due_at <= now and clock.overdue_at is None:
        clock.overdue_at = clock.escalated_at = now
        if clock.warned_at is None:
            clock.warned_at = now  # the warning was due too; the overdue event says more
        clock.state = ClockState.OVERDUE
        clock.save()
        timeline.record(item, "deadline.overdue", data=clock_data, org_path=clock.org_path)
        events.on_commit(events.deadline_overdue, sender=model, item=item, clock=clock, org_path=clock.org_path)
        timeline.record(
            item, "deadline.escalated", data={**clock_data, "to_role": ESCALATE_TO}, org_path=clock.org_path
        )
        result.overdue += 1
    elif clock.state == ClockState.RUNNING and clock.warn_at <= now and clock.warned_at is None:
        clock.warned_at = now
        clock.state = ClockState.WARNING
        clock.save()
        timeline.record(item, "deadline.warning", data=clock_data, org_path=clock.org_path)
        events.on_commit(events.deadline_warning, sender=model, item=item, clock=clock, org_path=clock.org_path)
        result.warned += 1
    else:
        return  # another worker got there first
    refresh_item(item)
    manager.filter(pk=item.pk).update(due_at=item.due_at, deadline_state=item.deadline_state)
