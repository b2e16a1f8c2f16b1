from __future__ import annotations

import io
import textwrap
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.utils import translation

from pingan.core import access, events, registry, timeline, workflow
from pingan.core.catalog import CatalogError
from pingan.core.models import Clock, TimelineEvent
from pingan.core.tests.conftest import make_staff
from pingan.core.tests.workflowapp.models import Ticket

pytestmark = pytest.mark.django_db

CATALOG_WORKFLOWS = sorted((Path(settings.CATALOG_DIR) / "workflows").glob("*.yaml"))


def workflow_events(item: Ticket) -> list[TimelineEvent]:
    return [e for e in timeline.events_for(item) if e.action.startswith("workflow.")]


# --- Loading ---------------------------------------------------------------------------


def test_catalog_has_the_assignment_workflow():
    assert "assignment" in {path.stem for path in CATALOG_WORKFLOWS}


@pytest.mark.parametrize("path", CATALOG_WORKFLOWS, ids=lambda p: p.name)
def test_every_catalog_workflow_is_valid(path):
    wf = workflow.validate_file(path)
    assert wf.code == path.stem
    assert wf.initial in wf.states
    assert any(state.final for state in wf.states.values())


def test_assignment_workflow_shape():
    wf = workflow.get("assignment")
    assert wf.transition_for("draft", "assign").target == "assigned"
    assert wf.transition_for("assigned", "accept").target == "in_progress"
    assert wf.transition_for("in_progress", "request_info").clocks == {"legal": "pause"}
    assert wf.transition_for("waiting_info", "provide_info").clocks == {"legal": "resume"}
    assert wf.transition_for("reported", "approve").target == "approved"
    assert wf.transition_for("reported", "return").target == "returned"
    assert wf.transition_for("approved", "close").target == "closed"
    assert wf.transition_for("assigned", "withdraw").target == "withdrawn"
    assert wf.transition_for("in_progress", "cancel").target == "cancelled"
    assert wf.transition_for("closed", "approve") is None
    # A bureau leader is on both sides: issuing to the units below, and responsible for what
    # the units above hand down (the assignments app's guards tell the two apart).
    assert set(wf.states_waiting_for(["bureau_leader"])) == {
        "draft",
        "waiting_info",
        "reported",
        "approved",
        "assigned",
        "in_progress",
        "returned",
    }
    assert set(wf.states_waiting_for(["community_officer"])) == {"assigned", "in_progress", "returned"}


def test_load_all_includes_app_workflows_and_is_cached():
    first = workflow.load_all()
    assert {"assignment", "ticket"} <= set(first)
    assert workflow.load_all() is first
    workflow.reload()
    assert workflow.load_all() is not first
    with pytest.raises(LookupError):
        workflow.get("no-such-workflow")


def test_names_follow_the_active_language():
    wf = workflow.get("ticket")
    with translation.override("zh-hans"):
        assert wf.state("closed").name == "已办结"
        assert wf.transition_for("resolved", "approve").name == "批准"
    with translation.override("en"):
        assert wf.state("closed").name == "Closed"
        assert wf.transition_for("resolved", "approve").name == "Approve"
        assert wf.clocks["legal"].name == "Legal time limit"


VALID = textwrap.dedent(
    """\
    code: sample
    version: 1
    name: {zh-hans: 样例, en: Sample}
    initial: draft
    states:
      draft: {name: {zh-hans: 草稿, en: Draft}}
      open: {name: {zh-hans: 办理中, en: Open}, waiting_for: [counter_officer]}
      waiting: {name: {zh-hans: 待补正, en: Waiting}, waiting_for: [owner]}
      closed: {name: {zh-hans: 已办结, en: Closed}, final: true}
    clocks:
      legal: {name: {zh-hans: 法定时限, en: Legal}}
    transitions:
      - action: submit
        name: {zh-hans: 提交, en: Submit}
        from: [draft]
        to: open
        roles: [owner]
        input: {type: object, required: [note], properties: {note: {type: string, minLength: 1}}}
        clocks: {legal: start}
      - action: ask
        name: {zh-hans: 补正, en: Ask}
        from: [open]
        to: waiting
        roles: [counter_officer]
        clocks: {legal: pause}
      - action: answer
        name: {zh-hans: 答复, en: Answer}
        from: [waiting]
        to: open
        roles: [owner]
        clocks: {legal: resume}
      - action: close
        name: {zh-hans: 办结, en: Close}
        from: [open, waiting]
        to: closed
        roles: [counter_officer, station_chief]
        clocks: {legal: stop}
    """
)


