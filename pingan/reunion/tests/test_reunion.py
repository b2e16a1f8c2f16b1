"""Reunions (both records at once, on both timelines, refusals) and emergency alerts for
missing children (who may publish, what must be known first, withdrawal on reunion, clues
back onto the record)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from pingan.alerts import actions as alert_actions
from pingan.alerts.models import Alert, AlertDelivery
from pingan.core import access, context, geo, timeline
from pingan.reunion import actions
from pingan.reunion import events as reunion_events
from pingan.reunion.models import AttributeCandidate, PersonRecord, Reunion
from pingan.reunion.tests.conftest import GULOU, missing_data, png, relatives_data
from pingan.testing import factories

pytestmark = pytest.mark.django_db


def actions_of(record: PersonRecord) -> list[str]:
    return list(timeline.events_for(record).values_list("action", flat=True))


@pytest.fixture
def pair(active_missing, register):
    found = register("found", event_date=timezone.localdate().isoformat())
    return active_missing, found


@pytest.fixture
def heard():
    received = []

    def listen(sender, **payload):
        received.append(payload)

    reunion_events.reunited.connect(listen)
    yield received
    reunion_events.reunited.disconnect(listen)


# --- Recording a reunion -------------------------------------------------------------------------


def test_a_reunion_moves_both_records_and_is_on_both_timelines(
    pair, investigator, heard, django_capture_on_commit_callbacks
):
    missing, found = pair
    actions.refresh_candidates(missing.pk)
    assert AttributeCandidate.objects.filter(missing=missing, found=found, status="open").exists()
    with django_capture_on_commit_callbacks(execute=True):
        reunion = actions.reunion_record(
            missing=missing, found=found, method="dna", evidence="KC-000123", actor=investigator, note="父子相认"
        )
    assert not AttributeCandidate.objects.filter(missing=missing, status="open").exists()  # refreshed on commit
    assert missing.state == found.state == "reunited"  # the caller's objects are refreshed
    for record in (missing, found):
        record.refresh_from_db()
        assert record.state == "reunited"
        assert record.reunited_at == reunion.reunited_at
        assert "workflow.reunite" in actions_of(record)
        assert "reunion.reunited" in actions_of(record)
    assert reunion.org == missing.org
    assert reunion.recorded_by == investigator
    assert reunion.days_from_report == 0
    event = timeline.events_for(found).get(action="reunion.reunited")
    assert event.data["with"] == missing.reference
    assert event.data["evidence"] == "KC-000123"
    assert len(heard) == 1
    assert heard[0]["missing_reference"] == missing.reference
    assert heard[0]["found_reference"] == found.reference
    assert sorted(heard[0]["relative_ids"]) == sorted(missing.relatives.values_list("id", flat=True))


def test_the_days_from_report_count_from_the_report(investigator, register, active_missing):
    with context.backdated(timezone.now() - dt.timedelta(days=3)):
        old = actions.record_register(
            actor=investigator,
            kind="missing",
            data=missing_data(event_date=(timezone.localdate() - dt.timedelta(days=4)).isoformat(), event_time=""),
            relatives=[{"relation": "mother", "name": "王秀英", "phone": "13906350002"}],
        )
    found = register("found", event_date=timezone.localdate().isoformat())
    reunion = actions.reunion_record(missing=old, found=found, method="attributes", actor=investigator)
    assert reunion.days_from_report == 3


def test_a_reunion_is_atomic(pair, investigator, monkeypatch):
    missing, found = pair
    real = timeline.record

    def failing(subject, action, **kwargs):
        if action == "reunion.reunited" and getattr(subject, "pk", None) == found.pk:
            raise RuntimeError("disk full")
        return real(subject, action, **kwargs)

    monkeypatch.setattr(timeline, "record", failing)
    with pytest.raises(RuntimeError):
        actions.reunion_record(missing=missing, found=found, method="dna", actor=investigator)
    monkeypatch.undo()
    missing.refresh_from_db()
    found.refresh_from_db()
    assert missing.state == found.state == "active"
    assert not Reunion.objects.exists()
    assert "workflow.reunite" not in actions_of(missing)


def test_refusals(pair, investigator, register, report, community, counter, outsider):
    missing, found = pair
    other_missing = register("missing")
    with pytest.raises(actions.ReunionRefused, match="两条记录都是失踪人员记录"):
        actions.reunion_record(missing=missing, found=other_missing, method="dna", actor=investigator)
    with pytest.raises(actions.ReunionRefused, match="须由一条失踪人员记录"):
        actions.reunion_record(missing=found, found=register("found"), method="dna", actor=investigator)
    with pytest.raises(actions.ReunionRefused, match="它自己"):
        actions.reunion_record(missing=missing, found=missing, method="dna", actor=investigator)
    waiting = report()  # not yet verified
    with pytest.raises(actions.ReunionRefused, match="只有查找中的记录"):
        actions.reunion_record(missing=waiting, found=found, method="dna", actor=investigator)
    with pytest.raises(ValidationError):
        actions.reunion_record(missing=missing, found=found, method="guess", actor=investigator)
    county_counter = factories.staff("371502", ["counter_officer"])  # sees both records
    with pytest.raises(access.AccessDenied) as caught:  # counter officers do not record reunions
        actions.reunion_record(missing=missing, found=found, method="dna", actor=county_counter)
    assert caught.value.decision.status == 403
    with pytest.raises(access.AccessDenied) as caught:  # the station's officer does not see the county's record
        actions.reunion_record(missing=missing, found=found, method="dna", actor=counter)
    assert caught.value.decision.status == 404
    with pytest.raises(access.AccessDenied) as caught:
        actions.reunion_record(missing=missing, found=found, method="dna", actor=outsider)
    assert caught.value.decision.status == 404
    with pytest.raises(access.AccessDenied):
        actions.reunion_record(missing=missing, found=found, method="dna", actor=factories.citizen())
    assert not Reunion.objects.exists()
    actions.reunion_record(missing=missing, found=found, method="dna", actor=investigator)
    with pytest.raises(actions.ReunionRefused, match="已认定团圆"):
        actions.reunion_record(missing=missing, found=register("found"), method="dna", actor=investigator)
    assert Reunion.objects.count() == 1


def test_the_dna_examiner_may_record_a_reunion_across_the_province(pair, examiner):
    missing, found = pair
    reunion = actions.reunion_record(missing=missing, found=found, method="dna", evidence="KC-1", actor=examiner)
    assert reunion.recorded_by == examiner


def test_a_seeker_reunites_with_the_1997_record(investigator, register):
    moment = timezone.make_aware(dt.datetime(1997, 6, 12, 19, 0))
    with context.backdated(moment):
        boy = actions.record_register(
            actor=investigator,
            kind="missing",
            data=missing_data(event_date="1997-06-12", event_time="15:30", birth_date="1993-03-08"),
            relatives=relatives_data(),
        )
    seeker = register("seeker")
    reunion = actions.reunion_record(missing=boy, found=seeker, method="dna", actor=investigator)
    assert reunion.days_from_report > 365 * 28


# --- Alerts ----------------------------------------------------------------------------------------


def test_the_county_investigator_publishes_an_alert_and_a_reunion_withdraws_it(
    pair, investigator, django_capture_on_commit_callbacks
):
    missing, found = pair
    near = factories.citizen("371502", name="近处群众")
    far = factories.citizen("370202", name="远处群众")
    alert_actions.subscription_set(user=near, point=geo.Point(GULOU[0] + 0.2, GULOU[1]))  # ~22 km
    alert_actions.subscription_set(user=far, point=geo.Point(36.07, 120.38))  # Qingdao, ~400 km
    with django_capture_on_commit_callbacks(execute=True):
        alert = actions.alert_publish_for(record=missing, actor=investigator)
    assert alert.subject_type == "reunion.record"
    assert alert.subject_id == missing.reference
    assert alert.org == missing.org
    assert "林**" in alert.title
    assert "林小军" not in alert.title + alert.body
    assert "东昌府区古楼街道集市" in alert.body
    assert set(AlertDelivery.objects.filter(alert=alert).values_list("user_id", flat=True)) == {near.pk}
    assert "reunion.alert_published" in actions_of(missing)
    with django_capture_on_commit_callbacks(execute=True):
        actions.reunion_record(missing=missing, found=found, method="clue", actor=investigator)
    alert.refresh_from_db()
    assert alert.state == "withdrawn"
    assert alert.withdraw_reason == "found"
    assert "reunion.alert_withdrawn" in actions_of(missing)


def test_closing_a_false_report_withdraws_the_alert_as_false(
    active_missing, investigator, django_capture_on_commit_callbacks
):
    alert = actions.alert_publish_for(record=active_missing, actor=investigator)
    with django_capture_on_commit_callbacks(execute=True):
        actions.record_close(record=active_missing, actor=investigator, reason="false_report")
    alert.refresh_from_db()
    assert (alert.state, alert.withdraw_reason) == ("withdrawn", "false_report")


def test_a_reunion_recorded_by_an_examiner_withdraws_the_alert_as_found(
    pair, investigator, examiner, django_capture_on_commit_callbacks
):
    # The examiner may not withdraw alerts, but a found child is news for everyone reached.
    missing, found = pair
    alert = actions.alert_publish_for(record=missing, actor=investigator)
    with django_capture_on_commit_callbacks(execute=True):
        actions.reunion_record(missing=missing, found=found, method="dna", actor=examiner)
    alert.refresh_from_db()
    assert (alert.state, alert.withdraw_reason, alert.withdrawn_by) == ("withdrawn", "found", examiner)
    assert "reunion.alert_withdrawn" in actions_of(missing)


def test_a_family_withdrawing_its_report_leaves_the_alert_to_the_publishers(
    active_missing, investigator, django_capture_on_commit_callbacks
):
    alert = actions.alert_publish_for(record=active_missing, actor=investigator)
    with django_capture_on_commit_callbacks(execute=True):
        actions.record_withdraw(record=active_missing, actor=active_missing.reported_by, reason="孩子已自行回家")
    alert.refresh_from_db()
    assert alert.state == "active"
    assert "reunion.alert_withdraw_pending" in actions_of(active_missing)


def test_only_authorised_units_publish(active_missing, community, counter, leader, outsider, father):
    for user in (community, counter):  # station staff: not a publishing unit or role
        with pytest.raises(access.AccessDenied):
            actions.alert_publish_for(record=active_missing, actor=user)
    with pytest.raises(access.AccessDenied) as caught:
        actions.alert_publish_for(record=active_missing, actor=outsider)
    assert caught.value.decision.status == 404
    with pytest.raises(access.AccessDenied):
        actions.alert_publish_for(record=active_missing, actor=father)
    assert not Alert.objects.exists()
    assert actions.alert_publish_for(record=active_missing, actor=leader).published_by == leader  # county leader may


def test_what_an_alert_needs(report, register, investigator, community):
    waiting = report()
    with pytest.raises(actions.ReunionRefused, match="核查属实"):
        actions.alert_publish_for(record=waiting, actor=investigator)
    adult = register("missing", birth_date="1990-01-01")
    with pytest.raises(actions.ReunionRefused, match="未满18周岁"):
        actions.alert_publish_for(record=adult, actor=investigator)
    no_point = register("missing", latitude="", longitude="")
    with pytest.raises(actions.ReunionRefused, match="经纬度"):
        actions.alert_publish_for(record=no_point, actor=investigator)
    no_time = register("missing", event_time="")
    with pytest.raises(actions.ReunionRefused, match="具体时间"):
        actions.alert_publish_for(record=no_time, actor=investigator)
    found = register("found")
    with pytest.raises(actions.ReunionRefused, match="只能为失踪人员"):
        actions.alert_publish_for(record=found, actor=investigator)
    old = register("missing", event_date=(timezone.localdate() - dt.timedelta(days=60)).isoformat())
    with pytest.raises(ValidationError) as caught:  # the alerts app: only for recent disappearances
        actions.alert_publish_for(record=old, actor=investigator)
    assert "missing_since" in caught.value.message_dict
    assert not Alert.objects.exists()


def test_a_public_photo_goes_with_the_alert(active_missing, investigator, father, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        actions.photo_add(record=active_missing, actor=father, upload=png(), public=True)
    alert = actions.alert_publish_for(record=active_missing, actor=investigator)
    assert alert.photo
    assert alert.photo_extension == "png"


def test_a_clue_lands_on_the_record(active_missing, investigator, stranger, django_capture_on_commit_callbacks):
    alert = actions.alert_publish_for(record=active_missing, actor=investigator)
    with django_capture_on_commit_callbacks(execute=True):
        alert_actions.clue_submit(
            alert=alert,
            sender=stranger,
            text="在公交站看到一个穿蓝色上衣的男孩",
            place="聊城汽车总站",
            seen_at=timezone.now() - dt.timedelta(minutes=5),
            idempotency_key="clue-0001",
        )
    event = timeline.events_for(active_missing).get(action="reunion.clue_received")
    assert event.data["alert"] == alert.reference
    assert event.data["place"] == "聊城汽车总站"
