"""Queueing messages: in the caller's transaction, idempotent, refusing bad input."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from pingan.core import context, timeline
from pingan.core.identity import make_resident_id
from pingan.core.management.commands import worker
from pingan.notify import actions, delivery, queries
from pingan.notify.models import Channel, Message, Status
from pingan.notify.tests import backends
from pingan.orgs.models import OrgUnit

pytestmark = pytest.mark.django_db


def queue(user, **overrides):
    values = {"user": user, "title": "您的申请已受理", "body": "请按时到窗口领取证件。", "url": "/services/"}
    return actions.enqueue(**{**values, **overrides})


def test_one_row_per_channel_in_app_is_delivered_by_being_stored(resident):
    messages = queue(resident)
    assert [m.channel for m in messages] == ["in_app", "email", "sms"]
    in_app, email, sms = messages
    assert (in_app.status, in_app.next_attempt_at) == (Status.DELIVERED, None)
    assert in_app.delivered_at is not None
    assert in_app.read_at is None
    assert email.status == sms.status == Status.CREATED
    assert email.next_attempt_at is not None
    assert sms.next_attempt_at is not None
    assert queries.unread_count(resident) == 1


def test_a_committed_change_is_sent_by_the_worker_not_by_the_request(resident, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, context.acting_as(resident, channel="web"):
        email, _sms = queue(resident, channels=["email", "sms"])
    # The request only wrote the outbox: nothing sent, no number decrypted, nothing waiting on commit.
    assert callbacks == []
    assert backends.MAIL.calls == backends.SMS.calls == 0
    assert set(Message.objects.values_list("status", flat=True)) == {Status.CREATED}
    assert not timeline.events_for(resident.citizen).filter(action="personal_data.read").exists()

    outcomes = worker.run_pass()

    assert outcomes["notify.deliver"].startswith("2 delivered")
    assert [m.to for m in backends.MAIL.sent] == [["wang@example.cn"]]
    assert [s["phone"] for s in backends.SMS.sent] == ["13912345678"]
    assert set(Message.objects.values_list("status", flat=True)) == {Status.DELIVERED}
    # Queued by the person's request; sent (and the number read) by the system.
    assert timeline.events_for(email).get(action="notify.queued").actor_id == resident.pk
    assert timeline.events_for(email).get(action="notify.delivered").actor_label == "system"
    assert timeline.events_for(resident.citizen).get(action="personal_data.read").actor_id is None


def test_an_immediate_message_is_sent_right_after_commit(resident, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, context.acting_as(resident, channel="web"):
        email, _sms = queue(resident, channels=["email", "sms"], immediate=True)
    assert len(callbacks) == 1
    assert [m.to for m in backends.MAIL.sent] == [["wang@example.cn"]]
    assert [s["phone"] for s in backends.SMS.sent] == ["13912345678"]
    assert set(Message.objects.values_list("status", flat=True)) == {Status.DELIVERED}
    # Queued by the person's request; sent (and the number read) by the system.
    assert timeline.events_for(email).get(action="notify.queued").actor_id == resident.pk
    assert timeline.events_for(email).get(action="notify.delivered").actor_label == "system"
    assert timeline.events_for(resident.citizen).get(action="personal_data.read").actor_id is None
    assert worker.run_pass()["notify.deliver"].startswith("0 delivered")  # nothing left for the worker


def test_send_on_commit_setting_sends_every_message_right_after_commit(
    resident, settings, django_capture_on_commit_callbacks
):
    settings.NOTIFY_SEND_ON_COMMIT = True
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        queue(resident, channels=["email", "sms"])
    assert len(callbacks) == 1
    assert backends.MAIL.calls == backends.SMS.calls == 1
    assert set(Message.objects.values_list("status", flat=True)) == {Status.DELIVERED}


def test_an_immediate_attempt_that_fails_is_left_to_the_worker(resident, django_capture_on_commit_callbacks):
    backends.MAIL.reset(failures=1)
    with django_capture_on_commit_callbacks(execute=True):
        [email] = queue(resident, channels=["email"], immediate=True)
    email.refresh_from_db()
    assert (backends.MAIL.calls, email.status, email.attempts) == (1, Status.TEMPORARY_FAILURE, 1)
    assert email.next_attempt_at is not None  # still queued: retried until delivered
    assert delivery.deliver_due(now=email.next_attempt_at).delivered == 1
    email.refresh_from_db()
    assert email.status == Status.DELIVERED
    assert [m.to for m in backends.MAIL.sent] == [["wang@example.cn"]]


@transaction.atomic
def change_that_fails(user) -> None:
    queue(user)
    OrgUnit.objects.filter(code="370102001").update(name="改名")
    raise RuntimeError("the business change failed")


def test_a_rolled_back_change_queues_and_sends_nothing(resident, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        change_that_fails(resident)
    assert callbacks == []
    assert not Message.objects.exists()
    assert backends.MAIL.calls == backends.SMS.calls == 0
    assert OrgUnit.objects.get(code="370102001").name != "改名"


def test_the_dedupe_key_makes_it_idempotent(resident):
    first = queue(resident, dedupe_key="eservices.application.7.accepted")
    again = queue(resident, dedupe_key="eservices.application.7.accepted", title="另一个标题")
    assert [m.pk for m in again] == [m.pk for m in first]
    assert Message.objects.count() == 3
    assert Message.objects.filter(title="另一个标题").count() == 0
    # A channel not queued before under that key is added, the others are not repeated.
    more = queue(resident, dedupe_key="eservices.application.7.accepted", channels=["sms", "in_app"])
    assert [m.pk for m in more] == [first[2].pk, first[0].pk]
    assert timeline.events_for(first[0]).filter(action="notify.queued").count() == 1


def test_the_same_key_for_another_person_is_another_message(resident, officer):
    queue(resident, dedupe_key="k1", channels=["in_app"])
    queue(officer, dedupe_key="k1", channels=["in_app"])
    assert Message.objects.count() == 2


def test_queueing_is_on_the_subjects_timeline(resident):
    unit = OrgUnit.objects.get(code="370102001")
    messages = queue(resident, subject=unit, channels=["in_app", "sms"])
    event = timeline.events_for(unit).get(action="notify.queued")
    assert event.data["recipient"] == resident.pk
    assert event.data["messages"] == {"in_app": messages[0].pk, "sms": messages[1].pk}
    assert messages[0].subject_type == "orgs.orgunit"
    assert list(queries.outbox_for(unit)) == messages


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": "  "}, "title", "请填写消息标题。"),
        ({"title": "长" * 201}, "title", "消息标题最多 200 个字。"),
        ({"body": "长" * 2001}, "body", "消息内容最多 2000 个字。"),
        ({"url": "javascript:alert(1)"}, "url", "链接应为本站路径（以 / 开头）或 http(s) 地址。"),
        ({"url": "//evil.example/"}, "url", "链接应为本站路径（以 / 开头）或 http(s) 地址。"),
        ({"channels": []}, "channels", "请至少选择一个发送渠道。"),
        ({"channels": ["fax"]}, "channels", "未知的发送渠道：fax。"),
        ({"dedupe_key": ""}, "dedupe_key", "去重键应为 1 至 150 个字符。"),
        ({"dedupe_key": "k" * 151}, "dedupe_key", "去重键应为 1 至 150 个字符。"),
    ],
)
def test_bad_input_is_refused_with_a_reason(resident, overrides, field, message):
    with pytest.raises(ValidationError) as refused:
        queue(resident, **overrides)
    assert refused.value.message_dict[field] == [message]
    assert not Message.objects.exists()


def test_no_recipient_is_refused():
    with pytest.raises(ValidationError) as refused:
        actions.enqueue(user=None, title="标题", body="")
    assert refused.value.message_dict == {"user": ["请指定接收人。"]}


@pytest.mark.parametrize("where", ["title", "body", "url"])
def test_a_message_never_carries_an_id_number(resident, where):
    number = make_resident_id("370102", dt.date(1990, 5, 17), 12)
    text = {"title": f"申请人{number}", "body": f"身份证号 {number} 已核验", "url": f"/services/?id={number}"}[where]
    with pytest.raises(ValidationError) as refused:
        queue(resident, **{where: text})
    assert refused.value.message_dict[where] == ["消息中不得包含身份证号码。"]
    # First-generation 15-digit numbers too; other numbers are fine.
    assert actions.contains_id_number("370102900517123")
    assert not actions.contains_id_number("受理编号 SQ2025000123，电话 12345")


def test_a_subject_must_be_a_model_or_a_pair(resident):
    with pytest.raises(TypeError):
        queue(resident, subject="orgs.orgunit:1")


def test_mark_read_and_mark_all_read(resident, officer):
    first = queue(resident, channels=["in_app"])[0]
    queue(resident, channels=["in_app"], title="第二条")
    others = queue(officer, channels=["in_app"])[0]
    actions.message_mark_read(message=first, user=resident)
    first.refresh_from_db()
    assert first.read_at is not None
    with pytest.raises(Message.DoesNotExist):
        actions.message_mark_read(message=others, user=resident)
    assert actions.messages_mark_all_read(user=resident) == 1
    assert queries.unread_count(resident) == 0
    assert queries.unread_count(officer) == 1


def test_only_in_app_messages_are_listed(resident):
    queue(resident)
    assert [m.channel for m in queries.messages_for(resident)] == [Channel.IN_APP]


def test_a_concurrent_enqueue_with_the_same_key_wins_and_the_rest_is_added(resident, monkeypatch):
    # Another request queued the SMS under this key between our check and our insert.
    original = Message.objects.filter
    raced = {"done": False}

    def filter_then_race(*args, **kwargs):
        if kwargs.get("dedupe_key") == "k-race" and not raced["done"]:
            raced["done"] = True
            seen = list(original(*args, **kwargs))  # nothing yet…
            Message.objects.create(recipient=resident, channel="sms", title="先到的", dedupe_key="k-race")
            return seen  # …and then the other request's row lands
        return original(*args, **kwargs)

    monkeypatch.setattr(Message.objects, "filter", filter_then_race)
    messages = queue(resident, dedupe_key="k-race")
    monkeypatch.undo()
    assert [m.channel for m in messages] == ["in_app", "email", "sms"]
    assert messages[2].title == "先到的"
    assert Message.objects.filter(dedupe_key="k-race").count() == 3
    assert len({m.pk for m in messages}) == 3


def test_in_app_many_reaches_each_person_once_with_one_timeline_event(resident, officer):
    subject = OrgUnit.objects.get(code="370102001")  # any model instance the news is about
    many = dict(title="紧急寻人", body="请留意", url="/alerts/", subject=subject, event="test.pushed")
    assert actions.enqueue_in_app_many(user_ids=[resident.pk, officer.pk], dedupe_key="alert.X1", **many) == 2
    # A second push with the same key (a retried job) adds nobody; a new person is added.
    assert actions.enqueue_in_app_many(user_ids=[resident.pk], dedupe_key="alert.X1", **many) == 1
    assert Message.objects.filter(dedupe_key="alert.X1", recipient=resident).count() == 1
    assert set(Message.objects.values_list("channel", "status").distinct()) == {(Channel.IN_APP, Status.DELIVERED)}
    assert queries.unread_count(resident) == 1
    assert timeline.events_for(subject).filter(action="test.pushed").count() == 2  # one per push, not per person


def test_in_app_many_refuses_an_id_number_and_queues_nothing(resident):
    subject = OrgUnit.objects.get(code="370102001")
    with pytest.raises(ValidationError):
        actions.enqueue_in_app_many(
            user_ids=[resident.pk],
            title="寻人",
            body=f"身份证 {make_resident_id('370102', dt.date(2019, 1, 2), 11)}",
            subject=subject,
            dedupe_key="alert.X2",
            event="test.pushed",
        )
    assert not Message.objects.exists()