def write(tmp_path: Path, text: str, name: str = "sample") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, marker: str, occurrence: int = 1) -> int:
    seen = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if marker in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{marker!r} not in text")


def test_the_sample_is_valid(tmp_path):
    wf = workflow.validate_file(write(tmp_path, VALID))
    assert wf.code == "sample"
    assert [t.action for t in wf.transitions_from("open")] == ["ask", "close"]
    assert wf.transition_for("draft", "submit").input_fields == ["note"]


def mutate(old: str, new: str, occurrence: int = 1) -> str:
    assert VALID.count(old) >= occurrence, old
    head, *rest = VALID.split(old)
    parts = [head]
    for index, part in enumerate(rest, start=1):
        parts.append(new if index == occurrence else old)
        parts.append(part)
    return "".join(parts)


BROKEN = {
    # kind: (text, marker on the expected line, words the message must hold[, which occurrence of the marker])
    "unknown state in from": (mutate("from: [open]", "from: [opne]"), "from: [opne]", "unknown state 'opne'"),
    "unknown target state": (mutate("to: waiting", "to: wating"), "to: wating", "unknown state 'wating'"),
    "unknown initial state": (mutate("initial: draft", "initial: drafts"), "initial: drafts", "unknown initial"),
    "unreachable state": (
        mutate("  closed: {name", "  limbo: {name: {zh-hans: 搁置, en: Limbo}, final: true}\n  closed: {name"),
        "limbo:",
        "unreachable",
    ),
    "state with no way out": (
        mutate("  closed: {name", "  parked: {name: {zh-hans: 搁置, en: Parked}}\n  closed: {name").replace(
            "  - action: close",
            "  - action: park\n    name: {zh-hans: 搁置, en: Park}\n    from: [open]\n"
            "    to: parked\n    roles: [station_chief]\n  - action: close",
        ),
        "parked: {name",
        "no way out",
    ),
    "final state with a way out": (
        mutate("from: [open, waiting]", "from: [open, waiting, closed]"),
        "closed: {name",
        "final state 'closed' has transitions out",
    ),
    "unknown role": (mutate("roles: [counter_officer]", "roles: [sheriff]"), "roles: [sheriff]", "unknown role"),
    "missing roles": (mutate("    roles: [counter_officer]\n", ""), "- action: ask", "'roles' is a required"),
    "empty roles": (mutate("roles: [counter_officer]", "roles: []"), "roles: []", "should be non-empty"),
    "unknown waiting_for role": (
        mutate("waiting_for: [counter_officer]", "waiting_for: [janitor]"),
        "waiting_for: [janitor]",
        "unknown role 'janitor'",
    ),
    "duplicate action from a state": (
        mutate(
            "  - action: close",
            "  - action: ask\n    name: {zh-hans: 再问, en: Again}\n"
            "    from: [open]\n    to: closed\n    roles: [owner]\n  - action: close",
        ),
        "- action: ask",
        "duplicate action 'ask' from state 'open'",
        2,
    ),
    "unknown guard": (
        mutate("    clocks: {legal: pause}", "    guards: [no_such_guard]\n    clocks: {legal: pause}"),
        "guards: [no_such_guard]",
        "unknown guard",
    ),
    "invalid input schema": (
        mutate("properties: {note: {type: string, minLength: 1}}", "properties: {note: {type: strnig}}"),
        "strnig",
        "invalid input schema",
    ),
    "input that is not an object": (
        mutate("input: {type: object, required: [note]", "input: {type: array, required: [note]"),
        "input: {type: array",
        "type: object",
    ),
    "unknown clock": (mutate("clocks: {legal: pause}", "clocks: {lgeal: pause}"), "lgeal", "unknown clock 'lgeal'"),
    "unknown clock effect": (mutate("clocks: {legal: pause}", "clocks: {legal: halt}"), "legal: halt", "'halt'"),
    "resume on a clock never paused": (
        mutate("clocks: {legal: pause}", "clocks: {}"),
        "clocks: {legal: resume}",
        "which is never paused",
    ),
    "pause on a clock never started": (
        mutate("clocks: {legal: start}", "clocks: {}"),
        "clocks: {legal: pause}",
        "which is never started",
    ),
    "start on a running clock": (
        mutate("clocks: {legal: pause}", "clocks: {legal: start}"),
        "clocks: {legal: start}",
        "may be running",
        2,  # the second `start`, on the `ask` transition
    ),
    "resume on a running clock": (
        mutate(
            "  - action: close",
            "  - action: poke\n    name: {zh-hans: 催办, en: Poke}\n    from: [open]\n    to: open\n"
            "    roles: [station_chief]\n    clocks: {legal: resume}\n  - action: close",
        ),
        "clocks: {legal: resume}",
        "may be running",
        2,
    ),
    "code differs from file name": (mutate("code: sample", "code: example"), "code: example", "file name"),
    "name without english": (
        mutate("name: {zh-hans: 补正, en: Ask}", "name: {zh-hans: 补正}"),
        "name: {zh-hans: 补正}",
        "'en' is a required",
    ),
    "misspelt key": (mutate("    to: waiting", "    too: waiting"), "- action: ask", "transitions/1:"),
    "duplicate key": (
        mutate("    to: waiting", "    to: waiting\n    to: open"),
        "to: open",
        "duplicate key",
        2,
    ),
    "yaml syntax": (mutate("from: [open]", "from: [open"), "to: waiting", ""),
}


