"""The timeline: one append-only, hash-chained log of everything that happens to every
object that matters — and of every read of personal data.

    timeline.record(item, "workflow.approve", before={"state": "review"}, after={"state": "approved"})
    timeline.record_read(citizen, fields=["id_number"], purpose="unmask")
    timeline.record_many([timeline.Entry(bike, "ebikes.pre_registered", {"row": 2}), …])
    timeline.verify()   # -> None, or the first broken link

Appends to one chain are serialised by locking that chain's head row; subjects are spread
over ``TIMELINE_CHAINS`` chains so unrelated appends do not queue behind each other. A
transaction appends to one chain only — the chain of the first subject it records — so
two transactions never hold two head locks taken in opposite orders (a deadlock on
PostgreSQL: an application's step that also issues a credential touches two subjects).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zlib
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, router, transaction
from django.utils import timezone
from django.utils.ipv6 import clean_ipv6_address

from pingan.core import bulk, context
from pingan.core.models import MAX_TIMELINE_CHAINS, TimelineEvent, TimelineHead

GENESIS = "0" * 64


def subject_key(subject: Any) -> tuple[str, str]:
    """(type, id) naming a subject: a model instance, or an explicit (type, id) pair."""
    if isinstance(subject, tuple):
        return str(subject[0]), str(subject[1])
    if isinstance(subject, models.Model):
        return subject._meta.label_lower, str(subject.pk)
    raise TypeError(f"cannot name timeline subject {subject!r}")


def chain_for(subject_type: str, subject_id: str) -> int:
    chains = min(max(settings.TIMELINE_CHAINS, 1), MAX_TIMELINE_CHAINS)
    return zlib.crc32(f"{subject_type}:{subject_id}".encode()) % chains


def _transaction_chain(subject_type: str, subject_id: str) -> int:
    """The chain this transaction appends to: fixed by its first event.

    The choice is remembered on the connection together with a no-op on-commit callback:
    Django drops the callback when the transaction commits or rolls back, so a chain never
    outlives its transaction. Outside a transaction each event is its own transaction.
    """
    connection = transaction.get_connection(router.db_for_write(TimelineEvent))
    if not connection.in_atomic_block:
        return chain_for(subject_type, subject_id)
    remembered = connection.__dict__.get("_pingan_timeline_chain")
    if remembered is not None:
        marker, chain = remembered
        if any(entry[1] is marker for entry in connection.run_on_commit):
            return chain

    def marker() -> None:  # identifies this transaction among the connection's callbacks
        return None

    chain = chain_for(subject_type, subject_id)
    transaction.on_commit(marker, using=connection.alias)
    connection.__dict__["_pingan_timeline_chain"] = (marker, chain)
    return chain


def _plain(data: Any) -> Any:
    """JSON-native copy: what is hashed is exactly what the database gives back."""
    if _native(data):
        return data  # already so (most payloads): the round trip would give the same back
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False))


def _native(value: Any) -> bool:
    kind = type(value)
    if kind is int or kind is bool or value is None or isinstance(value, str):
        return True  # a str subclass (a TextChoices member) is written as its text, like a str
    if kind is dict:
        return all(type(key) is str and _native(item) for key, item in value.items())
    if kind is list:
        return all(_native(item) for item in value)
    return False  # floats too: JSON may not give the same one back (nan, inf)


def _timestamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# What a link covers: every column but the key, the previous link and the hash itself.
HASHED = (
    "chain", "seq", "occurred_at", "actor_id", "actor_label", "action", "subject_type", "subject_id",
    "org_path", "ip", "channel", "request_id", "data",
)  # fmt: skip


def compute_hash(event: TimelineEvent) -> str:
    """The event's link: its content and the previous link."""
    return _link(event.prev_hash, {name: getattr(event, name) for name in HASHED})


def _link(prev_hash: str, fields: dict[str, Any], *, timestamp: str | None = None) -> str:
    """``fields``: the ``HASHED`` columns' values (``timestamp``: ``occurred_at`` as
    ``_timestamp`` writes it, when the caller has it already)."""
    body = {**fields, "occurred_at": timestamp or _timestamp(fields["occurred_at"])}
    return hashlib.sha256((prev_hash + _canonical(body)).encode("utf-8")).hexdigest()


# What a link hashes: JSON, keys sorted, no spaces, characters as they are. One encoder
# for all (json.dumps with options makes a new one per call: a third of a link's time).
_canonical = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode


def actor_label(user: Any) -> str:
    if user is None:
        return "system"
    label = getattr(user, "timeline_label", None)
    return label() if callable(label) else str(user)


def _org_path_of(subject: Any) -> str:
    if isinstance(subject, models.Model):
        getter = getattr(subject, "timeline_org_path", None)
        if callable(getter):
            return getter() or ""
        from pingan.core import access  # late: access imports this module

        return access.org_path_of(subject) or ""
    return ""


