"""Reads of alerts are scoped: staff by jurisdiction, citizens to what reached them, the
public to active alerts; subscribers' points are listed to no one."""

from __future__ import annotations

import pytest

from pingan.alerts import actions, queries
from pingan.alerts.models import AlertDelivery, Subscription
from pingan.testing import factories

pytestmark = pytest.mark.django_db


def test_staff_see_alerts_in_their_jurisdiction(publish, investigator, qingdao_investigator):
    alert = publish()
    assert list(queries.alerts_for(investigator)) == [alert]
    assert list(queries.alerts_for(factories.staff("3701", ["bureau_leader"]))) == [alert]
    assert list(queries.alerts_for(qingdao_investigator)) == []
    # A station below the publishing county bureau does not cover the bureau itself.
    assert list(queries.alerts_for(factories.staff("370102001", ["station_chief"]))) == []
    assert list(queries.alerts_for(factories.staff("37", ["administrator"]))) == [alert]
    assert list(queries.alerts_for(factories.citizen())) == []
    assert list(queries.alerts_for(None)) == []


def test_staff_list_counts_clues(publish, investigator):
    alert = publish()
    for number in range(3):
        actions.clue_submit(
            alert=alert,
            phone="13912345678",
            text="看到了",
            place="某地",
            seen_at=alert.published_at,
            idempotency_key=f"key-{number:06d}",
        )
    [row] = queries.alerts_for(investigator)
    assert (row.clue_count, row.new_clue_count) == (3, 3)
    assert len(queries.clues_for(investigator, alert)) == 3
    assert list(queries.clues_for(factories.staff("370202-criminal", ["investigator"]), alert)) == []
    assert list(queries.clues_for(factories.citizen(), alert)) == []


def test_citizens_see_what_reached_them_only(publish, subscriber):
    near, far = subscriber("taian", name="近"), subscriber("yantai", name="远")
    alert = publish()
    [delivery] = queries.alerts_received_for(near)
    assert delivery.alert == alert
    assert list(queries.alerts_received_for(far)) == []
    assert queries.received_by(near, alert) == delivery
    assert queries.received_by(far, alert) is None
    assert list(queries.alerts_received_for(factories.staff())) == []


def test_subscriptions_are_their_owners_alone(subscriber, investigator):
    person = subscriber("taian")
    assert queries.subscription_of(person) == Subscription.objects.get(user=person)
    assert queries.subscription_of(factories.citizen()) is None
    assert queries.subscription_of(investigator) is None
    from pingan.core import access

    assert not access.scope(investigator, Subscription.objects.all()).exists()
    assert not access.scope(investigator, AlertDelivery.objects.all()).exists()


def test_public_list_holds_active_alerts_only(publish, investigator):
    shown = publish(subject_id="A")
    gone = publish(subject_id="B")
    actions.alert_withdraw(alert=gone, reason="found", actor=investigator)
    assert list(queries.alerts_public()) == [shown]


def test_alert_for_subject(publish, investigator):
    assert queries.alert_for_subject("testing.case", "XR0001") is None
    first = publish()
    assert queries.alert_for_subject("testing.case", "XR0001") == first
    actions.alert_withdraw(alert=first, reason="other", note="更正", actor=investigator)
    assert queries.alert_for_subject("testing.case", "XR0001") == first
    second = publish()
    assert queries.alert_for_subject("testing.case", "XR0001") == second
    assert queries.alert_for_subject("testing.case", "other") is None
