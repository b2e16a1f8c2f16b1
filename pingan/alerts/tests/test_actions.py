"""Actions of alerts: who may publish, the radius widening with time, once per subscriber,
withdrawal to exactly those reached, clues (idempotent), and bad input refused whole."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from pingan.alerts import actions, events, queries
from pingan.alerts.models import Alert, AlertDelivery, Clue, Subscription
from pingan.alerts.tests.conftest import JINAN, PLACES, png
from pingan.core import access, geo, registry
from pingan.core.models import TimelineEvent
from pingan.notify.models import Message
from pingan.testing import factories

pytestmark = pytest.mark.django_db
MIN = dt.timedelta(minutes=1)


def delivered_to(alert: Alert) -> set[int]:
    return set(AlertDelivery.objects.filter(alert=alert, user__isnull=False).values_list("user_id", flat=True))


def in_app(user, key: str) -> list[Message]:
    return list(Message.objects.filter(recipient=user, channel="in_app", dedupe_key=key))


# --- Distances used by the fixtures ------------------------------------------------------


def test_distances_of_the_fixture_points():
    km = {name: geo.distance_km(JINAN, point) for name, point in PLACES.items()}
    assert 40 < km["taian"] < 60
    assert 80 < km["zibo"] < 100
    assert 150 < km["weifang"] < 200
    assert 200 < km["rizhao"] < 300
    assert 300 < km["yantai"] < 500
    assert km["shanghai"] > 500


# --- Who may publish -------------------------------------------------------------------


def test_a_county_investigator_publishes_and_the_first_band_is_pushed(publish, subscriber, investigator):
    near, far = subscriber("taian", name="近邻"), subscriber("weifang", name="远方")
    alert = publish()
    assert alert.state == "active"
    assert alert.published_by == investigator
    assert alert.radius_km == 100
    assert delivered_to(alert) == {near.pk}
    assert alert.reach == {"100": 1}
    [message] = in_app(near, f"alerts.{alert.reference}.published")
    assert message.url == f"/alerts/a/{alert.reference}/"
    assert "王**" in message.title
    assert message.status == "delivered"
    assert in_app(far, f"alerts.{alert.reference}.published") == []
    actions_seen = list(TimelineEvent.objects.filter(subject_type="alerts.alert").values_list("action", flat=True))
    assert actions_seen[:3] == ["alerts.published", "alerts.notified", "alerts.widened"]


@pytest.mark.parametrize("who", ["station_investigator", "counter_officer", "qingdao_investigator"])
def test_units_below_county_level_or_outside_jurisdiction_are_refused(request, publish, subscriber, who):
    subscriber("taian")
    actor = request.getfixturevalue(who)
    with pytest.raises(access.AccessDenied) as refused:
        publish(actor=actor)
    assert refused.value.decision.status == 403
    assert "县级以上" in refused.value.decision.reason
    assert Alert.objects.count() == 0
    assert AlertDelivery.objects.count() == 0


def test_a_county_bureau_counter_officer_is_refused(publish):
    officer = factories.staff("370102", ["counter_officer"])
    with pytest.raises(access.AccessDenied):
        publish(actor=officer)


def test_citizens_and_nobody_are_refused(publish):
    with pytest.raises(access.AccessDenied):
        publish(actor=factories.citizen())
    with pytest.raises(access.AccessDenied):
        actions.alert_publish(
            subject_type="testing.case",
            subject_id="X1",
            title="标题",
            body="内容",
            origin=JINAN,
            missing_since=timezone.now(),
            org=factories.org("370102"),
            actor=None,
        )
    assert not Alert.objects.exists()


def test_a_city_bureau_leader_publishes_for_a_county_below(publish):
    leader = factories.staff("3701", ["bureau_leader"])
    assert publish(actor=leader).published_by == leader


def test_a_provincial_investigator_publishes_anywhere(publish, county):
    provincial = factories.staff("37-criminal", ["investigator"])
    assert actions.may_publish(provincial, county)
    assert actions.may_publish(provincial, factories.org("370202"))
    assert publish(actor=provincial).org == county


def test_publishing_is_idempotent_per_subject(publish, subscriber):
    near = subscriber("taian")
    first = publish()
    again = publish(title="另一个标题")
    assert again.pk == first.pk
    assert again.title == first.title
    assert Alert.objects.count() == 1
    assert AlertDelivery.objects.count() == 1
    assert len(in_app(near, f"alerts.{first.reference}.published")) == 1


def test_after_withdrawal_the_subject_may_be_published_again(publish, investigator):
    first = publish()
    actions.alert_withdraw(alert=first, reason="other", note="信息有误，重新发布", actor=investigator)
    second = publish()
    assert second.pk != first.pk
    assert second.state == "active"


# --- Bad input -------------------------------------------------------------------------


def test_a_latitude_of_91_is_no_point():
    with pytest.raises(geo.InvalidPoint):
        geo.point(91, 117)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"origin": (91.0, 117.0)}, "origin"),
        ({"missing_for": -dt.timedelta(hours=2)}, "missing_since"),  # in the future
        ({"missing_for": dt.timedelta(days=45)}, "missing_since"),  # too old for an emergency alert
        ({"missing_since": dt.datetime(2025, 1, 1, 12, 0)}, "missing_since"),  # naive
        ({"missing_since": "2025-01-01"}, "missing_since"),
        ({"title": "  "}, "title"),
        ({"title": "寻" * 101}, "title"),
        ({"body": ""}, "body"),
        ({"body": "身份证号370102199001011237的儿童走失"}, "body"),
        ({"subject_type": ""}, "subject_type"),
        ({"photo": png("photo.png", b"this is not an image")}, "photo"),
        ({"photo": png("photo.gif")}, "photo"),
        ({"photo": png("photo.png", b"")}, "photo"),
    ],
)
def test_bad_input_is_refused_whole(publish, subscriber, change, field):
    subscriber("taian")
    with pytest.raises(ValidationError) as refused:
        publish(**change)
    assert field in refused.value.message_dict
    assert Alert.objects.count() == 0
    assert AlertDelivery.objects.count() == 0
    assert not Message.objects.exists()


def test_an_oversized_photo_is_refused(publish, monkeypatch):
    monkeypatch.setattr(actions, "PHOTO_MAX_BYTES", 50)
    with pytest.raises(ValidationError) as refused:
        publish(photo=png())
    assert "photo" in refused.value.message_dict


def test_a_photo_is_stored_under_a_random_name(publish, settings):
    alert = publish(photo=png("王小明 照片.PNG"))
    assert alert.photo_extension == "png"
    assert alert.photo.name == f"alerts/alerts/{alert.photo_token}.png"
    assert (settings.MEDIA_ROOT / alert.photo.name).read_bytes().startswith(b"\x89PNG")


# --- Widening --------------------------------------------------------------------------


def test_the_radius_widens_with_the_time_elapsed_and_each_subscriber_gets_it_once(publish, subscriber, external):
    people = {
        place: subscriber(place, name=place) for place in ("taian", "zibo", "weifang", "rizhao", "yantai", "shanghai")
    }
    outside_app = external("weifang")
    now = timezone.now()
    alert = publish(missing_for=20 * MIN, now=now)
    since = alert.missing_since
    assert delivered_to(alert) == {people["taian"].pk, people["zibo"].pk}

    result = actions.alert_widen(alert=alert, now=since + 90 * MIN)
    assert (result.radius_km, result.delivered, result.in_app) == (200, 2, 1)
    assert delivered_to(alert) == {people[p].pk for p in ("taian", "zibo", "weifang")}
    assert AlertDelivery.objects.get(alert=alert, subscription=outside_app).band_km == 200

    assert actions.alert_widen(alert=alert, now=since + 150 * MIN).radius_km == 300
    assert people["rizhao"].pk in delivered_to(alert)
    assert actions.alert_widen(alert=alert, now=since + 4 * 60 * MIN).radius_km == 500
    assert delivered_to(alert) == {people[p].pk for p in ("taian", "zibo", "weifang", "rizhao", "yantai")}

    again = actions.alert_widen(alert=alert, now=since + 5 * 60 * MIN)
    assert (again.radius_km, again.delivered) == (500, 0)
    alert.refresh_from_db()
    assert alert.reach == {"100": 2, "200": 2, "300": 1, "500": 1}
    assert alert.delivered_count == AlertDelivery.objects.filter(alert=alert).count() == 6
    bands = dict(AlertDelivery.objects.filter(alert=alert, user__isnull=False).values_list("user_id", "band_km"))
    assert bands == {
        people["taian"].pk: 100,
        people["zibo"].pk: 100,
        people["weifang"].pk: 200,
        people["rizhao"].pk: 300,
        people["yantai"].pk: 500,
    }
    for person in people.values():
        expected = 0 if person == people["shanghai"] else 1
        assert len(in_app(person, f"alerts.{alert.reference}.published")) == expected


def test_an_earlier_clock_never_shrinks_the_radius(publish, subscriber):
    alert = publish(missing_for=20 * MIN)
    actions.alert_widen(alert=alert, now=alert.missing_since + 4 * 60 * MIN)
    late = subscriber("weifang")
    result = actions.alert_widen(alert=alert, now=alert.missing_since + 30 * MIN)
    assert result.radius_km == 500
    assert late.pk in delivered_to(alert)


def test_a_subscriber_moving_into_range_is_reached_by_the_next_push(publish, subscriber):
    mover = subscriber("shanghai")
    alert = publish(missing_for=4 * 60 * MIN)  # straight to 500 km
    assert alert.radius_km == 500
    assert mover.pk not in delivered_to(alert)
    actions.subscription_set(user=mover, point=PLACES["zibo"])
    assert actions.alert_widen(alert=alert).delivered == 1
    assert mover.pk in delivered_to(alert)
    # Moving around inside the range does not deliver it again.
    actions.subscription_set(user=mover, point=PLACES["taian"])
    assert actions.alert_widen(alert=alert).delivered == 0


def test_opting_out_and_in_again_does_not_deliver_twice(publish, subscriber):
    person = subscriber("taian")
    alert = publish()
    actions.subscription_delete(user=person)
    actions.subscription_set(user=person, point=PLACES["zibo"])
    assert actions.alert_widen(alert=alert).delivered == 0
    assert AlertDelivery.objects.filter(alert=alert, user=person).count() == 1
    assert len(in_app(person, f"alerts.{alert.reference}.published")) == 1


def test_the_periodic_job_widens_every_active_alert(publish, subscriber, investigator):
    first = publish(subject_id="A1", missing_for=20 * MIN)
    second = publish(subject_id="A2", missing_for=20 * MIN)
    stopped = publish(subject_id="A3", missing_for=20 * MIN)
    actions.alert_withdraw(alert=stopped, reason="found", actor=investigator)
    late = subscriber("weifang")
    later = timezone.now() + 90 * MIN
    assert actions.alerts_widen_due(now=later) == "2 active alerts, 2 new deliveries"
    assert AlertDelivery.objects.filter(user=late).count() == 2
    assert not AlertDelivery.objects.filter(alert=stopped).exists()
    for alert in (first, second):
        alert.refresh_from_db()
        assert alert.radius_km == 200
    assert registry.periodic_jobs.get("alerts.widen") is actions.alerts_widen_due


def test_the_worker_runs_the_job(publish, subscriber):
    from pingan.core.management.commands.worker import run_pass

    alert = publish()
    assert run_pass()["alerts.widen"] == "1 active alerts, 0 new deliveries"
    alert.refresh_from_db()
    assert alert.radius_km == 100


def test_a_withdrawn_alert_is_not_pushed(publish, subscriber, investigator):
    alert = publish()
    actions.alert_withdraw(alert=alert, reason="found", actor=investigator)
    subscriber("taian")
    assert actions.alert_widen(alert=alert, now=timezone.now() + 5 * 60 * MIN).delivered == 0


def test_a_push_across_the_antimeridian(publish, county):
    near = factories.citizen()
    actions.subscription_set(user=near, point=geo.Point(65.0, -179.5))
    alert = publish(origin=geo.Point(65.0, 179.5), missing_for=20 * MIN)
    assert delivered_to(alert) == {near.pk}


# --- Withdrawal ------------------------------------------------------------------------


def test_withdrawal_reaches_everyone_reached_and_only_them(
    publish, subscriber, external, investigator, django_capture_on_commit_callbacks
):
    reached = [subscriber("taian", name="甲"), subscriber("zibo", name="乙")]
    gone = subscriber("taian", name="丙")
    outside = subscriber("yantai", name="丁")
    partner = external("zibo")
    alert = publish()
    actions.subscription_delete(user=gone)  # opted out after receiving it: still told
    seen = []
    handler = lambda sender, alert, reason, **kw: seen.append((alert.pk, reason))  # noqa: E731
    events.alert_withdrawn.connect(handler)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            withdrawn = actions.alert_withdraw(alert=alert, reason="found", actor=investigator)
    finally:
        events.alert_withdrawn.disconnect(handler)
    assert withdrawn.state == "withdrawn"
    assert withdrawn.withdraw_reason == "found"
    key = f"alerts.{alert.reference}.withdrawn"
    for person in (*reached, gone):
        [notice] = in_app(person, key)
        assert "已找到" in notice.body
    assert in_app(outside, key) == []
    assert not AlertDelivery.objects.filter(alert=alert, withdrawn_notice_at__isnull=True).exists()
    assert AlertDelivery.objects.filter(alert=alert).count() == 4  # three citizens and the partner-app one
    assert AlertDelivery.objects.get(alert=alert, subscription=partner).withdrawn_notice_at is not None
    assert (alert.pk, "found") in seen
    assert alert not in queries.alerts_public()


def test_withdraw_refusals(publish, investigator, station_investigator, qingdao_investigator):
    alert = publish()
    for actor in (station_investigator, qingdao_investigator, factories.citizen()):
        with pytest.raises(access.AccessDenied):
            actions.alert_withdraw(alert=alert, reason="found", actor=actor)
    with pytest.raises(ValidationError) as refused:
        actions.alert_withdraw(alert=alert, reason="bored", actor=investigator)
    assert "reason" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        actions.alert_withdraw(alert=alert, reason="other", note="", actor=investigator)
    assert "note" in refused.value.message_dict
    alert.refresh_from_db()
    assert alert.state == "active"
    actions.alert_withdraw(alert=alert, reason="false_report", actor=investigator)
    with pytest.raises(actions.AlertRefused):
        actions.alert_withdraw(alert=alert, reason="found", actor=investigator)


# --- Subscriptions ---------------------------------------------------------------------


def test_a_subscription_keeps_one_rounded_point_and_no_history():
    person = factories.citizen()
    first = actions.subscription_set(user=person, point=geo.Point(36.65123, 117.12987))
    assert (first.latitude, first.longitude) == (36.65, 117.13)
    moved = actions.subscription_set(user=person, point=PLACES["zibo"])
    assert moved.pk == first.pk
    assert Subscription.objects.count() == 1
    events_ = TimelineEvent.objects.filter(subject_type="alerts.subscription", subject_id=str(first.pk))
    assert list(events_.values_list("action", flat=True)) == ["alerts.subscribed", "alerts.subscription_moved"]
    assert all("36.65" not in str(event.data) and "117.1" not in str(event.data) for event in events_)
    assert actions.subscription_delete(user=person) is True
    assert not Subscription.objects.exists()
    assert actions.subscription_delete(user=person) is False


def test_a_county_subscription_uses_its_seat(county):
    person = factories.citizen()
    subscription = actions.subscription_set(user=person, county=county)
    assert subscription.county == county
    assert (subscription.latitude, subscription.longitude) == (round(county.latitude, 2), round(county.longitude, 2))


def test_subscription_refusals(county):
    person = factories.citizen()
    with pytest.raises(ValidationError):
        actions.subscription_set(user=person)
    with pytest.raises(ValidationError):
        actions.subscription_set(user=person, point=(91.0, 117.0))  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        actions.subscription_set(user=person, county=factories.org("370102001"))  # a station
    with pytest.raises(access.AccessDenied):
        actions.subscription_set(user=factories.staff(), point=JINAN)
    assert not Subscription.objects.exists()


def test_partner_app_subscribers_in_bulk():
    points = [(f"p-{n}", 36.0 + n / 100, 117.0) for n in range(10)]
    assert actions.subscriptions_bulk_create(points=points) == 10
    assert actions.subscriptions_bulk_create(points=points) == 0
    with pytest.raises(geo.InvalidPoint):
        actions.subscriptions_bulk_create(points=[("bad", 91.0, 117.0)])


# --- Clues -----------------------------------------------------------------------------


def clue(alert, **extra):
    fields = {
        "alert": alert,
        "phone": "13912345678",
        "text": "看到一个穿红色外套的男孩跟一名中年男子在一起，往火车站方向走了。",
        "place": "济南火车站西广场",
        "seen_at": timezone.now() - 5 * MIN,
        "idempotency_key": "clue-key-0001",
    }
    fields.update(extra)
    return actions.clue_submit(**fields)


def test_an_anonymous_clue_is_stored_with_the_phone_encrypted(
    publish, investigator, django_capture_on_commit_callbacks
):
    alert = publish()
    received = []
    handler = lambda sender, alert, clue, **kw: received.append(clue.pk)  # noqa: E731
    events.clue_received.connect(handler)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            stored = clue(alert, latitude="36.67", longitude="116.99", photo=png())
    finally:
        events.clue_received.disconnect(handler)
    assert received == [stored.pk]
    assert stored.sender is None
    assert stored.sender_phone == "13912345678"
    with connection.cursor() as cursor:
        cursor.execute("SELECT sender_phone FROM alerts_clue WHERE id = %s", [stored.pk])
        assert "13912345678" not in cursor.fetchone()[0]
    assert (stored.latitude, stored.longitude) == (36.67, 116.99)
    assert stored.photo.name.endswith(".png")
    assert Message.objects.filter(recipient=investigator, dedupe_key=f"alerts.clue.{stored.pk}").count() == 1
    assert TimelineEvent.objects.filter(subject_id=str(alert.pk), action="alerts.clue_received").count() == 1


def test_a_clue_is_idempotent(publish):
    alert = publish()
    first = clue(alert)
    second = clue(alert, text="另一段文字")
    assert first.pk == second.pk
    assert Clue.objects.count() == 1
    assert TimelineEvent.objects.filter(action="alerts.clue_received").count() == 1


def test_a_signed_in_sender_needs_no_phone(publish):
    person = factories.citizen()
    stored = clue(publish(), sender=person, phone="")
    assert stored.sender == person
    assert stored.sender_phone == ""


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"phone": ""}, "phone"),
        ({"phone": "12345"}, "phone"),
        ({"text": ""}, "text"),
        ({"place": "地" * 201}, "place"),
        ({"seen_at": timezone.now() + dt.timedelta(hours=3)}, "seen_at"),
        ({"seen_at": timezone.now() - dt.timedelta(days=20)}, "seen_at"),
        ({"latitude": 91, "longitude": 117}, "location"),
        ({"latitude": "abc", "longitude": ""}, "location"),
        ({"photo": png("x.png", b"GIF89a....")}, "photo"),
    ],
)
def test_bad_clues_are_refused_whole(publish, change, field):
    alert = publish()
    with pytest.raises(ValidationError) as refused:
        clue(alert, **change)
    assert field in refused.value.message_dict
    assert not Clue.objects.exists()


def test_a_short_idempotency_key_is_refused(publish):
    with pytest.raises(ValidationError):
        clue(publish(), idempotency_key="x")


def test_no_clues_for_a_withdrawn_alert(publish, investigator):
    alert = publish()
    actions.alert_withdraw(alert=alert, reason="found", actor=investigator)
    with pytest.raises(actions.AlertRefused):
        clue(alert)


def test_clue_triage(publish, investigator, station_investigator):
    stored = clue(publish())
    with pytest.raises(access.AccessDenied):
        actions.clue_triage(clue=stored, outcome="useful", actor=station_investigator)
    with pytest.raises(ValidationError):
        actions.clue_triage(clue=stored, outcome="new", actor=investigator)
    done = actions.clue_triage(clue=stored, outcome="useful", note="已派员核实", actor=investigator)
    assert (done.state, done.triaged_by, done.triage_note) == ("useful", investigator, "已派员核实")