def _normal_ip(ip: str | None) -> str | None:
    """The address as the database gives it back (IPv6 compressed, lower case), so the
    hash computed now still matches the row read later."""
    if ip and ":" in ip:
        try:
            return clean_ipv6_address(ip)
        except ValidationError:
            return None
    return ip or None


def _locked_head(chain: int) -> TimelineHead:
    """Lock the chain's head; an empty chain whose head row is missing (a flushed test
    database) gets a fresh genesis head — a chain with events never does."""
    head = TimelineHead.objects.select_for_update().filter(chain=chain).first()
    if head is None:
        if TimelineEvent.objects.filter(chain=chain).exists():
            raise RuntimeError(f"timeline chain {chain} has events but no head row: run manage.py verify_timeline")
        TimelineHead.objects.bulk_create([TimelineHead(chain=chain, seq=0, hash=GENESIS)], ignore_conflicts=True)
        head = TimelineHead.objects.select_for_update().get(chain=chain)
    return head


@dataclass(frozen=True)
class Entry:
    """One event for :func:`record_many`."""

    subject: Any
    action: str
    data: dict[str, Any] | None = None
    org_path: str | None = None


def record(
    subject: Any,
    action: str,
    *,
    actor: Any = None,
    data: dict[str, Any] | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    org_path: str | None = None,
) -> TimelineEvent:
    """Append one event. Runs inside the caller's transaction (or its own)."""
    payload: dict[str, Any] = dict(data or {})
    if before is not None:
        payload["before"] = before
    if after is not None:
        payload["after"] = after
    with _appending([Entry(subject, action, payload, org_path)], actor) as links:
        event = TimelineEvent(**dict(zip(COLUMNS, next(links), strict=True)))
        event.save(force_insert=True)
    return event


def record_many(
    entries: Sequence[Entry], *, actor: Any = None, while_hashing: AbstractContextManager[Any] | None = None
) -> list[int]:
    """Append several events at once, in order, and return their ids: one lock of the
    chain's head, one insert and one head update however many there are (a dealer's file
    of 2,000 sales is 2,000 events). Each event is still its own link, hashed and verified
    like any other; all go on this transaction's chain. Runs inside the caller's
    transaction (or its own).

    By default the events are linked while they stream to the database (hashing the next
    while the server stores the first). ``while_hashing``: a context to link them all in
    first, while the database does something else (``bulk.keys_checked_meanwhile()``)."""
    if not entries:
        return []
    with _appending(entries, actor) as links:
        if while_hashing is None:
            return bulk.insert_rows(TimelineEvent, COLUMNS, links, count=len(entries))
        with while_hashing:
            linked = list(links)
        return bulk.insert_rows(TimelineEvent, COLUMNS, linked)


COLUMNS = (*HASHED, "prev_hash", "hash")  # what an append writes (the key comes from the table)


@contextmanager
def _appending(entries: Sequence[Entry], actor: Any) -> Iterator[Iterator[tuple[Any, ...]]]:
    """The events' ``COLUMNS``, linked to the chain's head one after the other as the
    caller takes them (all of them); the head stays locked until it moves to the last."""
    ctx = context.current()
    actor = actor if actor is not None else ctx.user
    actor_id, label = getattr(actor, "pk", None), actor_label(actor)[:200]
    ip, backdated = _normal_ip(ctx.ip), context.backdated_to()
    subjects = [subject_key(entry.subject) for entry in entries]
    chain = _transaction_chain(*subjects[0])
    # No savepoint: a failed append fails the caller's whole transaction anyway (and inside
    # a workflow transition the savepoint cost two round trips per step).
    with transaction.atomic(savepoint=False):
        head = _locked_head(chain)
        now = timezone.now()
        stamp = _timestamp(now)
        last = {"seq": head.seq, "hash": head.hash}

        def links() -> Iterator[tuple[Any, ...]]:
            for entry, (subject_type, subject_id) in zip(entries, subjects, strict=True):
                payload = entry.data or {}
                if backdated is not None:
                    payload = {**payload, "backdated_to": backdated}
                fields = {
                    "chain": chain,
                    "seq": last["seq"] + 1,
                    "occurred_at": now,
                    "actor_id": actor_id,
                    "actor_label": label,
                    "action": entry.action,
                    "subject_type": subject_type,
                    "subject_id": subject_id,
                    "org_path": entry.org_path if entry.org_path is not None else _org_path_of(entry.subject),
                    "ip": ip,
                    "channel": ctx.channel,
                    "request_id": ctx.request_id,
                    "data": _plain(payload),
                }
                previous = last["hash"]
                last.update(seq=fields["seq"], hash=_link(previous, fields, timestamp=stamp))
                yield (*(fields[name] for name in HASHED), previous, last["hash"])

        yield links()
        if last["seq"] != head.seq + len(entries):
            raise RuntimeError("timeline: not every event of the batch was written")
        TimelineHead.objects.filter(chain=chain).update(seq=last["seq"], hash=last["hash"])


