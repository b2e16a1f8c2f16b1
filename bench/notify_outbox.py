"""Notification outbox: enqueue latency in the caller's transaction, and delivery throughput (1 and 4 workers).

Measures the outbox's own cost, not a mail relay's or an SMS gateway's: delivery goes to
Django's in-memory mail backend and ``pingan.notify.sms.LocmemBackend``. Each delivered
message is the real path: claim under row locks (``SKIP LOCKED`` on PostgreSQL), the
recipient's e-mail or the mobile number decrypted from the citizen profile, the send, the
outcome and its timeline events (and, for SMS, the personal-data read on the citizen's
timeline) in a short transaction.

- ``enqueue``: one ``notify.enqueue()`` (in-app + e-mail + SMS rows and a timeline event)
  in its own transaction, as a status change would: per-call latency;
- ``deliver``: draining the queued e-mail and SMS rows with ``deliver_due`` in one
  thread, then again (after re-queueing) with 4 threads, each with its own connection;
  every message is checked to have been sent exactly once.

    python -m bench.notify_outbox [--db sqlite|postgres|all] [--n 1000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import threading
import time
from typing import Any

from bench import common

DATABASE = "pingan_bench_notify"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def recipients(count: int) -> list[Any]:
    from pingan.accounts.actions import CitizenData, citizens_bulk_register
    from pingan.accounts.models import User
    from pingan.core import seeding
    from pingan.core.identity import make_resident_id
    from pingan.orgs import actions as orgs
    from pingan.orgs.models import OrgUnit

    if not OrgUnit.objects.exists():
        orgs.tree_load(grids_per_station=lambda code: 1)
    existing = list(User.objects.filter(kind="citizen", citizen__isnull=False).order_by("pk")[:count])
    if len(existing) < count:
        rng = random.Random(7)
        station = OrgUnit.objects.get(code="370102001")
        rows = []
        for number in range(len(existing), count):
            birth = dt.date(1980, 1, 1) + dt.timedelta(days=number)
            rows.append(
                CitizenData(
                    name=seeding.person_name(rng, "M"),
                    id_number=make_resident_id("370102", birth, number),
                    phone=f"139{number:08d}",
                    birth_date=birth,
                    sex="M",
                    county_code="370102",
                )
            )
        citizens_bulk_register(rows, home_orgs=[station] * len(rows))
        existing = list(User.objects.filter(kind="citizen", citizen__isnull=False).order_by("pk")[:count])
    for user in existing:
        user.email = f"u{user.pk}@example.cn"
    User.objects.bulk_update(existing, ["email"])
    return existing


def run(backend: str, n: int) -> list[list[str]]:
    url = common.database_url(backend, DATABASE)
    common.drop_database(url)
    common.django_setup(url)
    common.migrate()
    from django.conf import settings
    from django.core import mail
    from django.db import connection, transaction

    from pingan.notify import actions, delivery, sms
    from pingan.notify.models import Message, Status

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.NOTIFY_SMS_BACKEND = "pingan.notify.sms.LocmemBackend"
    settings.NOTIFY_SEND_ON_COMMIT = False
    mail.outbox = []
    people = recipients(min(n, 200))
    log(f"{backend}: {len(people)} recipients ready; enqueueing {n}")

    def enqueue_one(number: int) -> None:
        with transaction.atomic():
            actions.enqueue(
                user=people[number % len(people)],
                title="您的申请已受理",
                body=f"受理编号 SQ2025{number:07d}，请留意办理进度。",
                url=f"/services/applications/SQ2025{number:07d}/",
                dedupe_key=f"bench.{number}",
            )

    counter = iter(range(10**9))
    timing, _ = common.measure(lambda: enqueue_one(next(counter)), repeat=n, warmup=0)
    rows = [
        [
            backend,
            "enqueue (3 channels, own transaction)",
            f"{n}",
            f"p50 {common.ms(timing.p50)} ms",
            f"p95 {common.ms(timing.p95)} ms",
        ]
    ]

    def drain(threads: int) -> tuple[float, int]:
        errors: list[BaseException] = []
        started = time.perf_counter()

        def work() -> None:
            try:
                while delivery.deliver_due(batch=50, limit=500).delivered:
                    pass
            except BaseException as error:  # reported below
                errors.append(error)
            finally:
                connection.close()

        pool = [threading.Thread(target=work) for _ in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        elapsed = time.perf_counter() - started
        if errors:
            raise errors[0]
        return elapsed, Message.objects.filter(status=Status.DELIVERED, channel__in=["email", "sms"]).count()

    for threads in (1, 4):
        mail.outbox = []
        sms.LocmemBackend.outbox = []
        Message.objects.exclude(channel="in_app").update(
            status=Status.CREATED, next_attempt_at=delivery.timezone.now(), attempts=0, delivered_at=None
        )
        queued = Message.objects.exclude(channel="in_app").count()
        elapsed, delivered = drain(threads)
        sent = [m.extra_headers["X-Pingan-Message"] for m in mail.outbox] + [
            s["reference"] for s in sms.LocmemBackend.outbox
        ]
        if delivered != queued or len(sent) != queued or len(set(sent)) != queued:
            distinct = len(set(sent))
            raise AssertionError(
                f"{threads} threads: {queued} queued, {delivered} delivered, {len(sent)} sent, {distinct} distinct"
            )
        rows.append(
            [
                backend,
                f"deliver, {threads} worker thread(s)",
                f"{queued}",
                f"{queued / elapsed:,.0f} msg/s",
                "each sent once",
            ]
        )
        log(f"{backend}: {threads} thread(s): {queued} in {elapsed:.1f} s")
    rows.append([backend, "database", common.backend_version(), "", ""])
    common.drop_database(url)
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "all"], default="all")
    parser.add_argument("--n", type=int, default=1000, help="messages enqueued (each: in-app, e-mail, SMS)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        for row in run(args.db, args.n):
            print("\t".join(row))
        return 0
    outputs = common.per_backend(
        args.db, lambda backend: ["bench.notify_outbox", "--child", "--db", backend, "--n", str(args.n)]
    )
    rows = [line.split("\t") for output in outputs.values() for line in output.strip().splitlines()]
    print(common.machine_line())
    print(common.markdown_table(["db", "what", "n", "result", ""], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