@pytest.mark.parametrize("kind", list(BROKEN))
def test_broken_workflow_names_file_and_line(tmp_path, kind):
    text, marker, words, *occurrence = BROKEN[kind]
    path = write(tmp_path, text)
    expected_line = line_of(text, marker, *occurrence)
    with pytest.raises(CatalogError) as error:
        workflow.validate_file(path)
    assert error.value.path.endswith("sample.yaml")
    assert str(error.value).startswith(f"{error.value.path}:{expected_line}:"), str(error.value)
    assert words in error.value.message


def test_two_files_with_one_code_are_refused(tmp_path, settings):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    write(tmp_path / "a", VALID)
    write(tmp_path / "b", VALID)
    settings.WORKFLOW_DIRS = [tmp_path / "a", tmp_path / "b"]
    workflow.reload()
    try:
        with pytest.raises(CatalogError, match="also defined"):
            workflow.load_all()
    finally:
        del settings.WORKFLOW_DIRS
        workflow.reload()


# --- Items --------------------------------------------------------------------------------


def test_new_items_start_in_the_initial_state(make_ticket):
    ticket = make_ticket()
    assert ticket.state == "new" == Ticket.initial_state()
    assert ticket.version == 0
    assert ticket.due_at is None
    assert ticket.deadline_state == ""


def test_an_item_may_not_be_created_in_an_undeclared_state(make_ticket):
    with pytest.raises(ValueError, match="not a state"):
        make_ticket(state="limbo")
    assert not Ticket.objects.exists()


def test_state_changes_only_through_the_engine(make_ticket, officer):
    ticket = make_ticket()
    with pytest.raises(workflow.StateProtected):
        ticket.state = "closed"
    assert ticket.state == "new"
    ticket.state = "new"  # the same value is no change
    workflow.transition(ticket, action="open", actor=officer, data={"note": "受理"})
    stale = Ticket.objects.get(pk=ticket.pk)
    assert stale.state == "open"
    Ticket.objects.filter(pk=ticket.pk).update(title="改")  # other fields stay editable
    stale.refresh_from_db()
    assert stale.title == "改"
    deferred = Ticket.objects.only("title").get(pk=ticket.pk)
    assert deferred.state == "open"  # a deferred state loads through refresh_from_db


# --- Transitions ------------------------------------------------------------------------------


def test_transition_moves_records_and_signals(make_ticket, officer, django_capture_on_commit_callbacks):
    ticket = make_ticket()
    received = []

    def receiver(sender, **kwargs):
        received.append((sender, kwargs))

    events.workflow_transitioned.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            step = workflow.transition(ticket, action="open", actor=officer, data={"note": "材料齐全"})
    finally:
        events.workflow_transitioned.disconnect(receiver)
    assert (step.action, step.from_state, step.to_state, step.version) == ("open", "new", "open", 1)
    assert step.data == {"note": "材料齐全"}
    assert ticket.state == "open"
    assert ticket.version == 1
    stored = Ticket.objects.get(pk=ticket.pk)
    assert (stored.state, stored.version) == ("open", 1)
    assert stored.due_at is not None
    assert stored.deadline_state == "running"
    [event] = workflow_events(ticket)
    assert event.pk == step.event.pk
    assert event.action == "workflow.open"
    assert event.actor_id == officer.pk
    assert event.data["before"] == {"state": "new"}
    assert event.data["after"] == {"state": "open"}
    assert event.data["input"] == {"note": "材料齐全"}
    assert event.data["version"] == 1
    assert event.data["clocks"] == {"legal": "start", "promised": "start"}
    assert event.org_path == ticket.org.path
    [(sender, payload)] = received
    assert sender is Ticket
    assert payload["step"] == step
    assert payload["actor"] == officer
    assert payload["item"].pk == ticket.pk


