from __future__ import annotations

import datetime as dt
import io
import os
import signal
import threading
import time
from collections.abc import Callable

import pytest
from django.core.management import call_command
from django.utils import timezone

from pingan.core import calendar, deadlines, events, registry, timeline, workflow
from pingan.core.calendar import TZ
from pingan.core.models import Clock
from pingan.core.tests.workflowapp.models import Ticket

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=TZ)


def end_of(year: int, month: int, day: int) -> dt.datetime:
    return dt.datetime(year, month, day, 23, 59, 59, 999999, tzinfo=TZ)


@pytest.fixture
def clock_at(monkeypatch) -> Callable[[dt.datetime], None]:
    """Make `timezone.now()` return a chosen moment (transitions read it)."""

    def set_now(moment: dt.datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_now


@pytest.fixture
def opened(make_ticket, officer, clock_at) -> Ticket:
    """Accepted on Wednesday 2021-09-29 at 10:00, just before the National Day week."""
    ticket = make_ticket(legal_days=10, promised_days=3)
    clock_at(at(2021, 9, 29, 10))
    workflow.transition(ticket, action="open", actor=officer, data={"note": "受理"})
    return ticket


def clock(ticket: Ticket, name: str) -> Clock:
    return deadlines.clocks_for(ticket).get(name=name)


def test_start_sets_deadlines_by_working_days(opened):
    legal, promised = clock(opened, "legal"), clock(opened, "promised")
    # Sep 30 (1), Oct 8 (2), Oct 9 Sat worked (3), Oct 11-15 (4-8), Oct 18-19 (9-10).
    assert legal.due_at == end_of(2021, 10, 19) == calendar.deadline_for(at(2021, 9, 29, 10), 10)
    assert promised.due_at == end_of(2021, 10, 9)
    # 80% of 10 working days = the end of the 8th working day.
    assert legal.warn_at == end_of(2021, 10, 15)
    # 80% of 3 = 2.4 working days: 09:36 on the 3rd working day.
    assert promised.warn_at == at(2021, 10, 9, 9, 36)
    assert (legal.state, legal.budget_working_days, legal.org_path) == ("running", 10, opened.org.path)
    stored = Ticket.objects.get(pk=opened.pk)
    assert stored.due_at == promised.due_at  # the nearest running deadline
    assert stored.deadline_state == "running"


def test_pause_for_the_citizen_pushes_the_deadline_by_the_working_time_paused(opened, officer, citizen, clock_at):
    clock_at(at(2021, 9, 30, 12))
    workflow.transition(opened, action="ask", actor=officer, data={"question": "请补交户口簿"})
    legal = clock(opened, "legal")
    assert legal.state == "paused"
    assert legal.due_at is None
    assert legal.paused_at == at(2021, 9, 30, 12)
    assert legal.consumed == DAY / 2  # half of Sep 30 (the start day Sep 29 is not counted)
    assert legal.pause_reason == "一次性告知补正"
    stored = Ticket.objects.get(pk=opened.pk)
    assert (stored.due_at, stored.deadline_state) == (None, "paused")
    # The citizen answers at noon on Oct 8: one working day paused (half of Sep 30, half of Oct 8).
    clock_at(at(2021, 10, 8, 12))
    workflow.transition(opened, action="answer", actor=citizen)
    legal = clock(opened, "legal")
    assert legal.state == "running"
    assert legal.paused_at is None
    assert legal.due_at == end_of(2021, 10, 20)  # one working day later than Oct 19
    assert deadlines.remaining(legal, now=at(2021, 10, 8, 12)) == 9.5 * DAY
    assert Ticket.objects.get(pk=opened.pk).deadline_state == "running"


def test_a_pause_over_a_holiday_costs_nothing(opened, officer, citizen, clock_at):
    clock_at(at(2021, 10, 2, 9))  # a holiday
    workflow.transition(opened, action="ask", actor=officer, data={"question": "缺材料"})
    clock_at(at(2021, 10, 6, 18))
    workflow.transition(opened, action="answer", actor=citizen)
    assert clock(opened, "legal").due_at == end_of(2021, 10, 19)


def test_pause_and_resume_on_the_start_day_change_nothing(opened, officer, citizen, clock_at):
    clock_at(at(2021, 9, 29, 11))
    workflow.transition(opened, action="ask", actor=officer, data={"question": "缺材料"})
    assert clock(opened, "legal").consumed == dt.timedelta(0)
    clock_at(at(2021, 9, 29, 15))
    workflow.transition(opened, action="answer", actor=citizen)
    assert clock(opened, "legal").due_at == end_of(2021, 10, 19)


def test_stop_keeps_the_record_and_the_item_follows_the_other_clock(opened, officer, chief, clock_at):
    clock_at(at(2021, 10, 8, 12))
    workflow.transition(opened, action="collect", actor=officer, channel="counter")
    promised, legal = clock(opened, "promised"), clock(opened, "legal")
    assert promised.state == "stopped"
    assert promised.stopped_at == at(2021, 10, 8, 12)
    assert promised.consumed == 1.5 * DAY
    assert promised.due_at == end_of(2021, 10, 9)  # kept: it was met
    stored = Ticket.objects.get(pk=opened.pk)
    assert stored.due_at == legal.due_at
    assert stored.deadline_state == "running"
    workflow.transition(opened, action="approve", actor=chief)
    stored = Ticket.objects.get(pk=opened.pk)
    assert (stored.due_at, stored.deadline_state) == (None, "stopped")


def test_effects_that_do_not_fit_are_skipped(opened):
    applied = deadlines.apply_effects(opened, {"legal": "resume", "promised": "start"}, now=at(2021, 9, 30))
    assert applied == {}
    assert clock(opened, "legal").due_at == end_of(2021, 10, 19)
    assert deadlines.apply_effects(opened, {"nonexistent": "pause"}, now=at(2021, 9, 30)) == {}


def test_a_stopped_clock_restarts_with_a_fresh_budget(opened):
    deadlines.apply_effects(opened, {"legal": "stop"}, now=at(2021, 10, 8))
    opened.legal_days = 2
    deadlines.apply_effects(opened, {"legal": "start"}, now=at(2021, 10, 11, 9))
    legal = clock(opened, "legal")
    assert (legal.state, legal.budget_working_days, legal.due_at) == ("running", 2, end_of(2021, 10, 13))
    assert legal.consumed == dt.timedelta(0)
    assert legal.stopped_at is None


@pytest.fixture
def received():
    caught: list[tuple[str, dict]] = []

    def on_warning(sender, **kwargs):
        caught.append(("warning", {"sender": sender, **kwargs}))

    def on_overdue(sender, **kwargs):
        caught.append(("overdue", {"sender": sender, **kwargs}))

    events.deadline_warning.connect(on_warning)
    events.deadline_overdue.connect(on_overdue)
    yield caught
    events.deadline_warning.disconnect(on_warning)
    events.deadline_overdue.disconnect(on_overdue)


def deadline_events(ticket: Ticket) -> list[str]:
    return [e.action for e in timeline.events_for(ticket) if e.action.startswith("deadline.")]


def test_sweep_warns_then_flags_overdue_once_each(opened, received, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert deadlines.sweep(now=at(2021, 10, 9, 9)) == deadlines.SweepResult()
        # 09:36 on Oct 9: the promised clock reaches 80%.
        result = deadlines.sweep(now=at(2021, 10, 9, 10))
    assert (result.warned, result.overdue) == (1, 0)
    promised = clock(opened, "promised")
    assert promised.state == "warning"
    assert promised.warned_at == at(2021, 10, 9, 10)
    assert Ticket.objects.get(pk=opened.pk).deadline_state == "warning"
    assert deadline_events(opened) == ["deadline.warning"]
    [(kind, payload)] = received
    assert kind == "warning"
    assert payload["sender"] is Ticket
    assert payload["item"].pk == opened.pk
    assert payload["clock"].name == "promised"
    assert payload["org_path"] == opened.org.path
    # Again: nothing new.
    with django_capture_on_commit_callbacks(execute=True):
        assert deadlines.sweep(now=at(2021, 10, 9, 11)).warned == 0
    assert len(received) == 1
    # Past the promised deadline (end of Oct 9): overdue and escalated, once.
    with django_capture_on_commit_callbacks(execute=True):
        result = deadlines.sweep(now=at(2021, 10, 11, 8))
        again = deadlines.sweep(now=at(2021, 10, 11, 9))
    assert (result.overdue, again.overdue, again.warned) == (1, 0, 0)
    promised = clock(opened, "promised")
    assert promised.state == "overdue"
    assert promised.overdue_at == promised.escalated_at == at(2021, 10, 11, 8)
    stored = Ticket.objects.get(pk=opened.pk)
    assert stored.deadline_state == "overdue"
    assert deadline_events(opened) == ["deadline.warning", "deadline.overdue", "deadline.escalated"]
    escalated = timeline.events_for(opened).get(action="deadline.escalated")
    assert escalated.data["clock"] == "promised"
    assert escalated.data["to_role"] == "station_chief"
    assert escalated.org_path == opened.org.path
    kind, payload = received[-1]
    assert kind == "overdue"
    assert payload["clock"].name == "promised"
    assert payload["org_path"] == opened.org.path
    assert len(received) == 2


def test_a_long_outage_sends_overdue_without_a_stale_warning(opened, received, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        result = deadlines.sweep(now=at(2021, 11, 1))
    assert (result.warned, result.overdue) == (0, 2)
    assert {c.state for c in deadlines.clocks_for(opened)} == {"overdue"}
    assert all(c.warned_at == at(2021, 11, 1) for c in deadlines.clocks_for(opened))
    assert [kind for kind, _ in received] == ["overdue", "overdue"]


def test_paused_and_stopped_clocks_are_not_swept(opened, officer, clock_at):
    clock_at(at(2021, 9, 30, 9))
    workflow.transition(opened, action="ask", actor=officer, data={"question": "缺材料"})
    assert deadlines.sweep(now=at(2022, 1, 1)) == deadlines.SweepResult()
    assert deadline_events(opened) == []


def test_a_clock_resumed_after_its_deadline_is_overdue_at_once(opened, officer, citizen, clock_at):
    clock_at(at(2021, 10, 12, 12))  # after the promised deadline (Oct 9), before any sweep
    workflow.transition(opened, action="ask", actor=officer, data={"question": "缺材料"})
    promised = clock(opened, "promised")
    assert promised.consumed == 3 * DAY + 1.5 * DAY  # Sep 30, Oct 8, Oct 9, then Oct 11 and half of Oct 12
    clock_at(at(2021, 10, 13, 9))
    workflow.transition(opened, action="answer", actor=citizen)
    promised = clock(opened, "promised")
    assert promised.due_at < at(2021, 10, 13, 9)
    assert deadlines.sweep(now=at(2021, 10, 13, 9, 1)).overdue == 1


def test_the_sweep_stops_clocks_of_deleted_items(opened):
    Clock.objects.filter(subject_id=str(opened.pk)).update(subject_id="999999999")
    result = deadlines.sweep(now=at(2022, 1, 1))
    assert result.orphaned == 2
    assert set(Clock.objects.values_list("state", flat=True)) == {"stopped"}


def test_worker_once_runs_the_sweep_and_registered_jobs(opened, caplog):
    ran = []

    def tidy() -> str:
        ran.append("tidy")
        return "tidied 3"

    def broken() -> str:
        raise RuntimeError("boom")

    out = io.StringIO()
    with registry.periodic_jobs.unfrozen():
        registry.periodic_jobs.register("test.broken", broken)
        registry.periodic_jobs.register("test.tidy", tidy)
        call_command("worker", "--once", stdout=out)
    assert ran == ["tidy"]
    text = out.getvalue()
    assert "deadlines.sweep: 0 warned, 0 overdue" in text
    assert "test.broken: failed" in text
    assert "test.tidy: tidied 3" in text
    assert "periodic job test.broken failed" in caplog.text
    assert "test.tidy" not in registry.periodic_jobs  # the registry is restored


def test_worker_loop_stops_on_sigterm():
    before = signal.getsignal(signal.SIGTERM)

    def terminate_once_the_worker_listens() -> None:
        deadline = time.monotonic() + 10
        while signal.getsignal(signal.SIGTERM) is before and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGTERM)

    sender = threading.Thread(target=terminate_once_the_worker_listens)
    out = io.StringIO()
    sender.start()
    try:
        call_command("worker", "--interval", "0.05", stdout=out)
    finally:
        sender.join(15)
    assert "worker stopped after" in out.getvalue()
    assert signal.getsignal(signal.SIGTERM) is before
