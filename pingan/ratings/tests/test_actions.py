"""Rating a service and the closed loop of a bad rating."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from pingan.core import access, calendar, deadlines, registry, timeline, workflow
from pingan.inbox.models import Notice
from pingan.notify.models import Message
from pingan.ratings import actions, guards, queries, subjects
from pingan.ratings.models import Rating, Rectification
from pingan.ratings.tests.conftest import SUBJECT_TYPE
from pingan.testing import factories

pytestmark = pytest.mark.django_db


def test_a_good_rating_is_kept_and_opens_nothing(services, resident):
    subject_id = services.add(resident, channel="online")
    rating = actions.rate(
        actor=resident,
        subject_type=SUBJECT_TYPE,
        subject_id=subject_id,
        level=4,
        indicators={"efficiency": 5, "usability": 3, "overall": 4},
        comment="  很方便  ",
    )
    assert (rating.level, rating.channel, rating.comment) == (4, "online", "很方便")
    assert rating.indicators == {"efficiency": 5, "usability": 3}
    assert rating.org.code == "370102001"
    assert rating.subject_label == "居民身份证换领"
    assert not Rectification.objects.exists()
    event = timeline.events_for(rating).get(action="ratings.rated")
    assert event.data == {"subject": f"{SUBJECT_TYPE}:{subject_id}", "level": 4, "channel": "online"}
    assert event.actor_id == resident.pk


def test_a_bad_rating_opens_a_rectification_with_a_fifteen_day_clock(rate, chief, officer):
    rating = rate(1, comment="态度恶劣")
    item = rating.rectification
    assert (item.state, item.org, item.working_days) == ("verifying", rating.org, 15)
    assert item.reference.startswith("ZG")
    clock = deadlines.clocks_for(item).get()
    assert (clock.name, clock.state, clock.budget_working_days) == ("legal", "running", 15)
    start = calendar.start_of_next_day(clock.started_at)
    assert calendar.working_time_between(start, clock.due_at + dt.timedelta(microseconds=1)) == dt.timedelta(days=15)
    assert item.due_at == clock.due_at
    assert item.deadline_state == "running"
    assert list(timeline.events_for(item).values_list("action", flat=True)) == [
        "ratings.rectification_created",
        "workflow.open",
    ]
    assert list(queries.waiting_for(chief)) == [item]
    assert list(queries.waiting_for(officer)) == [item]
    elsewhere = factories.staff("370103002", ["station_chief"])
    assert list(queries.waiting_for(elsewhere)) == []


@pytest.mark.parametrize("level", [3, 4, 5])
def test_satisfied_levels_open_nothing(rate, level):
    rate(level)
    assert not Rectification.objects.exists()


def test_only_the_person_served_may_rate_and_others_learn_nothing(services, resident):
    subject_id = services.add(resident)
    someone = factories.citizen(name="孙七")
    officer = factories.staff("370102001", ["station_chief"])
    for actor, kind, key in [
        (someone, SUBJECT_TYPE, subject_id),
        (officer, SUBJECT_TYPE, subject_id),
        (resident, SUBJECT_TYPE, "S9999"),
        (resident, "testing.unknown", subject_id),
        (resident, SUBJECT_TYPE, "x" * 65),
    ]:
        with pytest.raises(actions.SubjectNotFound) as refused:
            actions.rate(actor=actor, subject_type=kind, subject_id=key, level=5)
        assert refused.value.message == "未找到该事项，或您无权评价。"
        assert refused.value.status == 404
    assert not Rating.objects.exists()


def test_an_unfinished_service_cannot_be_rated(services, resident):
    subject_id = services.add(resident, finished=False)
    with pytest.raises(actions.NotFinished) as refused:
        actions.rate(actor=resident, subject_type=SUBJECT_TYPE, subject_id=subject_id, level=5)
    assert (refused.value.message, refused.value.status) == ("该事项尚未办结，办结后才能评价。", 409)


def test_one_rating_per_service(services, resident):
    subject_id = services.add(resident)
    actions.rate(actor=resident, subject_type=SUBJECT_TYPE, subject_id=subject_id, level=5)
    with pytest.raises(actions.AlreadyRated) as refused:
        actions.rate(actor=resident, subject_type=SUBJECT_TYPE, subject_id=subject_id, level=1, comment="改差评")
    assert refused.value.message == "该事项已评价，每件事项只能评价一次。"
    assert Rating.objects.count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        Rating.objects.create(
            subject_type=SUBJECT_TYPE,
            subject_id=subject_id,
            subject_label="x",
            rater=resident,
            org=factories.org("370102001"),
            channel="counter",
            level=3,
        )


LEVELS = "请选择评价等级：5（非常满意）、4（满意）、3（基本满意）、2（不满意）、1（非常不满意）。"


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"level": 0}, "level", LEVELS),
        ({"level": 6}, "level", LEVELS),
        ({"level": "5"}, "level", LEVELS),
        ({"level": True}, "level", LEVELS),
        ({"level": None}, "level", LEVELS),
        (
            {"indicators": {"guide_accuracy": 3}},
            "indicators.guide_accuracy",
            "「窗口办事」评价没有此分项；可评分项：服务效率、服务水平、服务态度。",
        ),
        ({"indicators": {"attitude": 9}}, "indicators.attitude", "服务态度应为1至5分。"),
        ({"indicators": {"attitude": "5"}}, "indicators.attitude", "服务态度应为1至5分。"),
        ({"indicators": {"overall": 3}}, "indicators.overall", "整体满意度即评价等级，两者应一致。"),
        ({"indicators": ["attitude"]}, "indicators", "分项评价格式不正确。"),
        ({"comment": "长" * 1001}, "comment", "评价意见最多 1000 个字。"),
        ({"comment": 12}, "comment", "评价意见格式不正确。"),
        ({"level": 2, "comment": " "}, "comment", "请简要说明不满意的原因，以便核实整改。"),
    ],
)
def test_bad_input_is_refused_field_by_field(services, resident, values, field, message):
    subject_id = services.add(resident)
    arguments = {"level": 5, "indicators": {}, "comment": "", **values}
    with pytest.raises(ValidationError) as refused:
        actions.rate(actor=resident, subject_type=SUBJECT_TYPE, subject_id=subject_id, **arguments)
    assert refused.value.message_dict[field] == [message]
    assert not Rating.objects.exists()


def step(item, action, actor, **data):
    return actions.rectification_advance(
        rectification=item, action=action, actor=actor, data=data or None, expected_version=item.version
    )


def test_the_closed_loop_verify_rectify_follow_up_close(bad, chief, officer, resident):
    step(bad, "confirm", officer, finding="当日窗口仅一人值守，群众排队超过一小时，情况属实")
    step(bad, "rectify", officer, measures="高峰时段增开窗口，实行预约分流")
    step(bad, "follow_up", officer, method="phone", result="电话告知整改情况，群众表示认可", satisfaction="satisfied")
    assert bad.state == "reviewing"
    # Only the chief closes; the community officer is not offered it.
    assert [t.action for t in workflow.available_actions(bad, officer)] == []
    assert {t.action for t in workflow.available_actions(bad, chief)} == {"close", "send_back"}
    step(bad, "close", chief, reply="已增开窗口并实行预约，感谢您的监督。")
    stored = Rectification.objects.get(pk=bad.pk)
    assert stored.state == "closed"
    assert stored.founded is True
    assert stored.finding.startswith("当日窗口仅一人值守")
    assert stored.measures == "高峰时段增开窗口，实行预约分流"
    assert (stored.follow_up_method, stored.follow_up_satisfaction) == ("phone", "satisfied")
    assert stored.followed_up_by == officer
    assert stored.followed_up_at is not None
    assert stored.closed_at is not None
    assert stored.reply == "已增开窗口并实行预约，感谢您的监督。"
    assert stored.deadline_state == "stopped"
    assert deadlines.clocks_for(stored).get().state == "stopped"
    # The rater is told, in the app and by SMS, once.
    told = Message.objects.filter(recipient=resident)
    assert sorted(told.values_list("channel", flat=True)) == ["in_app", "sms"]
    assert told.first().title == "您的评价已处理"
    assert told.first().url == "/ratings/mine/"
    assert queries.waiting_for(chief).count() == 0


def test_an_unfounded_complaint_still_needs_the_follow_up(bad, chief):
    step(bad, "refute", chief, finding="调取监控，当日等候时间约十分钟")
    assert bad.state == "following_up"
    with pytest.raises(workflow.IllegalTransition) as refused:
        step(bad, "close", chief, reply="经核实不属实")
    assert refused.value.message == "当前状态「待回访」不能执行「办结」"
    step(bad, "follow_up", chief, method="visit", result="上门说明核实情况", satisfaction="fairly_satisfied")
    step(bad, "close", chief, reply="经核实，当日等候时间约十分钟。")
    assert Rectification.objects.get(pk=bad.pk).founded is False


def test_sent_back_it_needs_a_new_follow_up(bad, chief):
    step(bad, "confirm", chief, finding="属实")
    step(bad, "rectify", chief, measures="已整改")
    step(bad, "follow_up", chief, method="phone", result="群众仍不满意", satisfaction="dissatisfied")
    step(bad, "send_back", chief, reason="群众不满意，继续整改")
    assert (bad.state, bad.followed_up_at) == ("rectifying", None)
    assert Rectification.objects.get(pk=bad.pk).followed_up_at is None
    assert guards.follow_up_recorded(bad, actor=chief, data=None, transition=None) == (
        "尚未回访群众，不能办结：每一件差评都须回访后才能办结。"
    )


def test_the_database_refuses_a_closed_item_without_follow_up(bad):
    with pytest.raises(IntegrityError), transaction.atomic():
        Rectification.objects.filter(pk=bad.pk).update(state="closed")


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"method": "fax", "result": "已回访", "satisfaction": "satisfied"}, {"method"}),
        ({"method": "phone", "satisfaction": "satisfied"}, {"result"}),
        ({"method": "phone", "result": "已回访", "satisfaction": "great"}, {"satisfaction"}),
    ],
)
def test_the_follow_up_input_is_checked(bad, chief, data, errors):
    step(bad, "refute", chief, finding="不属实")
    with pytest.raises(workflow.InputInvalid) as refused:
        step(bad, "follow_up", chief, **data)
    assert set(refused.value.errors) == errors


def test_who_may_act(bad, resident):
    counter = factories.staff("370102001", ["counter_officer"])
    elsewhere = factories.staff("370103002", ["station_chief"])
    leader = factories.staff("3701", ["bureau_leader"])
    auditor = factories.staff("370102001", ["auditor"])
    with pytest.raises(access.AccessDenied) as outside:
        step(bad, "confirm", elsewhere, finding="属实")
    assert outside.value.decision.status == 404
    with pytest.raises(access.AccessDenied) as citizen:
        step(bad, "confirm", resident, finding="属实")
    assert citizen.value.decision.status == 403
    with pytest.raises(access.AccessDenied) as read_only:
        step(bad, "confirm", auditor, finding="属实")
    assert read_only.value.decision.status == 403
    step(bad, "confirm", counter, finding="属实")
    step(bad, "rectify", counter, measures="已整改")
    step(bad, "follow_up", counter, method="phone", result="已回访", satisfaction="satisfied")
    with pytest.raises(access.AccessDenied) as not_chief:
        step(bad, "close", counter, reply="办结")
    assert not_chief.value.decision.status == 403
    step(bad, "close", leader, reply="由分局领导办结")  # a leader above the station may close
    assert bad.state == "closed"


def test_a_stale_page_is_a_conflict(bad, chief, officer):
    seen = bad.version
    step(bad, "confirm", officer, finding="属实")
    with pytest.raises(workflow.Conflict):
        actions.rectification_advance(
            rectification=Rectification.objects.get(pk=bad.pk),
            action="refute",
            actor=chief,
            data={"finding": "不属实"},
            expected_version=seen,
        )


def test_the_sweep_warns_then_escalates_to_the_chief(bad, chief, django_capture_on_commit_callbacks):
    clock = deadlines.clocks_for(bad).get()
    warned = deadlines.sweep(now=clock.warn_at + dt.timedelta(minutes=1))
    assert warned.warned == 1
    bad.refresh_from_db()
    assert bad.deadline_state == "warning"
    with django_capture_on_commit_callbacks(execute=True):
        overdue = deadlines.sweep(now=clock.due_at + dt.timedelta(minutes=1))
    assert overdue.overdue == 1
    bad.refresh_from_db()
    assert bad.deadline_state == "overdue"
    notice = Notice.objects.get(recipient=chief, kind="escalation")
    assert notice.title == f"已超期：差评整改：{bad.rating.subject_label}"
    assert notice.url == bad.get_absolute_url()


def test_the_chief_may_reveal_the_raters_phone_for_the_follow_up(bad, chief, resident):
    assert actions.rectification_contact(rectification=bad, actor=chief) == "13712345678"
    read = timeline.events_for(resident.citizen).get(action="personal_data.read")
    assert read.actor_id == chief.pk
    assert read.data == {"fields": ["phone"], "purpose": "ratings.follow_up", "rectification": bad.reference}


def test_the_phone_is_refused_to_those_who_may_not_see_it(bad):
    leader = factories.staff("3701", ["bureau_leader"])  # acts, but may not unmask
    with pytest.raises(access.AccessDenied) as refused:
        actions.rectification_contact(rectification=bad, actor=leader)
    assert refused.value.decision.status == 403
    elsewhere = factories.staff("370103002", ["station_chief"])
    with pytest.raises(access.AccessDenied) as hidden:
        actions.rectification_contact(rectification=bad, actor=elsewhere)
    assert hidden.value.decision.status == 404


def test_subject_types_are_checked_when_registered(services):
    with subjects.subject_types.unfrozen():
        with pytest.raises(ValueError, match="must look like"):
            subjects.register("NoDot", services.get)
        with pytest.raises(TypeError):
            subjects.register("testing.other", "not callable")  # type: ignore[arg-type]
        with pytest.raises(KeyError):
            subjects.register(SUBJECT_TYPE, lambda subject_id: None)


def test_the_subject_types_are_frozen_after_start_up():
    assert subjects.subject_types.frozen
    with pytest.raises(registry.RegistryFrozen):
        subjects.register("testing.late", lambda subject_id: None)


def test_a_resolver_returning_nonsense_is_a_bug(services):
    with subjects.subject_types.unfrozen():
        subjects.register("testing.broken", lambda subject_id: {"owner": 1})
        with pytest.raises(TypeError):
            subjects.resolve("testing.broken", "1")
    assert subjects.resolve("testing.unknown", "1") is None
    assert not subjects.is_registered("testing.broken")