def test_no_event_is_sent_when_the_transaction_rolls_back(make_ticket, officer, django_capture_on_commit_callbacks):
    ticket = make_ticket()

    def caller_fails_after_the_transition() -> None:
        with transaction.atomic():
            workflow.transition(ticket, action="open", actor=officer, data={"note": "x"})
            raise RuntimeError("the caller failed after the transition")

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError):
        caller_fails_after_the_transition()
    assert callbacks == []
    assert Ticket.objects.get(pk=ticket.pk).state == "new"
    assert workflow_events(ticket) == []


def assert_unchanged(ticket: Ticket, state: str, version: int) -> None:
    stored = Ticket.objects.get(pk=ticket.pk)
    assert (stored.state, stored.version) == (state, version)
    assert len(workflow_events(ticket)) == version


def test_illegal_transition_names_state_and_action(make_ticket, officer, chief):
    ticket = make_ticket()
    with pytest.raises(workflow.IllegalTransition) as error:
        workflow.transition(ticket, action="approve", actor=chief)
    assert error.value.message == "当前状态「新建」不能执行「批准」"
    assert error.value.status == 409
    with pytest.raises(workflow.IllegalTransition, match="不能执行「fly」"):
        workflow.transition(ticket, action="fly", actor=chief)
    assert_unchanged(ticket, "new", 0)


def test_illegal_transition_in_english(make_ticket, chief):
    ticket = make_ticket()
    with translation.override("en"), pytest.raises(workflow.IllegalTransition) as error:
        workflow.transition(ticket, action="approve", actor=chief)
    assert "New" in error.value.message
    assert "Approve" in error.value.message


def test_stale_version_is_a_conflict(make_ticket, officer, officer2):
    ticket = make_ticket()
    seen = ticket.version
    workflow.transition(ticket, action="open", actor=officer, data={"note": "甲受理"})
    with pytest.raises(workflow.Conflict) as error:
        workflow.transition(ticket, action="open", actor=officer2, data={"note": "乙受理"}, expected_version=seen)
    assert error.value.message == "此事项已被他人处理（当前状态：办理中），请刷新后重试"
    assert error.value.status == 409
    assert_unchanged(ticket, "open", 1)
    step = workflow.transition(ticket, action="ask", actor=officer2, data={"question": "缺照片"}, expected_version=1)
    assert step.version == 2


def test_input_is_checked_against_the_schema(make_ticket, officer, chief):
    ticket = make_ticket()
    with pytest.raises(workflow.InputInvalid) as error:
        workflow.transition(ticket, action="open", actor=officer, data={"note": "", "extra": 1})
    assert error.value.errors == {"note": ["至少需要 1 个字符。"], "extra": ["不接受此字段。"]}
    assert error.value.status == 400
    with pytest.raises(workflow.InputInvalid) as error:
        workflow.transition(ticket, action="open", actor=officer)
    assert error.value.errors == {"note": ["此项为必填项。"]}
    with pytest.raises(workflow.InputInvalid) as error:
        workflow.transition(ticket, action="open", actor=officer, data={"note": "x" * 201})
    assert error.value.errors == {"note": ["最多 200 个字符。"]}
    with pytest.raises(workflow.InputInvalid) as error:
        workflow.transition(ticket, action="open", actor=officer, data={"note": 5})
    assert error.value.errors == {"note": ["类型不正确。"]}
    assert_unchanged(ticket, "new", 0)
    workflow.transition(ticket, action="open", actor=officer, data={"note": "ok"})
    workflow.transition(ticket, action="ask", actor=officer, data={"question": "缺照片"})
    with pytest.raises(workflow.InputInvalid) as error:
        workflow.transition(ticket, action="answer", actor=officer, data={"anything": 1})
    assert error.value.errors == {"__all__": ["此操作不接受输入。"]}
    assert_unchanged(ticket, "waiting", 2)
    assert not Clock.objects.filter(state="stopped").exists()


