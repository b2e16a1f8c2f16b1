"""Delivery: retried until delivered through outages of any length, exactly once each,
permanent failures never retried, the phone decrypted only to send."""

from __future__ import annotations

import datetime as dt
import json
import stat

import pytest
from django.utils import timezone

from pingan.core import timeline
from pingan.core.management.commands import worker
from pingan.notify import actions, delivery, sms
from pingan.notify.models import Message, Status
from pingan.notify.tests import backends
from pingan.testing import factories

pytestmark = pytest.mark.django_db


def queue(user, channels=("email", "sms"), **overrides):
    values = {"user": user, "title": "办理进度", "body": "您的申请已办结。", "url": "/services/a/1/"}
    return actions.enqueue(**{**values, "channels": channels, **overrides})


def run_until_quiet(start: dt.datetime, *, hours: float = 48) -> tuple[dt.datetime, int]:
    """Run the job as the worker would, the clock jumping to the next due row each time."""
    now, passes = start, 0
    while now < start + dt.timedelta(hours=hours):
        delivery.deliver_due(now=now)
        passes += 1
        following = Message.objects.filter(next_attempt_at__isnull=False).order_by("next_attempt_at").first()
        if following is None:
            return now, passes
        now = max(now + dt.timedelta(seconds=1), following.next_attempt_at)
    raise AssertionError("messages still queued after the simulated time")


def test_a_long_outage_loses_nothing_and_sends_each_message_once(resident):
    people = [resident] + [factories.citizen(name=f"市民{i}") for i in range(4)]
    for person in people[1:]:
        person.email = f"p{person.pk}@example.cn"
        person.save(update_fields=["email"])
    queued = [m for person in people for n in range(3) for m in queue(person, title=f"第{n}条")]
    assert len(queued) == 30
    # Mail is down for the next 40 sends, SMS for the next 25: hours of outage with backoff.
    backends.MAIL.reset(failures=40)
    backends.SMS.reset(failures=25)
    start = timezone.now()
    finished, passes = run_until_quiet(start)

    assert set(Message.objects.values_list("status", flat=True)) == {Status.DELIVERED}
    mail_ids = sorted(int(m.extra_headers["X-Pingan-Message"]) for m in backends.MAIL.sent)
    sms_ids = sorted(int(s["reference"]) for s in backends.SMS.sent)
    assert mail_ids == sorted(m.pk for m in queued if m.channel == "email")  # each once, none lost
    assert sms_ids == sorted(m.pk for m in queued if m.channel == "sms")
    assert backends.MAIL.calls == 40 + 15
    assert backends.SMS.calls == 25 + 15
    assert finished - start > dt.timedelta(minutes=5)  # it took backoff, not a busy loop
    assert Message.objects.filter(attempts__gt=1).exists()
    assert passes < 100
    first = queued[0]
    actions_seen = list(timeline.events_for(first).values_list("action", flat=True))
    assert actions_seen[-1] == "notify.delivered"
    assert "notify.temporary_failure" in actions_seen


def test_backoff_doubles_up_to_the_cap(settings):
    settings.NOTIFY_RETRY_BASE_SECONDS = 30
    settings.NOTIFY_RETRY_CAP_SECONDS = 3600
    assert [delivery.retry_delay(n).total_seconds() for n in range(1, 10)] == [
        30, 60, 120, 240, 480, 960, 1920, 3600, 3600,
    ]  # fmt: skip
    assert delivery.retry_delay(10_000).total_seconds() == 3600


def test_a_failed_message_waits_for_its_backoff(resident):
    message = queue(resident, channels=["sms"])[0]
    backends.SMS.reset(failures=1)
    now = timezone.now()
    assert delivery.deliver_due(now=now).temporary == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.TEMPORARY_FAILURE, 1)
    assert message.next_attempt_at == now + dt.timedelta(seconds=30)
    assert message.last_error == "TemporaryFailure: gateway timeout"
    assert delivery.deliver_due(now=now + dt.timedelta(seconds=29)).delivered == 0
    assert delivery.deliver_due(now=now + dt.timedelta(seconds=30)).delivered == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, message.next_attempt_at) == (Status.DELIVERED, 2, None)


