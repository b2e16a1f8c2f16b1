from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from pingan.core import context, timeline
from pingan.core.models import AppendOnlyError, TimelineEvent, TimelineHead

pytestmark = pytest.mark.django_db

SUBJECT = ("test.case", "1")


@pytest.fixture
def chain_events() -> list[TimelineEvent]:
    """Four events on one subject (one chain), plus events on other subjects."""
    recorded = [
        timeline.record(SUBJECT, "case.opened", data={"note": "立案", "amount": 1.5}),
        timeline.record(SUBJECT, "case.updated", before={"state": "a"}, after={"state": "b"}),
        timeline.record(SUBJECT, "case.updated", data={"when": "2021-10-01"}),
        timeline.record(SUBJECT, "case.closed", data={"names": ["张三", "李四"]}),
    ]
    for number in range(2, 8):
        forget_transaction_chain()  # as if each were its own transaction (the test has one)
        timeline.record(("test.case", str(number)), "case.opened")
    return recorded


def forget_transaction_chain() -> None:
    transaction.get_connection().__dict__.pop("_pingan_timeline_chain", None)


def test_one_transaction_appends_to_one_chain():
    """Two subjects on different chains, recorded in one transaction, share the first one's
    chain: a transaction never waits for a second head lock (no lock-order deadlocks)."""
    first, other = (
        ("test.case", "1"),
        next(
            ("test.case", str(n))
            for n in range(2, 99)
            if timeline.chain_for("test.case", str(n)) != timeline.chain_for(*SUBJECT)
        ),
    )
    forget_transaction_chain()
    with transaction.atomic():
        a = timeline.record(first, "case.opened")
        b = timeline.record(other, "case.opened")
    assert a.chain == b.chain == timeline.chain_for(*first)
    assert timeline.verify() == []


def verify_command() -> tuple[str, str | None]:
    out = io.StringIO()
    try:
        call_command("verify_timeline", stdout=out)
    except CommandError as error:
        return out.getvalue(), str(error)
    return out.getvalue(), None