def test_guard_refusal_carries_its_reason(make_ticket, officer):
    ticket = make_ticket(blocked=True)
    workflow.transition(ticket, action="open", actor=officer, data={"note": "ok"})
    with pytest.raises(workflow.GuardFailed) as error:
        workflow.transition(ticket, action="collect", actor=officer, channel="counter")
    assert error.value.message == "材料尚未齐全，不能领取。"
    assert error.value.guard == "workflowapp_ticket_ready"
    assert_unchanged(ticket, "open", 1)
    Ticket.objects.filter(pk=ticket.pk).update(blocked=False)
    assert workflow.transition(ticket, action="collect", actor=officer, channel="counter").to_state == "resolved"


def test_guards_see_the_item_actor_and_data(make_ticket, officer):
    seen = []

    def spy(item, *, actor, data, transition):
        seen.append((item.pk, actor, data, transition.action))
        return None

    ticket = make_ticket()
    workflow.transition(ticket, action="open", actor=officer, data={"note": "ok"})
    with registry.workflow_guards.unfrozen():
        registry.workflow_guards._entries["workflowapp_ticket_ready"] = spy
        workflow.transition(ticket, action="collect", actor=officer, channel="kiosk")
    assert seen == [(ticket.pk, officer, None, "collect")]


def test_in_person_actions_need_a_counter_or_kiosk(make_ticket, officer):
    ticket = make_ticket()
    workflow.transition(ticket, action="open", actor=officer, data={"note": "ok"})
    for channel in ("web", "api", None):
        with pytest.raises(workflow.InPersonRequired, match="本人到场"):
            workflow.transition(ticket, action="collect", actor=officer, channel=channel)
    assert_unchanged(ticket, "open", 1)
    step = workflow.transition(ticket, action="collect", actor=officer, channel="counter")
    assert step.event.data["channel"] == "counter"


def test_the_wrong_role_is_refused_and_logged(make_ticket, officer, chief):
    ticket = make_ticket()
    workflow.transition(ticket, action="open", actor=officer, data={"note": "ok"})
    with pytest.raises(access.AccessDenied) as error:
        workflow.transition(ticket, action="reject", actor=officer, data={"reason": "不符合条件"})
    assert error.value.decision.status == 403
    assert "所长" in error.value.decision.reason
    assert_unchanged(ticket, "open", 1)
    denial = timeline.events_for(ticket).filter(action="access.denied").get()
    assert denial.actor_id == officer.pk
    assert denial.data["action"] == "workflow.reject"


def test_staff_outside_the_jurisdiction_do_not_even_see_it(make_ticket, outsider):
    ticket = make_ticket()
    with pytest.raises(access.AccessDenied) as error:
        workflow.transition(ticket, action="open", actor=outsider, data={"note": "ok"})
    assert error.value.decision.status == 404
    assert_unchanged(ticket, "new", 0)


def test_auditors_read_but_never_act(make_ticket, auditor):
    ticket = make_ticket()
    with pytest.raises(access.AccessDenied) as error:
        workflow.transition(ticket, action="open", actor=auditor, data={"note": "ok"})
    assert error.value.decision.status == 403
    assert workflow.available_actions(ticket, auditor) == []


def test_the_owner_pseudo_role(make_ticket, officer, citizen, other_citizen):
    ticket = make_ticket(owner=citizen)
    workflow.transition(ticket, action="open", actor=officer, data={"note": "ok"})
    workflow.transition(ticket, action="ask", actor=officer, data={"question": "请补交照片"})
    with pytest.raises(access.AccessDenied) as error:
        workflow.transition(ticket, action="answer", actor=other_citizen)
    assert error.value.decision.status == 404  # another citizen's ticket does not exist for them
    with pytest.raises(access.AccessDenied) as error:
        workflow.transition(ticket, action="reject", actor=citizen, data={"reason": "不办了"})
    assert error.value.decision.status == 403
    assert workflow.transition(ticket, action="answer", actor=citizen).to_state == "open"


