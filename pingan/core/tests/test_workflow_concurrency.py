"""Two officers acting on one item at the same moment, on real concurrent PostgreSQL
connections: exactly one wins, the other gets a clear refusal.

Each thread has its own connection (Django's are per thread). The first transition to
get the row lock is held inside its transaction until the main thread has seen the other
connections wait for that lock in ``pg_stat_activity`` — so they really collide.

These tests are transactional (the threads must see committed rows); the suite's
``pingan.testing.browser`` plugin puts the reference data back after each flush.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction

from pingan.core import deadlines, timeline, workflow
from pingan.core.tests.conftest import STATION, make_citizen, make_staff, org
from pingan.core.tests.workflowapp.models import Ticket

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs real concurrent connections and row locks: run with DATABASE_URL=postgres://...",
    ),
]


def wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def lock_waiters() -> int:
    """Other connections of this database waiting for a lock right now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


class HoldFirstLock:
    """Wraps ``deadlines.apply_effects`` (called while the row is locked): the first
    transition to get there waits until released, holding the lock."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.inside = threading.Event()
        self.release = threading.Event()
        self.original = deadlines.apply_effects
        monkeypatch.setattr(deadlines, "apply_effects", self)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not self.inside.is_set():
            self.inside.set()
            self.release.wait(20)
        return self.original(*args, **kwargs)


def race(calls: list[Callable[[], Any]], hold: HoldFirstLock) -> list[Any]:
    """Run ``calls`` at once, each on its own thread and connection; results or exceptions."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait(10)
            results[index] = calls[index]()
        except Exception as error:  # the refusal is the result under test
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    try:
        assert hold.inside.wait(10), "no transition reached the locked section"
        # The others must be blocked on the row lock the first one holds.
        assert wait_for(lambda: lock_waiters() >= len(calls) - 1), "the other transitions did not wait for the lock"
    finally:
        hold.release.set()
        for thread in threads:
            thread.join(20)
    return results


@pytest.fixture
def people() -> dict[str, Any]:
    return {
        "officer": make_staff(STATION, ["counter_officer"]),
        "officer2": make_staff(STATION, ["counter_officer"]),
        "chief": make_staff(STATION, ["station_chief"]),
        "chief2": make_staff(STATION, ["station_chief"]),
        "owner": make_citizen(),
    }


def resolved_ticket(people: dict[str, Any]) -> Ticket:
    ticket = Ticket.objects.create(org=org(STATION), owner=people["owner"])
    workflow.transition(ticket, action="open", actor=people["officer"], data={"note": "受理"})
    workflow.transition(ticket, action="collect", actor=people["officer"], channel="counter")
    return ticket


@pytest.mark.django_db(transaction=True)
def test_conflicting_actions_with_the_same_version_one_wins(people, monkeypatch):
    ticket = resolved_ticket(people)
    seen = ticket.version
    hold = HoldFirstLock(monkeypatch)
    results = race(
        [
            lambda: workflow.transition(
                Ticket.objects.get(pk=ticket.pk), action="approve", actor=people["chief"], expected_version=seen
            ),
            lambda: workflow.transition(
                Ticket.objects.get(pk=ticket.pk),
                action="reject",
                actor=people["chief2"],
                data={"reason": "材料不实"},
                expected_version=seen,
            ),
        ],
        hold,
    )
    steps = [r for r in results if isinstance(r, workflow.Step)]
    refusals = [r for r in results if isinstance(r, Exception)]
    assert len(steps) == 1, results
    assert len(refusals) == 1
    assert isinstance(refusals[0], workflow.Conflict)
    stored = Ticket.objects.get(pk=ticket.pk)
    assert stored.state == steps[0].to_state
    assert stored.version == seen + 1
    assert refusals[0].message == f"此事项已被他人处理（当前状态：{stored.state_name}），请刷新后重试"
    assert timeline.events_for(ticket).filter(action__startswith="workflow.").count() == seen + 1
    assert timeline.verify() == []


@pytest.mark.django_db(transaction=True)
def test_the_same_action_twice_without_a_version_one_wins(people, monkeypatch):
    ticket = Ticket.objects.create(org=org(STATION), owner=people["owner"])
    hold = HoldFirstLock(monkeypatch)
    results = race(
        [
            lambda officer=officer: workflow.transition(
                Ticket.objects.get(pk=ticket.pk), action="open", actor=officer, data={"note": "受理"}
            )
            for officer in (people["officer"], people["officer2"], people["chief"])
        ],
        hold,
    )
    steps = [r for r in results if isinstance(r, workflow.Step)]
    refusals = [r for r in results if isinstance(r, Exception)]
    assert len(steps) == 1, results
    assert len(refusals) == 2
    assert all(isinstance(r, workflow.IllegalTransition) for r in refusals), refusals
    assert {r.message for r in refusals} == {"当前状态「办理中」不能执行「受理」"}
    stored = Ticket.objects.get(pk=ticket.pk)
    assert (stored.state, stored.version) == ("open", 1)
    assert deadlines.clocks_for(stored).count() == 2  # the clocks were started once
    assert timeline.events_for(ticket).filter(action="workflow.open").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_sweep_skips_items_another_transaction_holds(people):
    ticket = Ticket.objects.create(org=org(STATION), owner=people["owner"], promised_days=1)
    workflow.transition(ticket, action="open", actor=people["officer"], data={"note": "受理"})
    locked, release = threading.Event(), threading.Event()

    def hold_the_row() -> None:
        try:
            with transaction.atomic():
                Ticket.objects.select_for_update().get(pk=ticket.pk)
                locked.set()
                release.wait(20)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    try:
        assert locked.wait(10)
        later = ticket.due_at + dt.timedelta(days=30)
        skipped = deadlines.sweep(now=later)
        assert (skipped.skipped, skipped.overdue) == (2, 0)
    finally:
        release.set()
        holder.join(20)
    done = deadlines.sweep(now=later)
    assert (done.overdue, done.skipped) == (2, 0)
    assert Ticket.objects.get(pk=ticket.pk).deadline_state == "overdue"


@pytest.mark.django_db(transaction=True)
def test_transactions_touching_two_subjects_in_opposite_orders_do_not_deadlock():
    """One transaction records subject A then B, another B then A, at the same moment, with
    A and B on different chains. Were each event appended to its subject's chain, each
    transaction would hold one head lock and wait for the other's: a deadlock. A
    transaction appends to one chain, so both commit and the timeline verifies."""
    a = ("test.case", "1")
    b = next(
        ("test.case", str(n)) for n in range(2, 99) if timeline.chain_for("test.case", str(n)) != timeline.chain_for(*a)
    )
    both_started = threading.Barrier(2, timeout=10)
    errors: list[BaseException] = []

    def work(first: tuple[str, str], second: tuple[str, str]) -> None:
        try:
            with transaction.atomic():
                timeline.record(first, "case.touched")
                both_started.wait()
                timeline.record(second, "case.touched")
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=pair) for pair in ((a, b), (b, a))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert timeline.events_for(a).count() == 2
    assert timeline.events_for(b).count() == 2
    assert timeline.verify() == []
