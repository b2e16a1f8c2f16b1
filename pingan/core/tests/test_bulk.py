"""bulk.insert_rows: many new rows in one go (COPY on PostgreSQL, INSERT … RETURNING on
SQLite), keys back in order, values prepared by their fields exactly as save() would."""

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

TICKET = ["state", "title", "org_id", "owner_id", "due_at", "legal_days", "blocked"]


def test_rows_go_in_with_their_keys_and_read_back_as_saved():
    station = org(STATION)
    owner = make_citizen()
    due = timezone.now() + dt.timedelta(days=3)
    rows = [("open", f"第{n}号", station.pk, owner.pk if n % 2 else None, due, n, False) for n in range(1, 1201)]
    rows.append(("open", 1234, station.pk, None, None, 10, True))  # not a str: prepared by the field
    ids = bulk.insert_rows(Ticket, TICKET, iter(rows), count=len(rows))
    assert len(set(ids)) == len(rows)
    stored = Ticket.objects.in_bulk(ids)
    assert len(stored) == 1201
    for pk, row in [(ids[0], rows[0]), (ids[1], rows[1]), (ids[-2], rows[-2])]:
        again = stored[pk]
        assert (again.title, again.org_id, again.owner_id, again.due_at, again.legal_days) == row[1:6]
    assert stored[ids[-1]].title == "1234"
    assert stored[ids[-1]].blocked is True
    later = Ticket.objects.create(state="open", org=station)  # the sequence moved on: no clash
    assert later.pk > max(stored)


def test_json_addresses_and_times_are_prepared_by_their_fields():
    now = timezone.now()
    fields = ["chain", "seq", "occurred_at", "action", "subject_type", "subject_id", "ip", "data", "prev_hash", "hash"]
    rows = [
        (0, 10**9 + n, now, "bulk.test", "test.case", str(n), "2001:db8::1" if n else None,
         {"名称": "测试", "n": n, "list": [1, "二"]}, "0", "0")
        for n in range(3)
    ]  # fmt: skip
    bulk.insert_rows(TimelineEvent, fields, rows)
    stored = TimelineEvent.objects.filter(action="bulk.test").order_by("seq")
    assert [(e.ip, e.data, e.occurred_at) for e in stored] == [
        (None, {"名称": "测试", "n": 0, "list": [1, "二"]}, now),
        ("2001:db8::1", {"名称": "测试", "n": 1, "list": [1, "二"]}, now),
        ("2001:db8::1", {"名称": "测试", "n": 2, "list": [1, "二"]}, now),
    ]


def test_a_field_the_model_has_not_and_a_generator_that_falls_short():
    with pytest.raises(KeyError):
        bulk.insert_rows(Ticket, ["state", "colour"], [("open", "红")])
    with pytest.raises(ValueError, match="announced"), transaction.atomic():
        bulk.insert_rows(Ticket, ["state", "org_id"], iter([("open", org(STATION).pk)]), count=2)


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
    twin = (0, 10**9, now, "bulk.twin", "t", "1")
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.insert_rows(
            TimelineEvent, ["chain", "seq", "occurred_at", "action", "subject_type", "subject_id"], [twin] * 2
        )
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
    bulk.insert_rows(Ticket, ["state", "title", "org_id"], [("open", "票\x1f号", station.pk)])
    found = Ticket.objects.filter(title__any=["票\x1f号", "票3"]).values_list("title", flat=True)
    assert sorted(found) == sorted(["票\x1f号", "票3"])  # a value holding the separator goes as an array


def test_a_generator_that_decides_as_it_goes_gets_keys_for_what_it_gave():
    station = org(STATION)
    chosen = (("open", f"选{n}", station.pk) for n in range(10) if n % 3)
    ids = bulk.insert_rows(Ticket, ["state", "title", "org_id"], chosen, at_most=10)
    assert len(ids) == 6
    assert [Ticket.objects.get(pk=pk).title for pk in ids] == ["选1", "选2", "选4", "选5", "选7", "选8"]
    assert bulk.insert_rows(Ticket, ["state"], iter([]), at_most=5) == []
    with pytest.raises(ValueError, match="announced"), transaction.atomic():
        bulk.insert_rows(Ticket, ["state", "org_id"], iter([("open", station.pk)] * 3), at_most=2)
    with pytest.raises(TypeError):
        bulk.insert_rows(Ticket, ["state"], [("open",)], count=1, at_most=1)


def test_keys_checked_meanwhile_lets_python_work_and_refuses_a_broken_key():
    station = org(STATION)
    with transaction.atomic():
        bulk.insert_rows(Ticket, ["state", "org_id"], [("open", station.pk)])
        with bulk.keys_checked_meanwhile():
            worked = sum(range(10_000))  # Python's own work, while the server checks
        assert worked == 49_995_000
        # Deferred again afterwards: a key put right later in the transaction is fine.
        late = bulk.insert_rows(Ticket, ["state", "org_id", "owner_id"], [("open", station.pk, 10**9)])
        Ticket.objects.filter(pk__in=late).update(owner=None)
    assert Ticket.objects.filter(pk__in=late).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="elsewhere keys are checked at commit only")
def test_a_broken_key_is_refused_when_the_block_ends():
    def python_work() -> None:
        with bulk.keys_checked_meanwhile():
            sum(range(1000))

    with transaction.atomic():
        bulk.insert_rows(Ticket, ["state", "org_id"], [("open", 10**9)])
        with pytest.raises(IntegrityError):
            python_work()
        transaction.set_rollback(True)
    assert not Ticket.objects.filter(org_id=10**9).exists()