def test_the_system_pseudo_role(make_ticket, officer, chief):
    ticket = make_ticket()
    workflow.transition(ticket, action="open", actor=officer, data={"note": "ok"})
    with pytest.raises(access.AccessDenied, match="不能由系统"):
        workflow.transition(ticket, action="collect", actor=None, channel="counter")
    workflow.transition(ticket, action="collect", actor=officer, channel="counter")
    with pytest.raises(access.AccessDenied):
        workflow.transition(ticket, action="auto_close", actor=chief)  # only the system
    step = workflow.transition(ticket, action="auto_close", actor=None)
    assert step.to_state == "closed"
    assert step.event.actor_label == "system"


def test_available_actions_per_user(make_ticket, officer, chief, citizen, other_citizen, outsider):
    ticket = make_ticket(owner=citizen)

    def actions(user):
        return [t.action for t in workflow.available_actions(ticket, user)]

    assert actions(officer) == ["open"]
    assert actions(chief) == ["open"]
    assert actions(citizen) == ["withdraw"]
    assert actions(other_citizen) == []
    assert actions(outsider) == []
    assert actions(None) == []
    workflow.transition(ticket, action="open", actor=officer, data={"note": "ok"})
    assert actions(officer) == ["ask", "collect"]
    assert actions(chief) == ["reject"]
    workflow.transition(ticket, action="collect", actor=officer, channel="counter")
    assert actions(None) == ["auto_close"]
    workflow.transition(ticket, action="approve", actor=chief)
    assert actions(chief) == []
    assert actions(None) == []


def test_available_actions_leave_out_what_a_guard_refuses(make_ticket, officer):
    ticket = make_ticket(blocked=True)
    workflow.transition(ticket, action="open", actor=officer, data={"note": "ok"})
    assert [t.action for t in workflow.available_actions(ticket, officer)] == ["ask"]
    Ticket.objects.filter(pk=ticket.pk).update(blocked=False)
    ticket.refresh_from_db()
    assert [t.action for t in workflow.available_actions(ticket, officer)] == ["ask", "collect"]


def test_a_chief_posted_above_acts_on_the_whole_subtree(make_ticket):
    county_chief = make_staff("370102", ["station_chief"])
    ticket = make_ticket()
    workflow.transition(ticket, action="open", actor=county_chief, data={"note": "ok"})
    assert Ticket.objects.get(pk=ticket.pk).state == "open"


def test_the_workflow_check_reports_bad_files(tmp_path, settings):
    from pingan.core.checks import workflows_check

    write(tmp_path, mutate("to: waiting", "to: wating"))
    settings.WORKFLOW_DIRS = [tmp_path]
    try:
        [problem] = workflows_check()
        assert problem.id == "pingan.E010"
        assert "sample.yaml:" in problem.msg
    finally:
        del settings.WORKFLOW_DIRS
        workflow.reload()
    assert workflows_check() == []


def test_the_workflow_check_wants_due_at_indexed_once_a_workflow_runs_clocks(monkeypatch):
    import dataclasses

    from pingan.core.checks import workflows_check

    loaded = workflow.load_all()
    assert not loaded["ebike"].clocks  # the register runs none: its due_at is left unindexed
    with_clocks = {**loaded, "ebike": dataclasses.replace(loaded["ebike"], clocks=loaded["ticket"].clocks)}
    monkeypatch.setattr(workflow, "reload", lambda: None)
    monkeypatch.setattr(workflow, "load_all", lambda: with_clocks)
    [problem] = workflows_check()
    assert problem.id == "pingan.E012"
    assert "ebikes.EBike" in problem.msg


# --- Generated docs ---------------------------------------------------------------------------


def test_committed_workflow_docs_are_up_to_date(tmp_path):
    call_command("workflow_docs", output=str(tmp_path), stdout=io.StringIO())
    committed = Path(settings.BASE_DIR) / "docs" / "workflows"
    generated = {path.name: path.read_text(encoding="utf-8") for path in tmp_path.glob("*.md")}
    assert set(generated) == {f"{path.stem}.md" for path in CATALOG_WORKFLOWS}
    for name, text in generated.items():
        assert (committed / name).read_text(encoding="utf-8") == text, f"run manage.py workflow_docs ({name})"
    assert "ticket.md" not in generated  # test-app workflows are not catalogue docs
    assert "stateDiagram-v2" in generated["assignment.md"]
    assert "| `assign` | 交办 — Assign | `draft` | `assigned` |" in generated["assignment.md"]
