"""bulk.insert: many new rows in one go (COPY on PostgreSQL), keys set, values prepared by
their fields exactly as save() would."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from pingan.core import bulk
from pingan.core.models import TimelineEvent
from pingan.core.tests.conftest import STATION, make_citizen, org
from pingan.core.tests.workflowapp.models import Ticket

pytestmark = pytest.mark.django_db


def test_rows_go_in_with_their_keys_and_read_back_as_saved():
    station = org(STATION)
    owner = make_citizen()
    due = timezone.now() + dt.timedelta(days=3)
    tickets = [
        Ticket(state="open", title=f"第{n}号", org=station, owner=owner if n % 2 else None, due_at=due, legal_days=n)
        for n in range(1, 1201)
    ]
    tickets.append(Ticket(state="open", title=1234, org=station, blocked=True))  # not a str: prepared by the field
    inserted = bulk.insert(tickets)
    assert inserted == tickets
    assert len({ticket.pk for ticket in tickets}) == len(tickets)
    assert not tickets[0]._state.adding
    stored = {ticket.pk: ticket for ticket in Ticket.objects.all()}
    assert len(stored) == 1201
    for ticket in (tickets[0], tickets[1], tickets[-2]):
        again = stored[ticket.pk]
        assert (again.title, again.org_id, again.owner_id, again.legal_days, again.due_at) == (
            ticket.title,
            station.pk,
            ticket.owner_id,
            ticket.legal_days,
            due,
        )
    assert stored[tickets[-1].pk].title == "1234"
    assert stored[tickets[-1].pk].blocked is True
    later = Ticket.objects.create(state="open", org=station)  # the sequence moved on: no clash
    assert later.pk > max(stored)


def test_json_addresses_and_times_are_prepared_by_their_fields():
    now = timezone.now()
    events = [
        TimelineEvent(
            chain=0,
            seq=10**9 + n,
            occurred_at=now,
            action="bulk.test",
            subject_type="test.case",
            subject_id=str(n),
            ip="2001:db8::1" if n else None,
            data={"名称": "测试", "n": n, "list": [1, "二"]},
            prev_hash="0",
            hash="0",
        )
        for n in range(3)
    ]
    bulk.insert(events)
    stored = TimelineEvent.objects.filter(action="bulk.test").order_by("seq")
    assert [(e.ip, e.data, e.occurred_at) for e in stored] == [
        (None, {"名称": "测试", "n": 0, "list": [1, "二"]}, now),
        ("2001:db8::1", {"名称": "测试", "n": 1, "list": [1, "二"]}, now),
        ("2001:db8::1", {"名称": "测试", "n": 2, "list": [1, "二"]}, now),
    ]


def test_nothing_to_insert_and_the_wrong_kind_of_object():
    assert bulk.insert([]) == []
    if connection.vendor == "postgresql":
        with pytest.raises(TypeError):
            bulk.insert([Ticket(state="open", org_id=1), TimelineEvent()])


def test_rows_given_as_values_take_the_defaults_for_the_rest():
    station = org(STATION)
    rows = [("open", f"第{n}号", station.pk, n) for n in range(1, 801)]
    ids = bulk.insert_rows(Ticket, ["state", "title", "org_id", "legal_days"], rows)
    assert len(set(ids)) == 800
    stored = Ticket.objects.in_bulk(ids)
    assert [(stored[pk].title, stored[pk].legal_days) for pk in ids] == [(title, n) for _s, title, _o, n in rows]
    assert {(t.promised_days, t.blocked, t.version, t.owner_id, t.due_at) for t in stored.values()} == {
        (3, False, 0, None, None)
    }
    assert bulk.insert_rows(Ticket, ["state"], []) == []


def test_a_broken_constraint_is_djangos_integrity_error():
    now = timezone.now()
    twins = [
        TimelineEvent(chain=0, seq=10**9, occurred_at=now, action="bulk.twin", subject_type="t", subject_id="1")
        for _ in range(2)
    ]
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.insert(twins)
    assert not TimelineEvent.objects.filter(action="bulk.twin").exists()


def test_the_any_lookup_finds_what_in_finds():
    station = org(STATION)
    bulk.insert_rows(Ticket, ["state", "title", "org_id"], [("open", f"票{n}", station.pk) for n in range(30)])
    wanted = [f"票{n}" for n in range(0, 30, 3)] + ["无此票", None]
    assert set(Ticket.objects.filter(title__any=wanted).values_list("title", flat=True)) == set(
        Ticket.objects.filter(title__in=wanted).values_list("title", flat=True)
    )
    assert Ticket.objects.filter(title__any=wanted).count() == 10
    assert not Ticket.objects.filter(title__any=[]).exists()
    some = list(Ticket.objects.filter(title__any=["票1", "票2"]).values_list("pk", flat=True))
    assert Ticket.objects.filter(pk__any=some).count() == 2
    titles = Ticket.objects.filter(pk__any=some).values("title")
    assert Ticket.objects.filter(title__any=titles).count() == 2  # a subquery
