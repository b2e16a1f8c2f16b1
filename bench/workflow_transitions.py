"""Workflow transitions per second through ``workflow.transition()`` on SQLite and PostgreSQL.

Each transition is the real thing, end to end: row lock, state/role/input/guard checks,
clock effects (start, pause, resume, stop), timeline append, commit. Items walk the test
workflow ``ticket`` (open → ask → answer → collect → approve: five transitions, each with
clock effects). Measured single-threaded and with 4 threads on distinct items, each
thread with its own connection.

    .venv/bin/python -m bench.workflow_transitions [--db sqlite|postgres|all] [--n N]

It sets up its own database — a temporary SQLite file (WAL), or a fresh PostgreSQL
database ``pingan_bench_wf`` (dropped afterwards) — and migrates it. Standalone on
purpose: it shares no helper with the other benchmarks.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
POSTGRES_SERVER = os.environ.get("PINGAN_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
PG_DATABASE = "pingan_bench_wf"
WALK = ["open", "ask", "answer", "collect", "approve"]


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    cores = subprocess.run(["nproc"], capture_output=True, text=True, check=False).stdout.strip()
    return f"`nproc` {cores}, {cpu}, Python {platform.python_version()}"


# --- The child: one database --------------------------------------------------------------


def child(backend: str, n: int, threads_list: list[int]) -> list[dict[str, Any]]:
    workdir = Path(tempfile.mkdtemp(prefix="pingan-bench-wf-"))
    if backend == "sqlite":
        url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    else:
        import psycopg

        with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE}")
            admin.execute(f"CREATE DATABASE {PG_DATABASE}")
        url = f"{POSTGRES_SERVER}/{PG_DATABASE}"
    os.environ.update(
        DATABASE_URL=url,
        PINGAN_VAR_DIR=str(workdir),
        PINGAN_TESTING="1",  # installs the engine's test app (its Ticket model and workflow)
        DJANGO_SETTINGS_MODULE="pingan.settings",
        PINGAN_LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    people = make_people()
    version = connection.cursor().connection.info.server_version if backend == "postgres" else None
    results = []
    for threads in threads_list:
        tickets = make_tickets(people, n // len(WALK))
        results.append(run(backend, tickets, people, threads))
    from pingan.core import timeline

    assert timeline.verify() == [], "the timeline must stay intact"
    connection.close()
    if backend == "postgres":
        import psycopg

        with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE}")
    for result in results:
        result["server"] = f"PostgreSQL {version // 10000}.{version % 10000}" if version else sqlite_version()
    return results


def sqlite_version() -> str:
    import sqlite3

    return f"SQLite {sqlite3.sqlite_version} (WAL)"


def make_people() -> dict[str, Any]:
    from django.contrib.auth import get_user_model

    from pingan.accounts.models import Post
    from pingan.orgs.models import OrgUnit

    province = OrgUnit.objects.create(
        code="37",
        name="山东省公安厅",
        level="province",
        kind="bureau",
        path="37/",
        depth=0,
        latitude=36.7,
        longitude=117.0,
    )
    station = OrgUnit.objects.create(
        code="370102001",
        name="测试派出所",
        level="station",
        kind="station",
        parent=province,
        path="37/370102001/",
        depth=1,
        latitude=36.7,
        longitude=117.0,
    )
    users = get_user_model().objects
    officer = users.create_user(username="100001", kind="staff", name="窗口民警")
    chief = users.create_user(username="100002", kind="staff", name="所长")
    Post.objects.create(user=officer, org=station, role="counter_officer")
    Post.objects.create(user=chief, org=station, role="station_chief")
    owner = users.create_user(username="c1", kind="citizen", name="张三")
    return {"station": station, "officer": officer, "chief": chief, "owner": owner}


def make_tickets(people: dict[str, Any], count: int) -> list[Any]:
    from pingan.core.tests.workflowapp.models import Ticket

    return [Ticket.objects.create(org=people["station"], owner=people["owner"]) for _ in range(count)]


def walk(tickets: list[Any], people: dict[str, Any]) -> int:
    from django.db import connection

    from pingan.core import workflow

    steps = {
        "open": (people["officer"], {"note": "受理"}),
        "ask": (people["officer"], {"question": "请补交材料"}),
        "answer": (people["owner"], None),
        "collect": (people["officer"], None),
        "approve": (people["chief"], None),
    }
    done = 0
    try:
        for ticket in tickets:
            for action in WALK:
                actor, data = steps[action]
                workflow.transition(ticket, action=action, actor=actor, data=data, channel="counter")
                done += 1
    finally:
        connection.close()
    return done


def run(backend: str, tickets: list[Any], people: dict[str, Any], threads: int) -> dict[str, Any]:
    # Warm the caches (workflow, calendar, access posts) outside the timing.
    from pingan.core import calendar, workflow

    workflow.load_all()
    calendar.is_working_day(__import__("datetime").date.today())
    shares = [tickets[i::threads] for i in range(threads)]
    counts = [0] * threads
    barrier = threading.Barrier(threads + 1)

    def worker(index: int) -> None:
        barrier.wait()
        counts[index] = walk(shares[index], people)

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in pool:
        thread.join()
    seconds = time.perf_counter() - started
    total = sum(counts)
    assert total == len(tickets) * len(WALK), "every transition must succeed"
    return {"backend": backend, "threads": threads, "transitions": total, "seconds": seconds}


# --- The parent ---------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "all"], default="all")
    parser.add_argument("--n", type=int, default=2000, help="transitions per run (default 2000)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.db, args.n, [1, 4])))
        return 0
    command = shlex.join([".venv/bin/python", "-m", "bench.workflow_transitions", *argv])
    backends = ["sqlite", "postgres"] if args.db == "all" else [args.db]
    rows = []
    for backend in backends:
        output = subprocess.run(
            [sys.executable, "-m", "bench.workflow_transitions", "--child", "--db", backend, "--n", str(args.n)],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
        if output.returncode:
            print(output.stdout, output.stderr, file=sys.stderr)
            return output.returncode
        rows += json.loads(output.stdout.strip().splitlines()[-1])
    print(f"Machine: {machine()}  ")
    print(f"Command: `{command}`\n")
    print("| database | threads | transitions | seconds | transitions/s |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for row in rows:
        rate = row["transitions"] / row["seconds"]
        print(f"| {row['server']} | {row['threads']} | {row['transitions']} | {row['seconds']:.2f} | {rate:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
