"""The alert pages and their permission matrix: anonymous, citizen (reached / not),
staff inside and outside the jurisdiction, with and without a publishing role."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from pingan.alerts import actions
from pingan.alerts.models import AlertDelivery, Clue, Subscription
from pingan.alerts.tests.conftest import png
from pingan.core.models import TimelineEvent
from pingan.testing import factories
from pingan.testing.signin import staff_login

pytestmark = pytest.mark.django_db


def url(name: str, *args: object) -> str:
    from django.urls import reverse

    return reverse(f"alerts:{name}", args=args)


# --- Public pages ----------------------------------------------------------------------


def test_public_list_and_page_of_an_active_alert(client, publish):
    alert = publish(photo=png())
    listing = client.get(url("public_list"))
    assert listing.status_code == 200
    assert alert.title in listing.content.decode()
    page = client.get(url("public", alert.reference))
    assert page.status_code == 200
    text = page.content.decode()
    assert "泉城广场" in text
    assert "提交线索" in text
    photo = client.get(url("photo", alert.reference))
    assert photo.status_code == 200
    assert photo["Content-Type"] == "image/png"
    assert photo["X-Content-Type-Options"] == "nosniff"
    assert b"".join(photo.streaming_content).startswith(b"\x89PNG")


def test_a_withdrawn_alert_leaves_the_public_pages(client, publish, investigator):
    alert = publish(photo=png())
    actions.alert_withdraw(alert=alert, reason="found", actor=investigator)
    assert alert.title not in client.get(url("public_list")).content.decode()
    page = client.get(url("public", alert.reference))
    assert page.status_code == 410
    assert "泉城广场" not in page.content.decode()
    assert "已找到" in page.content.decode()
    assert client.get(url("photo", alert.reference)).status_code == 404
    staff_login(client, investigator)
    photo = client.get(url("photo", alert.reference))
    assert photo.status_code == 200
    assert b"".join(photo.streaming_content).startswith(b"\x89PNG")  # read to the end: the client closes the file


def test_unknown_alerts_are_not_found(client):
    assert client.get(url("public", "TYNOSUCH1")).status_code == 404
    assert client.get(url("photo", "TYNOSUCH1")).status_code == 404


def clue_form(**extra: object) -> dict[str, object]:
    seen = timezone.localtime(timezone.now() - dt.timedelta(minutes=10))
    data: dict[str, object] = {
        "place": "济南火车站西广场",
        "seen_at": seen.strftime("%Y-%m-%dT%H:%M"),
        "text": "看到一个穿红色外套的男孩",
        "phone": "13912345678",
        "idempotency_key": "form-key-123456",
    }
    data.update(extra)
    return data


def test_an_anonymous_clue_through_the_form(client, publish):
    alert = publish()
    response = client.post(url("clue", alert.reference), clue_form(photo=png()))
    assert response.status_code == 302
    assert response["Location"] == url("public", alert.reference)
    stored = Clue.objects.get()
    assert stored.place == "济南火车站西广场"
    assert stored.photo
    # The same form sent twice (a double click) stores one clue.
    assert client.post(url("clue", alert.reference), clue_form()).status_code == 302
    assert Clue.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"phone": ""}, "手机号码"),
        ({"latitude": "91", "longitude": "117"}, "纬度"),
        ({"seen_at": "not a time"}, "发现时间"),
        ({"photo": png("x.png", b"<html>")}, "JPG 或 PNG"),
    ],
)
def test_bad_clues_are_shown_back(client, publish, change, message):
    alert = publish()
    response = client.post(url("clue", alert.reference), clue_form(**change))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Clue.objects.exists()


def test_no_clue_to_a_withdrawn_alert(client, publish, investigator):
    alert = publish()
    actions.alert_withdraw(alert=alert, reason="found", actor=investigator)
    assert client.post(url("clue", alert.reference), clue_form()).status_code == 410
    assert not Clue.objects.exists()


# --- Citizens --------------------------------------------------------------------------


def test_subscription_page_needs_a_citizen(client, investigator):
    response = client.get(url("subscription"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    staff_login(client, investigator)
    assert client.get(url("subscription")).status_code == 403


def test_subscribe_move_and_opt_out(client):
    person = factories.citizen()
    client.force_login(person)
    assert "您尚未订阅" in client.get(url("subscription")).content.decode()
    response = client.post(url("subscription"), {"mode": "point", "latitude": "36.6512", "longitude": "117.1201"})
    assert response.status_code == 302
    subscription = Subscription.objects.get(user=person)
    assert (subscription.latitude, subscription.longitude) == (36.65, 117.12)
    county = factories.org("370202")
    assert client.post(url("subscription"), {"mode": "county", "county": county.pk}).status_code == 302
    subscription.refresh_from_db()
    assert subscription.county == county
    assert "市南区" in client.get(url("subscription")).content.decode()
    assert client.post(url("unsubscribe")).status_code == 302
    assert not Subscription.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"mode": "point", "latitude": "91", "longitude": "117"},
        {"mode": "point", "latitude": "abc", "longitude": "117"},
        {"mode": "point", "latitude": "nan", "longitude": "117"},
        {"mode": "county", "county": "999999999"},
        {"mode": "county", "county": ""},
        {"mode": "elsewhere"},
    ],
)
def test_bad_subscriptions_are_refused(client, data):
    client.force_login(factories.citizen())
    response = client.post(url("subscription"), data)
    assert response.status_code == 400
    assert not Subscription.objects.exists()


def test_a_citizen_sees_the_alerts_that_reached_them(client, publish, subscriber, investigator):
    near, far = subscriber("taian", name="近"), subscriber("yantai", name="远")
    alert = publish()
    client.force_login(near)
    page = client.get(url("received")).content.decode()
    assert alert.title in page
    assert "泉城广场" in page
    client.force_login(far)
    page = client.get(url("received")).content.decode()
    assert alert.title not in page
    assert "您还没有收到过" in page
    actions.alert_withdraw(alert=alert, reason="found", actor=investigator)
    client.force_login(near)
    page = client.get(url("received")).content.decode()
    assert "已撤回" in page
    assert "泉城广场" not in page  # the description is not kept on show once withdrawn


def test_received_needs_a_citizen(client, investigator):
    assert client.get(url("received")).status_code == 302
    staff_login(client, investigator)
    assert client.get(url("received")).status_code == 403


# --- Staff -----------------------------------------------------------------------------


def test_staff_list_in_and_out_of_jurisdiction(
    client, publish, subscriber, external, investigator, qingdao_investigator, django_assert_max_num_queries
):
    subscriber("taian")
    external("zibo")
    alert = publish()
    publish(subject_id="XR0002")
    staff_login(client, investigator)
    with django_assert_max_num_queries(12):
        page = client.get(url("staff_list"))
    assert page.status_code == 200
    text = page.content.decode()
    assert alert.reference in text
    assert 'data-testid="delivered">2<' in text
    staff_login(client, qingdao_investigator)
    assert alert.reference not in client.get(url("staff_list")).content.decode()
    assert client.get(url("staff_detail", alert.reference)).status_code == 404


def test_staff_pages_refuse_citizens_and_anonymous(client, publish):
    alert = publish()
    for name, args in (("staff_list", ()), ("staff_detail", (alert.reference,))):
        assert client.get(url(name, *args)).status_code == 302
    client.force_login(factories.citizen())
    for name, args in (("staff_list", ()), ("staff_detail", (alert.reference,))):
        assert client.get(url(name, *args)).status_code == 403
    assert client.post(url("withdraw", alert.reference), {"reason": "found"}).status_code == 403


def test_staff_detail_shows_reach_and_clues(client, publish, subscriber, investigator):
    subscriber("taian")
    alert = publish()
    actions.clue_submit(
        alert=alert,
        phone="13912345678",
        text="看到了",
        place="济南西站",
        seen_at=alert.published_at,
        idempotency_key="clue-000001",
    )
    staff_login(client, investigator)
    page = client.get(url("staff_detail", alert.reference)).content.decode()
    assert 'data-band="100">1<' in page
    assert "济南西站" in page
    assert "13912345678" in page
    assert TimelineEvent.objects.filter(action="personal_data.read", subject_id=str(alert.pk)).exists()
    # Staff who may see but not publish get the phone masked and no buttons.
    viewer = factories.staff("370102", ["counter_officer"])
    staff_login(client, viewer)
    page = client.get(url("staff_detail", alert.reference)).content.decode()
    assert "139****5678" in page
    assert "13912345678" not in page
    assert "撤回并通知" not in page


def test_withdraw_through_the_page(client, publish, subscriber, investigator):
    person = subscriber("taian")
    alert = publish()
    viewer = factories.staff("370102", ["counter_officer"])
    staff_login(client, viewer)
    assert client.post(url("withdraw", alert.reference), {"reason": "found"}).status_code == 403
    staff_login(client, investigator)
    assert client.post(url("withdraw", alert.reference), {"reason": "other", "note": ""}).status_code == 400
    alert.refresh_from_db()
    assert alert.state == "active"
    response = client.post(url("withdraw", alert.reference), {"reason": "found"})
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.state == "withdrawn"
    assert AlertDelivery.objects.get(user=person).withdrawn_notice_at is not None
    assert client.post(url("withdraw", alert.reference), {"reason": "found"}).status_code == 409


def test_triage_and_clue_photo(client, publish, investigator, station_investigator):
    alert = publish()
    clue = actions.clue_submit(
        alert=alert,
        phone="13912345678",
        text="看到了",
        place="济南西站",
        seen_at=alert.published_at,
        idempotency_key="clue-000002",
        photo=png(),
    )
    staff_login(client, station_investigator)
    assert client.get(url("clue_photo", alert.reference, clue.pk)).status_code == 404
    staff_login(client, investigator)
    photo = client.get(url("clue_photo", alert.reference, clue.pk))
    assert photo.status_code == 200
    assert b"".join(photo.streaming_content).startswith(b"\x89PNG")  # read to the end: the client closes the file
    assert client.post(url("clue_triage", alert.reference, clue.pk), {"outcome": "new"}).status_code == 400
    response = client.post(url("clue_triage", alert.reference, clue.pk), {"outcome": "useful", "note": "已核实"})
    assert response.status_code == 302
    clue.refresh_from_db()
    assert clue.state == "useful"