def disable_triggers() -> None:
    """What an attacker with DBA rights does first (see migration 0002)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER core_timeline_no_update")
            cursor.execute("DROP TRIGGER core_timeline_no_delete")
        else:
            cursor.execute("ALTER TABLE core_timelineevent DISABLE TRIGGER core_timeline_no_update")
            cursor.execute("ALTER TABLE core_timelineevent DISABLE TRIGGER core_timeline_no_delete")


def execute(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_events_chain_and_verify(chain_events):
    first, second, *_ = chain_events
    assert first.chain == second.chain == timeline.chain_for(*SUBJECT)
    assert second.seq == first.seq + 1
    assert second.prev_hash == first.hash
    assert second.data == {"before": {"state": "a"}, "after": {"state": "b"}}
    assert [e.action for e in timeline.events_for(SUBJECT)][:2] == ["case.opened", "case.updated"]
    head = TimelineHead.objects.get(chain=first.chain)
    assert (head.seq, head.hash) == (chain_events[-1].seq, chain_events[-1].hash)
    assert timeline.verify() == []
    report = timeline.verify_report()
    assert report.events == TimelineEvent.objects.count()
    assert report.chains == TimelineEvent.objects.values("chain").distinct().count()
    out, error = verify_command()
    assert error is None
    assert out.strip() == f"intact: {report.events} events in {report.chains} chains"


def test_events_record_who_and_from_where(chain_events):
    with context.acting_as(None, ip="2001:0DB8:0000:0000:0000:0000:0000:0001", channel="counter"):
        event = timeline.record(SUBJECT, "case.viewed")
    stored = TimelineEvent.objects.get(pk=event.pk)
    assert stored.ip == "2001:db8::1"
    assert stored.channel == "counter"
    assert stored.actor_label == "system"
    # The address is hashed as the database gives it back, so the chain stays intact.
    assert timeline.verify() == []


def test_an_altered_row_is_named(chain_events):
    target = chain_events[1]
    disable_triggers()
    execute("UPDATE core_timelineevent SET actor_label = %s WHERE id = %s", ["改过的人", target.pk])
    [broken] = timeline.verify()
    assert (broken.chain, broken.seq, broken.event_id) == (target.chain, target.seq, target.pk)
    out, error = verify_command()
    assert error is not None
    assert "timeline broken in 1 of" in error
    assert f"event id {target.pk}" in out
    assert "altered" in out


def test_an_altered_payload_is_named(chain_events):
    target = chain_events[2]
    disable_triggers()
    execute("UPDATE core_timelineevent SET data = %s WHERE id = %s", ['{"when": "2021-10-02"}', target.pk])
    out, error = verify_command()
    assert error is not None
    assert f"event id {target.pk}" in out


def test_a_relinked_row_is_named(chain_events):
    """The attacker rewrites a row and its hash; the next event no longer links to it."""
    target, following = chain_events[1], chain_events[2]
    disable_triggers()
    forged = TimelineEvent.objects.get(pk=target.pk)
    forged.actor_label = "伪造"
    execute(
        "UPDATE core_timelineevent SET actor_label = %s, hash = %s WHERE id = %s",
        ["伪造", timeline.compute_hash(forged), target.pk],
    )
    [broken] = timeline.verify()
    assert broken.event_id == following.pk
    assert "re-linked" in broken.problem


def test_a_deleted_row_is_named(chain_events):
    before, deleted, after = chain_events[0], chain_events[1], chain_events[2]
    disable_triggers()
    execute("DELETE FROM core_timelineevent WHERE id = %s", [deleted.pk])
    [broken] = timeline.verify()
    assert broken.seq == deleted.seq
    assert broken.event_id == after.pk
    out, error = verify_command()
    assert error is not None
    assert f"missing between event id {before.pk} and event id {after.pk}" in out
    assert "deleted" in out


def test_a_deleted_first_row_is_named(chain_events):
    disable_triggers()
    execute("DELETE FROM core_timelineevent WHERE id = %s", [chain_events[0].pk])
    [broken] = timeline.verify()
    assert broken.seq == 1
    assert "the start of the chain" in broken.problem


def test_a_deleted_newest_row_is_named(chain_events):
    newest, survivor = chain_events[-1], chain_events[-2]
    disable_triggers()
    execute("DELETE FROM core_timelineevent WHERE id = %s", [newest.pk])
    out, error = verify_command()
    assert error is not None
    assert f"seq {newest.seq}..{newest.seq} missing after event id {survivor.pk}" in out
    assert "newest rows were deleted" in out


def test_an_altered_newest_row_with_a_recomputed_hash_is_caught(chain_events):
    newest = chain_events[-1]
    disable_triggers()
    forged = TimelineEvent.objects.get(pk=newest.pk)
    forged.action = "case.reopened"
    execute(
        "UPDATE core_timelineevent SET action = %s, hash = %s WHERE id = %s",
        ["case.reopened", timeline.compute_hash(forged), newest.pk],
    )
    [broken] = timeline.verify()
    assert broken.event_id == newest.pk
    assert "chain head" in broken.problem


def test_a_deleted_head_row_is_caught(chain_events):
    TimelineHead.objects.filter(chain=chain_events[0].chain).delete()
    [broken] = timeline.verify()
    assert broken.chain == chain_events[0].chain
    assert "head row is missing" in broken.problem
    forget_transaction_chain()
    with pytest.raises(RuntimeError, match="no head row"):
        timeline.record(SUBJECT, "case.more")


def test_an_empty_chain_without_a_head_gets_one():
    chain = timeline.chain_for(*SUBJECT)
    TimelineHead.objects.filter(chain=chain).delete()
    event = timeline.record(SUBJECT, "case.opened")
    assert event.seq == 1
    assert event.prev_hash == timeline.GENESIS
    assert timeline.verify() == []


def test_events_appended_while_verifying_are_not_mistaken_for_tampering(chain_events, monkeypatch):
    original = timeline._chain_events
    appended = []

    def chain_events_then_append(chain, after_seq=0, batch=5000):
        yield from original(chain, after_seq, batch)
        if chain == chain_events[0].chain and not appended:
            appended.append(timeline.record(SUBJECT, "case.commented"))

    monkeypatch.setattr(timeline, "_chain_events", chain_events_then_append)
    report = timeline.verify_report()
    assert report.broken == []
    assert report.events == TimelineEvent.objects.count()
    assert appended


def test_the_orm_refuses_updates_and_deletes(chain_events):
    event = chain_events[0]
    with pytest.raises(AppendOnlyError):
        TimelineEvent.objects.filter(pk=event.pk).update(action="x")
    with pytest.raises(AppendOnlyError):
        TimelineEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        TimelineEvent.objects.bulk_update([event], ["action"])


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE core_timelineevent SET action = 'x' WHERE id = %s",
        "DELETE FROM core_timelineevent WHERE id = %s",
    ],
)
def test_the_database_refuses_raw_updates_and_deletes(chain_events, sql):
    event = chain_events[0]
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        execute(sql, [event.pk])
    assert TimelineEvent.objects.get(pk=event.pk).action == "case.opened"
    assert timeline.verify() == []


def test_reads_of_personal_data_are_recorded():
    event = timeline.record_read(SUBJECT, fields=["id_number"], purpose="unmask")
    assert event.action == "personal_data.read"
    assert event.data == {"fields": ["id_number"], "purpose": "unmask"}


@pytest.mark.django_db
def test_backdated_history_keeps_the_real_time_and_says_what_it_stands_for():
    from django.utils import timezone

    moment = dt.datetime(2021, 7, 1, 9, 0, tzinfo=dt.UTC)
    with context.backdated(moment):
        assert context.now() == moment
        event = timeline.record(("demo.thing", "1"), "demo.happened")
    assert context.now() != moment
    assert abs((event.occurred_at - timezone.now()).total_seconds()) < 60
    assert event.data["backdated_to"].startswith("2021-07-01T09:00:00")
    assert timeline.verify() == []


def test_many_events_at_once_are_links_of_one_chain_like_any_other():
    forget_transaction_chain()
    with transaction.atomic():
        first = timeline.record(("test.case", "1"), "case.opened")
        ids = timeline.record_many(
            [timeline.Entry(("test.case", str(n)), "case.imported", {"row": n}, org_path="37") for n in range(2, 7)],
        )
    stored = TimelineEvent.objects.in_bulk(ids)
    many = [stored[pk] for pk in ids]
    assert [event.seq for event in many] == list(range(first.seq + 1, first.seq + 6))
    assert {event.chain for event in many} == {first.chain}
    assert [event.prev_hash for event in many] == [first.hash] + [event.hash for event in many[:-1]]
    fourth = timeline.events_for(("test.case", "4")).get()
    assert (fourth.action, fourth.data, fourth.org_path) == ("case.imported", {"row": 4}, "37")
    assert TimelineHead.objects.get(chain=first.chain).hash == many[-1].hash
    assert timeline.verify() == []
    assert timeline.record_many([]) == []


def test_a_link_altered_inside_a_batch_of_events_is_found():
    forget_transaction_chain()
    ids = timeline.record_many([timeline.Entry(("test.case", str(n)), "case.imported") for n in range(3)])
    target = TimelineEvent.objects.get(pk=ids[1])
    disable_triggers()
    execute("UPDATE core_timelineevent SET subject_id = %s WHERE id = %s", ["99", target.pk])
    [broken] = timeline.verify()
    assert (broken.chain, broken.seq, broken.event_id) == (target.chain, target.seq, target.pk)


def test_choices_in_a_payload_are_hashed_as_the_text_read_back():
    from django.db import models

    class Colour(models.TextChoices):
        RED = "red", "红"

    forget_transaction_chain()
    event = timeline.record(SUBJECT, "case.coloured", data={"colour": Colour.RED, "all": [Colour.RED]})
    again = TimelineEvent.objects.get(pk=event.pk)
    assert again.data == {"colour": "red", "all": ["red"]}
    assert type(again.data["colour"]) is str
    assert timeline.compute_hash(again) == again.hash
    assert timeline.verify() == []
