from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from pingan.assignments import actions
from pingan.core import access, calendar, timeline, workflow
from pingan.testing import factories

pytestmark = pytest.mark.django_db


def advance(item, action, actor, **data):
    return actions.assignment_advance(
        assignment=item, action=action, actor=actor, data=data or None, expected_version=item.version
    )


def test_create_makes_a_draft_issued_by_the_nearest_leader_unit(task, leader):
    assert task.state == "draft"
    assert task.issuer_org.code == "3701"
    assert task.org.code == "370102001"
    assert task.reference.startswith("JB")
    assert timeline.events_for(task).filter(action="assignments.created").count() == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"title": "x"}, "title"), ({"working_days": 0}, "working_days"), ({"working_days": 999}, "working_days")],
)
def test_create_refuses_bad_input(leader, changes, field):
    values = {"title": "有效标题", "working_days": 5} | changes
    with pytest.raises(ValidationError) as error:
        actions.assignment_create(actor=leader, org=factories.org("370102001"), **values)
    assert field in error.value.message_dict


def test_create_refuses_units_outside_jurisdiction_and_wrong_roles(leader, officer):
    with pytest.raises(access.AccessDenied):
        actions.assignment_create(actor=leader, title="越权交办", org=factories.org("370202001"), working_days=3)
    with pytest.raises(access.AccessDenied):
        actions.assignment_create(actor=officer, title="无权交办", org=factories.org("370102001"), working_days=3)
    with pytest.raises(ValidationError):
        actions.assignment_create(actor=leader, title="交给警种", org=factories.org("3701-traffic"), working_days=3)


def test_the_whole_path_with_a_question_pausing_the_clock(task, leader, chief, officer):
    advance(task, "assign", leader, note="请于时限内完成")
    assert (task.state, task.deadline_state) == ("assigned", "running")
    first_due = task.due_at
    assert first_due is not None
    advance(task, "accept", officer)
    advance(task, "request_info", officer, question="名单从哪里取得？")
    assert (task.state, task.deadline_state) == ("waiting_info", "paused")
    advance(task, "provide_info", leader, answer="社区居委会提供")
    assert task.state == "in_progress"
    assert task.due_at >= first_due
    advance(task, "report", officer, summary="已走访32户")
    advance(task, "return", leader, reason="缺少登记表")
    advance(task, "rework", chief)
    advance(task, "report", chief, summary="已补登记表")
    advance(task, "approve", leader, comment="同意")
    advance(task, "close", leader)
    assert task.state == "closed"
    actions_taken = list(
        timeline.events_for(task).filter(action__startswith="workflow.").values_list("action", flat=True)
    )
    assert actions_taken == [
        "workflow.assign",
        "workflow.accept",
        "workflow.request_info",
        "workflow.provide_info",
        "workflow.report",
        "workflow.return",
        "workflow.rework",
        "workflow.report",
        "workflow.approve",
        "workflow.close",
    ]


def test_deadline_counts_working_days(task, leader):
    advance(task, "assign", leader)
    start = timeline.events_for(task).get(action="workflow.assign").occurred_at
    expected_day = calendar.add_working_days(start.astimezone(calendar.TZ).date(), 5)
    assert task.due_at.astimezone(calendar.TZ).date() == expected_day


def test_the_responsible_station_cannot_approve_its_own_report(task, leader, chief, officer):
    advance(task, "assign", leader)
    advance(task, "accept", chief)
    advance(task, "report", chief, summary="完成")
    with pytest.raises(workflow.GuardFailed) as refused:
        advance(task, "approve", chief)
    assert "交办单位" in refused.value.message
    task.refresh_from_db()
    assert task.state == "reported"


def test_the_issuer_cannot_do_the_responsible_units_work(task, leader):
    advance(task, "assign", leader)
    with pytest.raises((workflow.GuardFailed, access.AccessDenied)):
        advance(task, "accept", leader)


def test_outsiders_cannot_see_or_act(task, leader):
    advance(task, "assign", leader)
    outsider = factories.staff("370202001", ["station_chief"])
    with pytest.raises(access.AccessDenied) as denied:
        advance(task, "accept", outsider)
    assert denied.value.decision.status == 404
    auditor = factories.staff("37", ["auditor"])
    with pytest.raises(access.AccessDenied) as denied:
        advance(task, "accept", auditor)
    assert denied.value.decision.status == 403


def test_stale_version_is_a_conflict(task, leader, officer):
    seen = task.version
    advance(task, "assign", leader)
    with pytest.raises(workflow.Conflict):
        actions.assignment_advance(assignment=task, action="withdraw", actor=leader, expected_version=seen)


def test_required_input_is_enforced(task, leader, officer):
    advance(task, "assign", leader)
    advance(task, "accept", officer)
    with pytest.raises(workflow.InputInvalid) as invalid:
        actions.assignment_advance(
            assignment=task, action="report", actor=officer, data={}, expected_version=task.version
        )
    assert "summary" in invalid.value.errors


def test_overdue_task_is_escalated_to_the_station_chief(
    task, leader, chief, officer, django_capture_on_commit_callbacks
):
    from pingan.core import deadlines
    from pingan.inbox import queries as inbox

    with django_capture_on_commit_callbacks(execute=True):
        advance(task, "assign", leader)
        advance(task, "accept", officer)
    later = task.due_at + dt.timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        result = deadlines.sweep(now=later)
    assert result.overdue >= 1
    task.refresh_from_db()
    assert task.deadline_state == "overdue"
    entries = inbox.inbox_for(chief).entries
    assert any(entry.kind == "notices" and task.title in entry.title for entry in entries)
    assert any(entry.kind == "assignments" and entry.deadline_state == "overdue" for entry in entries)