def test_a_failing_channel_is_left_alone_for_the_rest_of_the_pass(resident, settings):
    settings.NOTIFY_CHANNEL_FAILURES = 3
    for n in range(6):
        queue(resident, channels=["email"], title=f"第{n}条")
    queue(resident, channels=["sms"])
    backends.MAIL.reset(failures=100)
    result = delivery.deliver_due(now=timezone.now(), batch=10)
    assert (result.temporary, result.deferred, result.delivered) == (3, 3, 1)
    assert backends.MAIL.calls == 3
    untried = Message.objects.filter(channel="email", attempts=0)
    assert untried.count() == 3
    assert set(untried.values_list("status", flat=True)) == {Status.CREATED}
    assert delivery.channel_down("email")
    assert not delivery.channel_down("sms")


def test_the_immediate_attempt_skips_a_channel_that_is_down(resident, django_capture_on_commit_callbacks):
    backends.MAIL.reset(failures=100)
    with django_capture_on_commit_callbacks(execute=True):
        queue(resident, channels=["email"], immediate=True)
    assert backends.MAIL.calls == 1  # tried once after commit, failed: the channel is marked down
    with django_capture_on_commit_callbacks(execute=True):
        queue(resident, channels=["email"], title="又一条", immediate=True)
    assert backends.MAIL.calls == 1  # the request did not wait on a mail system known to be down
    assert Message.objects.filter(status=Status.CREATED).count() == 1  # the worker sends it later


def test_no_address_is_a_permanent_failure_never_retried(officer):
    officer_messages = queue(officer)  # staff: no e-mail address on file, no mobile in a citizen profile
    result = delivery.deliver_due(now=timezone.now())
    assert result.permanent == 2
    rows = {m.channel: m for m in Message.objects.filter(pk__in=[m.pk for m in officer_messages])}
    assert rows["email"].status == rows["sms"].status == Status.PERMANENT_FAILURE
    assert rows["email"].last_error == "无电子邮件地址"
    assert rows["sms"].last_error == "无手机号码"
    assert rows["email"].next_attempt_at is None
    later = timezone.now() + dt.timedelta(days=30)
    assert delivery.deliver_due(now=later).permanent == 0
    assert backends.MAIL.calls == backends.SMS.calls == 0
    assert timeline.events_for(rows["sms"]).filter(action="notify.permanent_failure").count() == 1


def test_invalid_address_and_closed_accounts_fail_permanently(resident):
    resident.email = "not-an-address"
    resident.save(update_fields=["email"])
    email = queue(resident, channels=["email"])[0]
    delivery.deliver_due(now=timezone.now())
    email.refresh_from_db()
    assert (email.status, email.last_error) == (Status.PERMANENT_FAILURE, "电子邮件地址无效")
    resident.is_active = False
    resident.save(update_fields=["is_active"])
    text = queue(resident, channels=["sms"])[0]
    delivery.deliver_due(now=timezone.now())
    text.refresh_from_db()
    assert (text.status, text.last_error) == (Status.PERMANENT_FAILURE, "账号已停用")
    assert backends.SMS.calls == 0


def test_refusals_by_the_mail_system_or_gateway_are_permanent(resident, settings):
    settings.EMAIL_BACKEND = "pingan.notify.tests.backends.RefusingEmailBackend"
    settings.NOTIFY_SMS_BACKEND = "pingan.notify.tests.backends.RefusingSmsBackend"
    queue(resident)
    assert delivery.deliver_due(now=timezone.now()).permanent == 2
    errors = dict(Message.objects.values_list("channel", "last_error"))
    assert errors["sms"] == "gateway refused: number not in service"
    assert errors["email"].startswith("recipient refused")


def test_a_broken_gateway_client_does_not_lose_the_message(resident, settings):
    settings.NOTIFY_SMS_BACKEND = "pingan.notify.tests.backends.BrokenSmsBackend"
    message = queue(resident, channels=["sms"])[0]
    assert delivery.deliver_due(now=timezone.now()).temporary == 1
    message.refresh_from_db()
    assert message.status == Status.TEMPORARY_FAILURE
    assert message.last_error == "KeyError: \"response had no 'msgid'\""


