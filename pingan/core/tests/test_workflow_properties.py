"""Random sequences of legal and illegal actions, by random people, at random times, with
sweeps in between: the engine's invariants hold after every step."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pingan.core import access, deadlines, timeline, workflow
from pingan.core.calendar import TZ
from pingan.core.models import ClockState
from pingan.core.tests.conftest import STATION, make_citizen, make_staff, org, other_station
from pingan.core.tests.workflowapp.models import Ticket

pytestmark = pytest.mark.django_db

WF_CODE = "ticket"
ACTORS = ["officer", "chief", "owner", "stranger", "outsider", "system"]
VALID_INPUT: dict[str, dict[str, Any] | None] = {
    "open": {"note": "受理"},
    "ask": {"question": "请补交材料"},
    "reject": {"reason": "不符合条件"},
}
INVALID_INPUT: dict[str, Any] = {"note": ""}

step_strategy = st.tuples(
    st.sampled_from(["open", "ask", "answer", "collect", "approve", "auto_close", "reject", "withdraw", "fly"]),
    st.sampled_from(ACTORS),
    st.sampled_from(["valid", "invalid", "none"]),
    st.sampled_from(["counter", "web"]),
    st.integers(min_value=0, max_value=72),  # hours that pass before the step
    st.booleans(),  # sweep before the step
)


@pytest.fixture
def people() -> dict[str, Any]:
    return {
        "officer": make_staff(STATION, ["counter_officer"]),
        "chief": make_staff(STATION, ["station_chief"]),
        "owner": make_citizen("王五"),
        "stranger": make_citizen("赵六"),
        "outsider": make_staff(other_station().code, ["counter_officer", "station_chief"]),
        "system": None,
    }


@pytest.fixture
def now(monkeypatch) -> list[dt.datetime]:
    moment = [dt.datetime(2021, 9, 27, 9, tzinfo=TZ)]
    monkeypatch.setattr(timezone, "now", lambda: moment[0])
    return moment


def expected_clock_status(status: dict[str, str], effects: dict[str, str]) -> None:
    for name, effect in effects.items():
        current = status.get(name, "idle")
        if workflow._allowed(effect, current):
            status[name] = workflow._after(effect, current)


def stored_clock_status(ticket: Ticket) -> dict[str, str]:
    result = {}
    for clock in deadlines.clocks_for(ticket):
        result[clock.name] = "running" if clock.is_running else str(clock.state)
    return result


def check_invariants(ticket: Ticket, successes: int, clock_status: dict[str, str]) -> None:
    wf = workflow.get(WF_CODE)
    stored = Ticket.objects.get(pk=ticket.pk)
    assert stored.state in wf.states
    assert stored.version == successes
    workflow_events = timeline.events_for(ticket).filter(action__startswith="workflow.")
    assert workflow_events.count() == successes
    assert stored_clock_status(ticket) == {k: v for k, v in clock_status.items() if v != "idle"}
    clocks = list(deadlines.clocks_for(ticket))
    running = [c for c in clocks if c.is_running]
    assert stored.due_at == min((c.due_at for c in running), default=None)
    urgency = [s for s in deadlines.URGENCY if s in {c.state for c in clocks}]
    assert stored.deadline_state == (urgency[0] if urgency else "")
    for clock in clocks:
        assert clock.consumed >= dt.timedelta(0)
        if clock.is_running:
            assert clock.warn_at <= clock.due_at
        if clock.state == ClockState.PAUSED:
            assert clock.due_at is None
            assert clock.paused_at is not None
        if clock.overdue_at is not None:
            assert clock.warned_at is not None
            assert clock.escalated_at == clock.overdue_at


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(blocked=st.booleans(), steps=st.lists(step_strategy, max_size=25))
def test_random_action_sequences_keep_the_invariants(people, now, blocked, steps):
    wf = workflow.get(WF_CODE)
    ticket = Ticket.objects.create(org=org(STATION), owner=people["owner"], blocked=blocked, legal_days=5)
    successes, clock_status = 0, {}
    for action, actor_key, input_kind, channel, hours, sweep_first in steps:
        now[0] += dt.timedelta(hours=hours)
        if sweep_first:
            deadlines.sweep(now=now[0])
        before = Ticket.objects.get(pk=ticket.pk)
        declared = wf.transition_for(before.state, action)
        data = {"valid": VALID_INPUT.get(action), "invalid": INVALID_INPUT, "none": None}[input_kind]
        step, refusal = None, None
        try:
            step = workflow.transition(ticket, action=action, actor=people[actor_key], data=data, channel=channel)
        except (workflow.WorkflowError, access.AccessDenied) as error:
            refusal = error
        if isinstance(refusal, access.AccessDenied):
            # Out of view: "not found" whatever the action; in view: refused for the role.
            hidden = refusal.decision.status == 404
            assert hidden == (actor_key in {"stranger", "outsider"})
            assert hidden or declared is not None
        elif isinstance(refusal, workflow.IllegalTransition):
            assert declared is None
            assert refusal.message == f"当前状态「{wf.state_name(before.state)}」不能执行「{wf.action_name(action)}」"
        elif refusal is not None:
            assert declared is not None
        else:
            assert step is not None
            assert declared is not None
            assert (step.from_state, step.to_state) == (before.state, declared.target)
            successes += 1
            assert step.version == successes
            expected_clock_status(clock_status, dict(declared.clocks))
            assert channel == "counter" or not declared.in_person
            assert actor_key != "system" or "system" in declared.roles
            assert actor_key not in {"stranger", "outsider"}
        check_invariants(ticket, successes, clock_status)


def test_the_sequences_reach_every_state(people, now):
    """A fixed walk through every state (so the random test's space is not empty)."""
    ticket = Ticket.objects.create(org=org(STATION), owner=people["owner"])
    officer, chief, owner = people["officer"], people["chief"], people["owner"]
    walk = [
        ("open", officer, {"note": "受理"}),
        ("ask", officer, {"question": "缺材料"}),
        ("answer", owner, None),
        ("collect", officer, None),
        ("approve", chief, None),
    ]
    seen = {ticket.state}
    for action, actor, data in walk:
        now[0] += dt.timedelta(hours=20)
        seen.add(workflow.transition(ticket, action=action, actor=actor, data=data, channel="counter").to_state)
    other = Ticket.objects.create(org=org(STATION), owner=owner)
    seen.add(workflow.transition(other, action="withdraw", actor=owner).to_state)
    assert seen == set(workflow.get(WF_CODE).states)
    check_invariants(ticket, len(walk), {"legal": "stopped", "promised": "stopped"})