def record_read(
    subject: Any,
    *,
    fields: list[str],
    actor: Any = None,
    purpose: str = "view",
    org_path: str | None = None,
    **detail: Any,
) -> TimelineEvent:
    """Log that someone saw personal data of ``subject`` (which fields, for what); ``detail``
    says more (which photo, which message, whether it was masked)."""
    return record(
        subject,
        "personal_data.read",
        actor=actor,
        data={"fields": fields, "purpose": purpose, **detail},
        org_path=org_path,
    )


def events_for(subject: Any) -> models.QuerySet[TimelineEvent]:
    subject_type, subject_id = subject_key(subject)
    return TimelineEvent.objects.filter(subject_type=subject_type, subject_id=subject_id).order_by("id")


@dataclass(frozen=True)
class BrokenLink:
    chain: int
    seq: int
    event_id: int | None
    problem: str

    def __str__(self) -> str:
        where = f"event id {self.event_id}" if self.event_id is not None else "no event"
        return f"chain {self.chain}, seq {self.seq} ({where}): {self.problem}"


@dataclass(frozen=True)
class VerifyReport:
    events: int
    chains: int  # chains holding at least one event
    broken: list[BrokenLink]


def _chain_events(chain: int, after_seq: int = 0, batch: int = 5000) -> Iterator[TimelineEvent]:
    last_seq = after_seq
    while True:
        rows = list(TimelineEvent.objects.filter(chain=chain, seq__gt=last_seq).order_by("seq")[:batch])
        if not rows:
            return
        yield from rows
        last_seq = rows[-1].seq


def _verify_chain(chain: int) -> tuple[int, BrokenLink | None]:
    """(events checked, first broken link or None). Safe while others append: the head is
    read after the events, and events appended meanwhile are checked too."""
    expected_seq, prev_hash, last_id, count = 1, GENESIS, None, 0
    stalled = 0
    while True:
        count_before = count
        for event in _chain_events(chain, after_seq=expected_seq - 1):
            if event.seq != expected_seq:
                after = f"event id {last_id}" if last_id is not None else "the start of the chain"
                return count, BrokenLink(
                    chain,
                    expected_seq,
                    event.id,
                    f"seq {expected_seq}..{event.seq - 1} missing between {after} and event id {event.id}: "
                    "rows were deleted",
                )
            if event.prev_hash != prev_hash:
                return count, BrokenLink(
                    chain, event.seq, event.id, "prev_hash does not match the previous event: the chain was re-linked"
                )
            if compute_hash(event) != event.hash:
                return count, BrokenLink(
                    chain, event.seq, event.id, "content does not match its hash: the row was altered"
                )
            expected_seq, prev_hash, last_id, count = event.seq + 1, event.hash, event.id, count + 1
        last_seq = expected_seq - 1
        head = TimelineHead.objects.filter(chain=chain).first()
        if head is None:
            if last_seq == 0:
                return count, None
            return count, BrokenLink(chain, last_seq, last_id, "the chain's head row is missing")
        if head.seq > last_seq:
            # Appended while we read: check those too. No new rows twice in a row: deleted.
            stalled = stalled + 1 if count == count_before else 0
            if stalled < 2:
                continue
            after = f"event id {last_id}" if last_id is not None else "the start of the chain"
            return count, BrokenLink(
                chain,
                last_seq + 1,
                None,
                f"seq {last_seq + 1}..{head.seq} missing after {after} (the head says {head.seq}): "
                "the newest rows were deleted",
            )
        if head.seq < last_seq:
            return count, BrokenLink(
                chain, head.seq + 1, None, f"events after seq {head.seq} are not in the chain head: rows were inserted"
            )
        if head.hash != prev_hash:
            return count, BrokenLink(
                chain, last_seq, last_id, "the newest event does not match the chain head's hash: it was altered"
            )
        return count, None


def verify_report(chains: list[int] | None = None) -> VerifyReport:
    """Check chains (all by default): how many events, and the first broken link of each broken chain."""
    if chains is None:
        chains = sorted(
            set(TimelineHead.objects.values_list("chain", flat=True))
            | set(TimelineEvent.objects.values_list("chain", flat=True).distinct())
        )
    broken: list[BrokenLink] = []
    events = used = 0
    for chain in chains:
        count, problem = _verify_chain(chain)
        events += count
        head = TimelineHead.objects.filter(chain=chain).first()
        if count or (head is not None and head.seq) or problem is not None:
            used += 1
        if problem is not None:
            broken.append(problem)
    return VerifyReport(events=events, chains=used, broken=broken)


def verify(chains: list[int] | None = None) -> list[BrokenLink]:
    """Check every chain; return the first broken link of each broken chain (empty: intact)."""
    return verify_report(chains).broken