def test_the_phone_is_read_at_send_time_only_and_the_read_is_logged(resident):
    message = queue(resident, channels=["sms"])[0]
    stored = Message.objects.filter(pk=message.pk).values().get()
    assert not any("13912345678" in str(value) for value in stored.values())
    delivery.deliver_due(now=timezone.now())
    text = "【平安】办理进度：您的申请已办结。 /services/a/1/"
    assert backends.SMS.sent == [{"phone": "13912345678", "text": text, "reference": str(message.pk)}]
    profile = resident.citizen
    read = timeline.events_for(profile).get(action="personal_data.read")
    assert read.data == {"fields": ["phone"], "purpose": "notify.sms", "message": message.pk}
    assert read.org_path == profile.home_org.path


def test_links_are_absolute_when_the_site_address_is_known(resident, settings):
    settings.NOTIFY_SITE_URL = "https://pingan.example.cn/"
    queue(resident)
    delivery.deliver_due(now=timezone.now())
    assert backends.SMS.sent[0]["text"].endswith(" https://pingan.example.cn/services/a/1/")
    mail = backends.MAIL.sent[0]
    assert mail.subject == "办理进度"
    assert "查看详情：https://pingan.example.cn/services/a/1/" in mail.body
    assert mail.from_email == settings.DEFAULT_FROM_EMAIL


def test_long_sms_are_cut(resident):
    queue(resident, channels=["sms"], body="很" * 1000)
    delivery.deliver_due(now=timezone.now())
    text = backends.SMS.sent[0]["text"]
    assert len(text) == delivery.SMS_MAX_CHARS
    assert text.endswith("…")


def test_a_lapsed_claim_is_taken_over_and_the_late_outcome_ignored(resident):
    message = queue(resident, channels=["sms"])[0]
    now = timezone.now()
    [claimed] = delivery._claim(now=now, batch=10)  # a worker claims it, then hangs
    assert Message.objects.get(pk=message.pk).status == Status.SENDING
    assert delivery.deliver_due(now=now + dt.timedelta(seconds=599)).delivered == 0
    taken_over = delivery.deliver_due(now=now + dt.timedelta(seconds=601))
    assert taken_over.delivered == 1
    # The hung worker wakes up and reports a failure: it no longer holds the claim.
    assert delivery._finish(claimed, delivery.Outcome(Status.TEMPORARY_FAILURE, "late"), now=now) is False
    assert Message.objects.get(pk=message.pk).status == Status.DELIVERED


def test_the_worker_runs_the_job(resident):
    queue(resident)
    outcomes = worker.run_pass()
    assert outcomes["notify.deliver"] == "2 delivered, 0 temporary failures, 0 permanent failures, 0 deferred"
    assert backends.MAIL.calls == backends.SMS.calls == 1


def test_the_file_backend_appends_json_lines(resident, settings, tmp_path):
    settings.NOTIFY_SMS_BACKEND = "pingan.notify.sms.FileBackend"
    settings.VAR_DIR = tmp_path
    queue(resident, channels=["sms"], title="第一条")
    queue(resident, channels=["sms"], title="第二条")
    delivery.deliver_due(now=timezone.now())
    [path] = (tmp_path / "sms").iterdir()
    assert path.name == f"{timezone.localdate().isoformat()}.jsonl"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [line["text"].split("：")[0] for line in lines] == ["【平安】第一条", "【平安】第二条"]
    assert {line["phone"] for line in lines} == {"13912345678"}
    assert set(lines[0]) == {"id", "at", "reference", "phone", "text"}


def test_the_file_backend_reports_a_full_disk_as_temporary(tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    with pytest.raises(sms.TemporaryFailure):
        sms.FileBackend(directory=blocker / "sms").send(phone="13912345678", text="x", reference="1")


def test_the_backend_is_chosen_by_setting(settings):
    settings.NOTIFY_SMS_BACKEND = "pingan.notify.sms.LocmemBackend"
    assert isinstance(sms.get_backend(), sms.LocmemBackend)
    sms.send(phone="13912345678", text="测试", reference="r1")
    assert sms.LocmemBackend.outbox[-1]["reference"] == "r1"
    del settings.NOTIFY_SMS_BACKEND
    assert isinstance(sms.get_backend(), sms.FileBackend)
