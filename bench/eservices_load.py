"""E-services under load: submit and queue p95 at 10^6 applications, 50 users, gunicorn, SQLite/PostgreSQL.

The target (from the issue): with 1,000,000 applications in the database, the citizen submit
and the staff queue pages answer in p95 ≤ 200 ms at 50 concurrent users on a 2-core machine,
on SQLite and on PostgreSQL, reported as a ratio to a bare Django page served by the same
server in the same run.

1. **Data** (its own database: ``$PINGAN_BENCH_DIR/pingan_bench_eservices.sqlite3`` in WAL
   mode, or the PostgreSQL database ``pingan_bench_eservices``; migrated): the real
   organisation tree; ``--citizens`` citizens through the accounts app's own bulk path
   (``accounts.actions.citizens_bulk_insert``: ID number and mobile encrypted, keyed-hash
   blind indexes) living at stations weighted by their city's census population; and
   ``--applications`` applications written with raw bulk SQL (COPY / executemany, secondary
   indexes dropped during the load and rebuilt after, then ``ANALYZE``): a citizen's
   application goes to the unit that handles the service for their station (station, county
   or city bureau, as ``actions.handling_unit`` decides), services weighted by a Zipf law,
   valid workflow/state pairs (2% drafts, 15% open in the staff states, 2% waiting for the
   applicant, 75% completed, 3% refused, 3% withdrawn), references as the app makes them,
   ``org_path`` copied from the unit, the form's answers encrypted (one payload per service),
   and the deadline clocks the workflow engine would hold (running, warning or overdue as of
   now; paused in 补正; stopped once finished) with ``due_at``/``deadline_state`` in step.
   Counter officers (second factor passed) at the 10 busiest stations and the 10 busiest
   county bureaus; signed-in sessions made up front for them and for 2,000 citizens.
2. **Server**: ``python -m pingan.serve`` (gunicorn, sync workers, plus the background
   worker) on a free port, production settings (no demo mode: staff sessions carry a
   verified TOTP device), static files collected into the benchmark's var directory.
3. **Load**: ``--users`` virtual users, each a thread with its own ``requests`` session and a
   uniform think time between page loads (redirects are followed at once, as a browser
   does). Citizens (60%): home page → service page → start → form → save draft → form →
   next → upload the required documents → check page → **submit** → submitted page, each
   iteration as another signed-in citizen. Staff (40%, half at stations, half at county
   bureaus): home page → **workbench queue** → a filtered queue → page 2. The bare page is
   the home page ``/`` (``site.views.home``: one template, the menu; the lightest page the
   app has), requested by the same signed-in users. Every request of the measured window is
   timed by the client; gunicorn's access log gives the server-side time of the same
   requests (``%(D)s``). Any unexpected status fails the run. Before the load, ``--solo``
   rounds of the same pages by one user at a time without think time give each page's cost
   on an otherwise idle server. The load generator is purpose-built (threads and
   ``requests`` sessions, no Locust): it needs no gevent monkey-patching in a process that
   also runs Django, keeps exact (not bucketed) percentiles, and tags each request so the
   server's own time can be matched to it.
4. **Output**: a Markdown table per database (printed, and saved with the raw per-request
   samples under ``bench/results/``).

    python -m bench.eservices_load                                   # SQLite, 10^6 applications
    python -m bench.eservices_load --db postgres --keep              # keep the data for the next run
    python -m bench.eservices_load --applications 100000 --citizens 20000 --duration 30 --warmup 5
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import hashlib
import json
import os
import random
import re
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import common

DATABASE = "pingan_bench_eservices"
RESULTS = common.REPO / "bench" / "results"
CHUNK = 50_000
TARGET_MS = 200.0
STATION_OFFICERS = COUNTY_OFFICERS = 10
CITIZEN_SESSIONS = 2_000
MARKER_TABLE = "bench_eservices_meta"
FORMAT_VERSION = 1  # bump when the generated data changes shape
# Deadlines are generated relative to the time of generation: older data has drifted (more
# clocks past their warning or due time than generated, left for the worker to sweep).
MAX_AGE = dt.timedelta(hours=24)

# Where applications stop (share of all applications).
DRAFT, OPEN, SUPPLEMENT, REFUSED, WITHDRAWN = 0.02, 0.15, 0.02, 0.03, 0.03  # the rest: completed
OPEN_WEIGHTS = {"submitted": 3, "under_review": 4, "pending_approval": 2, "inspected": 2, "approved": 1}
CHANNEL_WEIGHTS = {"online": 55, "app": 30, "counter": 10, "kiosk": 5}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英建华文华玉兰国强志强海燕红梅春梅"

# Endpoint names (the table's rows, in this order).
BARE = "bare page: home / (site.views.home)"
SUBMIT = "citizen submit: POST check page"
QUEUE_STATION_FIRST = "staff queue, station officer: first page"
QUEUE_STATION_FILTERED = "staff queue, station officer: filtered"
QUEUE_COUNTY_FIRST = "staff queue, county officer: first page"
QUEUE_COUNTY_FILTERED = "staff queue, county officer: filtered"
QUEUE_PAGE2 = "staff queue: page 2"
QUEUE_ALL = "staff queue: all of the above"
ORDER = [
    BARE,
    SUBMIT,
    QUEUE_STATION_FIRST,
    QUEUE_STATION_FILTERED,
    QUEUE_COUNTY_FIRST,
    QUEUE_COUNTY_FILTERED,
    QUEUE_PAGE2,
    QUEUE_ALL,
    "service page",
    "start application: POST",
    "form page",
    "save draft: POST",
    "form → next: POST",
    "documents page",
    "upload document: POST",
    "check page",
    "submitted page",
]
QUEUES = (QUEUE_STATION_FIRST, QUEUE_STATION_FILTERED, QUEUE_COUNTY_FIRST, QUEUE_COUNTY_FILTERED, QUEUE_PAGE2)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- Bulk writing ------------------------------------------------------------------------


def _sqlite_time(moment: dt.datetime | None) -> str | None:
    # What Django's SQLite backend stores for an aware datetime: naive UTC, str().
    return None if moment is None else str(moment.astimezone(dt.UTC).replace(tzinfo=None))


def _sqlite_duration(value: dt.timedelta) -> int:
    return value // dt.timedelta(microseconds=1)


class Writer:
    """Raw bulk rows into one table: COPY on PostgreSQL, ``executemany`` on SQLite (the
    caller holds the transaction). Values are Python values; datetimes and durations are
    converted for SQLite as Django stores them."""

    def __init__(self, model: Any, attnames: list[str]) -> None:
        from django.db import connection

        fields = {f.attname: f for f in model._meta.concrete_fields}
        unknown = set(attnames) - set(fields)
        if unknown:
            raise ValueError(f"{model.__name__} has no columns {sorted(unknown)}")
        self.table = model._meta.db_table
        self.columns = [connection.ops.quote_name(fields[name].column) for name in attnames]
        self.postgres = connection.vendor == "postgresql"
        kinds = [fields[name].get_internal_type() for name in attnames]
        self.times = [i for i, kind in enumerate(kinds) if kind == "DateTimeField"]
        self.durations = [i for i, kind in enumerate(kinds) if kind == "DurationField"]

    def write(self, rows: list[list[Any]]) -> None:
        from django.db import connection

        if not rows:
            return
        if self.postgres:
            with (
                connection.cursor() as cursor,
                cursor.cursor.copy(f"COPY {self.table} ({', '.join(self.columns)}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
            return
        for row in rows:
            for i in self.times:
                row[i] = _sqlite_time(row[i])
            for i in self.durations:
                row[i] = _sqlite_duration(row[i])
        sql = f"INSERT INTO {self.table} ({', '.join(self.columns)}) VALUES ({', '.join('?' * len(self.columns))})"
        connection.connection.executemany(sql, rows)


class bulk_session:
    """One long transaction for the load (SQLite: foreign-key checks and fsync off for it;
    PostgreSQL: asynchronous commit)."""

    def __enter__(self) -> None:
        from django.db import connection

        connection.ensure_connection()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET synchronous_commit = off")
                cursor.execute("BEGIN")
        else:
            raw = connection.connection
            raw.execute("PRAGMA foreign_keys = OFF")
            raw.execute("PRAGMA synchronous = OFF")
            raw.execute("BEGIN")

    def __exit__(self, kind: object, *rest: object) -> None:
        from django.db import connection

        verb = "ROLLBACK" if kind else "COMMIT"
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(verb)
                cursor.execute("SET synchronous_commit = on")
        else:
            raw = connection.connection
            raw.execute(verb)
            raw.execute("PRAGMA synchronous = NORMAL")
            raw.execute("PRAGMA foreign_keys = ON")


def reset_sequence(model: Any) -> None:
    from django.core.management.color import no_style
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [model]):
                cursor.execute(sql)


# --- The marker: what the database was generated with ------------------------------------


def fingerprint() -> dict[str, Any]:
    """What generated data depends on besides the options: the keys (encrypted fields and
    sessions are unreadable under other keys) and the catalogue."""
    from django.conf import settings

    from pingan.eservices import catalog

    def digest(value: str) -> str:
        return hashlib.sha256(value.encode()).hexdigest()[:16]

    return {
        "format": FORMAT_VERSION,
        "keys": digest(settings.FIELD_ENCRYPTION_KEYS[0] + settings.SECRET_KEY + settings.BLIND_INDEX_KEY),
        "catalogue": digest(",".join(sorted(catalog.services()))),
    }


def marker_read() -> dict[str, Any] | None:
    from django.db import connection

    if MARKER_TABLE not in connection.introspection.table_names():
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT value FROM {MARKER_TABLE} WHERE name = 'generated'")
        row = cursor.fetchone()
    return json.loads(row[0]) if row else None


def marker_write(value: dict[str, Any]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {MARKER_TABLE} (name varchar(40) PRIMARY KEY, value text)")
        cursor.execute(f"DELETE FROM {MARKER_TABLE} WHERE name = 'generated'")
        cursor.execute(f"INSERT INTO {MARKER_TABLE} (name, value) VALUES ('generated', %s)", [json.dumps(value)])


# --- Generating the data -----------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    id: int
    path: str
    code: str
    level: str


@dataclass
class Station:
    unit: Unit
    by_level: dict[str, Unit]  # station, county, city → the unit handling at that level
    weight: float


def stations_with_weights() -> list[Station]:
    """Active stations with the units above them, weighted by their city's census population
    shared equally among the city's stations."""
    from pingan.orgs.models import Kind, Level, OrgUnit

    rows = list(OrgUnit.objects.values_list("id", "path", "code", "level", "kind", "parent_id", "is_active"))
    units = {r[0]: r for r in rows}
    population = dict(OrgUnit.objects.filter(level=Level.CITY).values_list("path", "population"))
    stations: list[Station] = []
    for unit_id, path, code, level, kind, _parent, active in rows:
        if level != Level.STATION or kind == Kind.DEPARTMENT or not active:
            continue
        by_level = {}
        cursor = units.get(unit_id)
        while cursor is not None:
            if cursor[4] != Kind.DEPARTMENT and cursor[6] and cursor[3] not in by_level:
                by_level[cursor[3]] = Unit(cursor[0], cursor[1], cursor[2], cursor[3])
            cursor = units.get(cursor[5]) if cursor[5] else None
        stations.append(Station(Unit(unit_id, path, code, level), by_level, 0.0))
    per_city = Counter(s.unit.path[: len("37/3701/")] for s in stations)
    for station in stations:
        city = station.unit.path[: len("37/3701/")]
        station.weight = (population.get(city) or 1_000_000) / per_city[city]
    return stations


def citizens_load(count: int, stations: list[Station], rng: random.Random) -> list[tuple[int, Station]]:
    """``count`` citizens through the accounts app's bulk path; returns (user id, home station)."""
    from pingan.accounts import actions as accounts
    from pingan.accounts.actions import CitizenData
    from pingan.accounts.models import CitizenProfile
    from pingan.core.identity import make_resident_id
    from pingan.orgs.models import OrgUnit

    homes = rng.choices(stations, [s.weight for s in stations], k=count)
    orgs = OrgUnit.objects.in_bulk([s.unit.id for s in stations])
    born0 = dt.date(1950, 1, 1)
    joined0 = dt.datetime(2019, 1, 1, tzinfo=dt.UTC)
    bar = common.Progress(count, "citizens")
    for start in range(0, count, 10_000):
        rows, home_orgs, joined = [], [], []
        for i in range(start, min(start + 10_000, count)):
            station = homes[i]
            county = station.by_level.get("county", station.unit).code
            county = county if len(county) == 6 and county.isdigit() else "370102"
            birth = born0 + dt.timedelta(days=(i * 7919) % 20_000)
            sequence = i // 20_000
            rows.append(
                CitizenData(
                    name=SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 7) % len(GIVEN)] + GIVEN[(i * 13) % len(GIVEN)],
                    id_number=make_resident_id(county, birth, sequence),
                    phone=f"13{i:09d}",
                    birth_date=birth,
                    sex="M" if sequence % 2 else "F",
                    county_code=county,
                )
            )
            home_orgs.append(orgs[station.unit.id])
            joined.append(joined0 + dt.timedelta(minutes=rng.randrange(3 * 365 * 24 * 60)))
        accounts.citizens_bulk_insert(rows, home_orgs=home_orgs, registered_at=joined)
        bar.update(len(rows))
    bar.close()
    by_id = {s.unit.id: s for s in stations}
    return [
        (user_id, by_id[org_id])
        for user_id, org_id in CitizenProfile.objects.order_by("pk").values_list("user_id", "home_org_id")
        if org_id in by_id
    ]


def workflow_facts(code: str) -> tuple[dict[str, int], tuple[str, ...], list[str]]:
    """Steps from ``draft`` to each state (the version the app would have), the clock
    names, and the workflow's staff states."""
    from pingan.core import workflow
    from pingan.eservices.queries import STAFF_STATES

    flow = workflow.get(code)
    distance = {flow.initial: 0}
    frontier = [flow.initial]
    while frontier:
        following = []
        for state in frontier:
            for transition in flow.transitions_from(state):
                if transition.target not in distance:
                    distance[transition.target] = distance[state] + 1
                    following.append(transition.target)
        frontier = following
    return distance, tuple(flow.clocks), [s for s in STAFF_STATES if s in flow.states]


@dataclass
class Plan:
    """The application mix, prepared once."""

    services: list[Any]
    weights: list[float]
    sealed: dict[str, str]
    facts: dict[str, tuple[dict[str, int], tuple[str, ...], list[str]]]


def plan_services(rng: random.Random) -> Plan:
    from pingan.core.identity import encrypt
    from pingan.eservices import catalog, samples

    services = sorted(catalog.services().values(), key=lambda s: s.code)
    rng.shuffle(services)  # popularity rank, by a Zipf law
    weights = [1.0 / (rank + 1) ** 0.8 for rank in range(len(services))]
    sealed = {}
    for service in services:
        try:
            answers = samples.answers(service.form)
        except ValueError:
            answers = samples.answers(service.form, only_required=True) if samples.fillable(service) else {}
        sealed[service.code] = encrypt(json.dumps(answers, ensure_ascii=False, sort_keys=True))
    facts = {code: workflow_facts(code) for code in {s.workflow for s in services}}
    return Plan(services, weights, sealed, facts)


class Schedules:
    """Clock budgets and deadlines as ``core.deadlines`` computes them, cached by day."""

    def __init__(self) -> None:
        self.budgets: dict[tuple[str, str, dt.date], int] = {}
        self.deadlines: dict[tuple[int, dt.date], tuple[dt.datetime, dt.datetime]] = {}

    def budget(self, service: Any, clock: str, day: dt.date) -> int:
        key = (service.code, clock, day)
        if key not in self.budgets:
            limit = service.legal_limit if clock == "legal" else service.promised_limit
            self.budgets[key] = limit.working_days_from(day)
        return self.budgets[key]

    def due(self, budget: int, submitted: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
        from pingan.core import calendar, deadlines
        from pingan.core.models import Clock

        day = calendar.local_date(submitted)
        key = (budget, day)
        if key not in self.deadlines:
            clock = Clock(budget_working_days=budget, consumed=dt.timedelta(0))
            deadlines._schedule(clock, base=calendar.start_of_next_day(submitted))
            self.deadlines[key] = (clock.due_at, clock.warn_at)
        return self.deadlines[key]


APPLICATION_COLUMNS = [
    "id", "state", "version", "due_at", "deadline_state", "workflow_code", "reference", "service_code",
    "department", "applicant_id", "org_id", "org_path", "partner_id", "channel", "form_sealed", "result",
    "idempotency_key", "created_by_id", "created_at", "updated_at", "submitted_at", "completed_at",
]  # fmt: skip
CLOCK_COLUMNS = [
    "subject_type", "subject_id", "name", "org_path", "budget_working_days", "started_at", "due_at", "warn_at",
    "paused_at", "pause_reason", "consumed", "stopped_at", "warned_at", "overdue_at", "escalated_at", "state",
]  # fmt: skip
CLOCK_DEFAULTS = dict.fromkeys(CLOCK_COLUMNS) | {
    "subject_type": "eservices.application",
    "pause_reason": "",
    "consumed": dt.timedelta(0),
    "state": "running",
}
URGENCY = ("overdue", "warning", "running", "paused", "stopped")


@dataclass
class Loaded:
    states: Counter = field(default_factory=Counter)
    open_by_unit: Counter = field(default_factory=Counter)  # org id → open applications
    clocks: int = 0


def applications_load(
    count: int, citizens: list[tuple[int, Station]], plan: Plan, rng: random.Random, now: dt.datetime
) -> Loaded:
    """``count`` applications (and their clocks) with raw bulk SQL."""
    from pingan.core import calendar
    from pingan.core.models import Clock
    from pingan.eservices.models import Application

    apps = Writer(Application, APPLICATION_COLUMNS)
    clocks = Writer(Clock, CLOCK_COLUMNS)
    schedules = Schedules()
    loaded = Loaded()
    day = dt.timedelta(days=1)
    zero = dt.timedelta(0)

    def consumed(submitted: dt.datetime, until: dt.datetime) -> dt.timedelta:
        base = calendar.start_of_next_day(submitted)
        return max(zero, calendar.working_time_between(base, until)) if until > base else zero

    def build(first: int, last: int) -> tuple[list[list[Any]], list[list[Any]]]:
        app_rows: list[list[Any]] = []
        clock_rows: list[list[Any]] = []
        picks = rng.choices(plan.services, plan.weights, k=last - first)
        for number, service in zip(range(first, last), picks, strict=True):
            applicant, station = citizens[rng.randrange(len(citizens))]
            unit = station.by_level.get(service.handled_at)
            while unit is None:  # no unit at that level above this station: another service
                service = rng.choices(plan.services, plan.weights)[0]
                unit = station.by_level.get(service.handled_at)
            distance, clock_names, staff_states = plan.facts[service.workflow]
            allowed = set(service.channels) | ({"online"} if "app" in service.channels else set())
            channels = [c for c in CHANNEL_WEIGHTS if c in allowed]
            channel = rng.choices(channels, [CHANNEL_WEIGHTS[c] for c in channels])[0]
            promised_days = service.promised_limit.days * (1.45 if service.promised_limit.unit == "working" else 1.0)
            draw = rng.random()
            submitted = completed = paused = None
            due_at, deadline_state = None, ""
            if draw < DRAFT:
                state = "draft"
                created = now - dt.timedelta(days=rng.uniform(0, 60))
            elif draw < DRAFT + OPEN:
                state = rng.choices(staff_states, [OPEN_WEIGHTS[s] for s in staff_states])[0]
                # Somewhere in its time limit, some past it (overdue) or near it (warning).
                submitted = now - day * (rng.uniform(0, 1.2) * promised_days) - dt.timedelta(minutes=rng.randrange(600))
            elif draw < DRAFT + OPEN + SUPPLEMENT:
                state = "supplement"
                submitted = now - day * rng.uniform(1, 30)
                paused = submitted + (now - submitted) * rng.uniform(0.1, 0.8)
            else:
                rest = rng.random() * (1 - DRAFT - OPEN - SUPPLEMENT)
                state = "refused" if rest < REFUSED else "withdrawn" if rest < REFUSED + WITHDRAWN else "completed"
                if state not in distance:
                    state = "completed"
                submitted = now - day * rng.uniform(2, 730)
                completed = min(
                    submitted + day * rng.uniform(0.05, 1.0) * promised_days + dt.timedelta(minutes=10),
                    now - dt.timedelta(hours=1),
                )
            if submitted is not None:
                created = submitted - dt.timedelta(minutes=rng.uniform(2, 40))
                local_day = calendar.local_date(submitted)
                made = []
                for name in clock_names:
                    budget = schedules.budget(service, name, local_day)
                    due, warn = schedules.due(budget, submitted)
                    clock = dict(CLOCK_DEFAULTS, subject_id=str(number), name=name, org_path=unit.path)
                    clock.update(budget_working_days=budget, started_at=submitted, due_at=due, warn_at=warn)
                    if completed is not None:  # stopped when it finished
                        clock.update(state="stopped", stopped_at=completed, consumed=consumed(submitted, completed))
                        if completed >= warn:
                            clock["warned_at"] = warn
                        if completed >= due:
                            clock["overdue_at"] = clock["escalated_at"] = due
                    elif paused is not None:  # 补正: the clock waits for the applicant
                        clock.update(state="paused", due_at=None, warn_at=None, paused_at=paused)
                        clock.update(pause_reason="请补充提交清晰的材料扫描件", consumed=consumed(submitted, paused))
                    elif now >= due:  # as the worker's sweep leaves it
                        clock.update(state="overdue", warned_at=warn, overdue_at=due, escalated_at=due)
                    elif now >= warn:
                        clock.update(state="warning", warned_at=warn)
                    made.append(clock)
                    clock_rows.append([clock[column] for column in CLOCK_COLUMNS])
                # What deadlines.refresh_item() keeps on the application.
                due_at = min((c["due_at"] for c in made if c["state"] in URGENCY[:3]), default=None)
                deadline_state = next((s for s in URGENCY if any(c["state"] == s for c in made)), "")
            row = {
                "id": number,
                "state": state,
                "version": distance.get(state, 1),
                "due_at": due_at,
                "deadline_state": deadline_state,
                "workflow_code": service.workflow,
                "reference": f"SQ{created.astimezone(dt.UTC):%Y%m%d}{number:08d}",
                "service_code": service.code,
                "department": service.department,
                "applicant_id": applicant,
                "org_id": unit.id,
                "org_path": unit.path,
                "partner_id": None,
                "channel": channel,
                "form_sealed": plan.sealed[service.code],
                "result": "{}",
                "idempotency_key": f"{number:032x}",
                "created_by_id": applicant,
                "created_at": created,
                "updated_at": completed or paused or submitted or created,
                "submitted_at": submitted,
                "completed_at": completed,
            }
            app_rows.append([row[column] for column in APPLICATION_COLUMNS])
            loaded.states[state] += 1
            if state in OPEN_WEIGHTS:
                loaded.open_by_unit[unit.id] += 1
        return app_rows, clock_rows

    from django.db.models import Max

    first = (Application.objects.aggregate(top=Max("id"))["top"] or 0) + 1
    bar = common.Progress(count, "applications")
    from bench.subtree import secondary_indexes_dropped

    with (
        secondary_indexes_dropped(Application._meta.db_table),
        secondary_indexes_dropped(Clock._meta.db_table),
    ):
        with bulk_session():
            for start in range(first, first + count, CHUNK):
                app_rows, clock_rows = build(start, min(start + CHUNK, first + count))
                apps.write(app_rows)
                clocks.write(clock_rows)
                loaded.clocks += len(clock_rows)
                bar.update(len(app_rows))
        bar.close()
        log("rebuilding indexes and constraints")
    reset_sequence(Application)
    return loaded


def staff_load(stations: list[Station], loaded: Loaded) -> dict[str, list[dict[str, Any]]]:
    """Counter officers at the busiest stations and county bureaus (by open applications
    they can act on), each with a confirmed TOTP device."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from pingan.accounts import actions as accounts
    from pingan.orgs.models import OrgUnit

    station_open = Counter({s.unit.id: loaded.open_by_unit[s.unit.id] for s in stations})
    county_open: Counter = Counter()
    for station in stations:
        county = station.by_level.get("county")
        if county is not None:
            county_open[county.id] += loaded.open_by_unit[station.unit.id]
    counties = {s.by_level["county"].id for s in stations if "county" in s.by_level}
    for unit_id in counties:
        county_open[unit_id] += loaded.open_by_unit[unit_id]
    staff: dict[str, list[dict[str, Any]]] = {"station": [], "county": []}
    badge = 900_000
    for kind, counter, top in (
        ("station", station_open, STATION_OFFICERS),
        ("county", county_open, COUNTY_OFFICERS),
    ):
        for unit_id, open_count in counter.most_common(top):
            badge += 1
            unit = OrgUnit.objects.get(pk=unit_id)
            user = accounts.staff_create(
                badge_number=str(badge), name=f"窗口民警{badge % 1000:03d}", home_org=unit, roles=["counter_officer"]
            )
            TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
            staff[kind].append({"username": user.username, "unit": unit.name, "path": unit.path, "open": open_count})
    return staff


def generate(args: argparse.Namespace) -> dict[str, Any]:
    from django.utils import timezone

    from pingan.core.seeding import SeedContext
    from pingan.orgs import actions as orgs
    from pingan.orgs.seed import grid_count

    started = time.perf_counter()
    ctx = SeedContext(scale="small", seed=1, fraction=0.0, step="orgs.tree", progress_enabled=False)
    tree = orgs.tree_load(grids_per_station=lambda code: grid_count(ctx, code))
    log(f"tree: {tree['total']:,} units ({time.perf_counter() - started:.0f} s)")
    rng = random.Random(args.seed)
    stations = stations_with_weights()
    citizens = citizens_load(args.citizens, stations, rng)
    log(f"citizens: {len(citizens):,} ({time.perf_counter() - started:.0f} s)")
    plan = plan_services(rng)
    now = timezone.now()
    loaded = applications_load(args.applications, citizens, plan, rng, now)
    took = time.perf_counter() - started
    log(f"applications: {sum(loaded.states.values()):,}, clocks {loaded.clocks:,} ({took:.0f} s)")
    staff = staff_load(stations, loaded)
    analyse()
    marker = {
        "applications": args.applications,
        "citizens": args.citizens,
        "seed": args.seed,
        **fingerprint(),
        "generated_at": now.isoformat(),
        "seconds": round(time.perf_counter() - started),
        "states": dict(loaded.states.most_common()),
        "clocks": loaded.clocks,
        "staff": staff,
        "popular": [service.code for service in plan.services[:3]],
        "citizen_ids": [user_id for user_id, _station in rng.sample(citizens, min(CITIZEN_SESSIONS, len(citizens)))],
    }
    marker_write(marker)
    log(f"generated in {marker['seconds']:,} s")
    return marker


# --- Sessions ----------------------------------------------------------------------------


def sessions_make(marker: dict[str, Any]) -> tuple[list[str], dict[str, list[tuple[str, dict[str, Any]]]]]:
    """Signed-in sessions as the sign-in views leave them (staff: second factor passed)."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from pingan.accounts.models import User

    store = import_module(settings.SESSION_ENGINE).SessionStore
    backend = "pingan.accounts.backends.PingAnBackend"

    def make(user: Any, extra: dict[str, Any] | None = None) -> str:
        session = store()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = backend
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.update(extra or {})
        session.create()
        return session.session_key

    citizens = [make(user) for user in User.objects.filter(pk__in=marker["citizen_ids"]).order_by("pk")]
    staff: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for kind, people in marker["staff"].items():
        staff[kind] = []
        for person in people:
            user = User.objects.get(username=person["username"])
            device = TOTPDevice.objects.get(user=user, name="bench")
            staff[kind].append((make(user, {DEVICE_ID_SESSION_KEY: device.persistent_id}), person))
    return citizens, staff


# --- The server ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


ACCESS_FORMAT = "BENCH %(s)s %(D)s %({x-bench}i)s %(m)s %(U)s"
COLD_TIMEOUT = 300


class Server:
    """``python -m pingan.serve`` on the benchmark database (production settings)."""

    def __init__(self, url: str, var_dir: Path, workers: int, logs: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.access_log = logs / "access.log"
        self.error_log = logs / "server.log"
        env = {key: value for key, value in os.environ.items() if not key.startswith(("PINGAN_", "GUNICORN_"))}
        env.update(
            DATABASE_URL=url,
            PINGAN_VAR_DIR=str(var_dir),
            DJANGO_SETTINGS_MODULE="pingan.settings",
            PINGAN_LOG_LEVEL="WARNING",
            # The request time of each request (µs) and the benchmark's endpoint name; a worker's
            # first catalogue request loads and checks the whole catalogue (see prime()), which
            # on a busy 2-core machine can pass gunicorn's default 30 s worker timeout.
            GUNICORN_CMD_ARGS=f"--access-logformat {shlex.quote(ACCESS_FORMAT)} --timeout {COLD_TIMEOUT}",
        )
        self.env = env

    def start(self) -> None:
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--no-input", "--verbosity", "0"],
            cwd=common.REPO,
            env=self.env,
            check=True,
        )
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pingan.serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
            ],
            cwd=common.REPO,
            env=self.env,
            stdout=self.access_log.open("w"),
            stderr=self.error_log.open("w"),
        )
        import requests

        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"server exited ({self.process.returncode}); see {self.error_log}")
            try:
                if requests.get(self.base + "/", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        self.stop()
        raise SystemExit(f"server did not answer on {self.base}; see {self.error_log}")

    def prime(self, staff_session: str) -> list[float]:
        """Make every worker load what it loads lazily on first use (the service catalogue and
        its search index): rounds of one concurrent request per worker until a round is fast.
        Returns the slowest request (s) of each round."""
        import requests

        rounds: list[float] = []
        for _round in range(12):
            times: list[float] = []

            def hit(number: int, times: list[float] = times) -> None:
                began = time.perf_counter()
                if number % 2:
                    requests.get(self.base + "/services/", timeout=COLD_TIMEOUT)
                else:
                    cookies = {"sessionid": staff_session}
                    requests.get(self.base + "/services/workbench/", cookies=cookies, timeout=COLD_TIMEOUT)
                times.append(time.perf_counter() - began)

            threads = [threading.Thread(target=hit, args=(n,)) for n in range(self.workers * 2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            rounds.append(max(times))
            if len(rounds) >= 2 and rounds[-1] < 2:
                break
        return rounds

    def worker_pids(self) -> list[int]:
        """The gunicorn workers (grandchildren of ``pingan.serve``) and the background worker."""
        children: dict[int, list[int]] = defaultdict(list)
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                children[ppid].append(int(entry.name))
        found, frontier = [], [self.process.pid]
        while frontier:
            pid = frontier.pop()
            for child in children.get(pid, []):
                found.append(child)
                frontier.append(child)
        return found

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def timings(self, prefix: str = "") -> dict[str, list[float]]:
        """Server-side milliseconds per endpoint name (of the requests tagged with ``prefix``),
        from the access log."""
        found: dict[str, list[float]] = defaultdict(list)
        for line in self.access_log.read_text(errors="replace").splitlines():
            parts = line.split(" ", 4)
            if len(parts) >= 4 and parts[0] == "BENCH" and parts[3].startswith(prefix):
                name = NAMES_BY_TAG.get(parts[3].removeprefix(prefix))
                if name is not None and (prefix or not parts[3].startswith(SOLO)):
                    found[name].append(int(parts[2]) / 1000)
        return found


def cpu_snapshot() -> dict[int, tuple[float, str]]:
    """CPU seconds used so far and the command line of every process on the machine."""
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        found[int(entry.name)] = ((int(fields[11]) + int(fields[12])) / ticks, command)  # utime + stime
    return found


def cpu_by_group(
    before: dict[int, tuple[float, str]], after: dict[int, tuple[float, str]], server: list[int], database: str
) -> dict[str, float]:
    """CPU seconds used between two snapshots by: the server (``pingan.serve`` and its
    children), the database server's backends for the benchmark database (PostgreSQL), this
    process (the load generator), and every other process. Processes that started in between
    count whole; those that ended in between are missed."""
    groups: dict[str, float] = defaultdict(float)
    own = os.getpid()
    for pid, (seconds, command) in after.items():
        used = seconds - before.get(pid, (0.0, ""))[0]
        if pid in server:
            group = "server"
        elif pid == own:
            group = "generator"
        elif command.startswith("postgres: ") and f" {database} " in command:
            group = "database"
        else:
            group = "other"
        groups[group] += max(0.0, used)
    return groups


def machine_busy() -> tuple[int, int]:
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


# --- The load ------------------------------------------------------------------------------


TAGS = {name: re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] for name in ORDER}
NAMES_BY_TAG = {tag: name for name, tag in TAGS.items()}
SOLO = "solo-"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
KEY = re.compile(r'name="key" value="([0-9a-f]+)"')
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@dataclass
class Sample:
    name: str
    at: float  # seconds since the measured window opened
    ms: float
    status: int


class BenchError(Exception):
    pass


class Recorder:
    def __init__(self, measure_from: float, measure_until: float, prefix: str = "") -> None:
        self.prefix = prefix  # of the endpoint tags sent to the server (its access log)
        self.lock = threading.Lock()
        self.samples: list[Sample] = []
        self.errors: list[str] = []
        self.warmup_requests = 0
        self.measure_from = measure_from
        self.measure_until = measure_until

    def measuring(self, moment: float) -> bool:
        return self.measure_from <= moment < self.measure_until

    def add(self, sample: Sample | None, error: str | None) -> None:
        with self.lock:
            if sample is not None:
                self.samples.append(sample)
            else:
                self.warmup_requests += 1
            if error:
                self.errors.append(error)


@dataclass
class Service:
    code: str
    answers: dict[str, str]
    partial: dict[str, str]
    files: list[tuple[str, str, bytes]]  # document code, file name, content


def citizen_services() -> list[Service]:
    """Services a citizen can apply for online whose forms the samples fill."""
    from pingan.eservices import catalog, samples

    picked = []
    for code, service in sorted(catalog.services().items()):
        if service.handler is not None or not ({"online", "app"} & set(service.channels)):
            continue
        if not samples.fillable(service):
            continue
        answers = {}
        for name, value in samples.answers(service.form).items():
            answers[name] = "on" if value is True else str(value)
        required = set(service.form.get("required", []))
        partial = {k: v for k, v in answers.items() if k in required}
        partial = dict(list(partial.items())[: max(1, len(partial) // 2)]) if partial else {}
        files = []
        for spec in service.documents:
            if spec.required:
                if "pdf" in spec.types:
                    files.append((spec.code, f"{spec.code}.pdf", PDF))
                else:
                    files.append((spec.code, f"{spec.code}.png", PNG))
        picked.append(Service(code, answers, partial, files))
    return picked


class VirtualUser(threading.Thread):
    """One virtual user: a loop of page loads with think time between them."""

    def __init__(
        self, number: int, base: str, recorder: Recorder, stop: threading.Event, think: tuple[float, float]
    ) -> None:
        super().__init__(name=f"user-{number}", daemon=True)
        self.number = number
        self.base = base
        self.recorder = recorder
        self.stop_event = stop
        self.think_range = think
        self.rng = random.Random(number)
        self.http: Any = None

    def think(self) -> None:
        if self.stop_event.wait(self.rng.uniform(*self.think_range)):
            raise StopIteration

    def new_session(self, session_key: str) -> None:
        import requests

        if self.http is not None:
            self.http.close()
        self.http = requests.Session()
        self.http.cookies.set("sessionid", session_key, domain="127.0.0.1", path="/")

    def request(self, name: str, method: str, path: str, expect: int, **kwargs: Any) -> Any:
        import requests

        if self.stop_event.is_set():
            raise StopIteration
        started = time.time()
        measuring = self.recorder.measuring(started)
        tag = self.recorder.prefix + TAGS[name] if measuring else "warmup"
        headers = {"X-Bench": tag, "Referer": self.base + path}
        began = time.perf_counter()
        try:
            response = self.http.request(
                method, self.base + path, headers=headers, allow_redirects=False, timeout=60, **kwargs
            )
            status = response.status_code
        except requests.RequestException as error:
            response, status = None, 0
            problem = f"{name}: {method} {path}: {error}"
        elapsed = (time.perf_counter() - began) * 1000
        if response is not None:
            problem = None
            if status != expect:
                snippet = re.sub(r"\s+", " ", response.text[:300]) if response.text else ""
                where = response.headers.get("Location", "")
                problem = f"{name}: {method} {path} → {status} (expected {expect}) {where} {snippet}"
        sample = Sample(name, started - self.recorder.measure_from, elapsed, status) if measuring else None
        self.recorder.add(sample, problem)
        if problem:
            raise BenchError(problem)
        return response

    def follow(self, name: str, response: Any) -> Any:
        return self.request(name, "GET", response.headers["Location"], 200)

    def run(self) -> None:
        self.http = None
        # Arrivals spread over the first seconds, not all at once.
        if self.stop_event.wait(self.rng.uniform(0, self.think_range[1] * 2)):
            return
        while not self.stop_event.is_set():
            try:
                self.iteration()
            except StopIteration:
                return
            except BenchError:
                self.stop_event.wait(1)  # recorded; go on with a new iteration

    def iteration(self) -> None:
        raise NotImplementedError


def _token(pattern: re.Pattern[str], text: str, what: str) -> str:
    found = pattern.search(text)
    if not found:
        raise BenchError(f"no {what} in the page")
    return found.group(1)


class Citizen(VirtualUser):
    def __init__(self, *args: Any, sessions: list[str], services: list[Service], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sessions = sessions
        self.services = services
        self.turn = 0

    def iteration(self) -> None:
        self.new_session(self.sessions[self.turn % len(self.sessions)])
        self.turn += 1
        service = self.rng.choice(self.services)
        self.request(BARE, "GET", "/", 200)
        self.think()
        page = self.request("service page", "GET", f"/services/s/{service.code}/", 200)
        csrf, key = _token(CSRF, page.text, "CSRF token"), _token(KEY, page.text, "key")
        self.think()
        started = self.request(
            "start application: POST",
            "POST",
            f"/services/s/{service.code}/apply/",
            302,
            data={"csrfmiddlewaretoken": csrf, "key": key},
        )
        edit = started.headers["Location"]
        if not edit.endswith("/edit/"):
            raise BenchError(f"start application went to {edit}")
        form = self.follow("form page", started)
        self.think()
        saved = self.request(
            "save draft: POST",
            "POST",
            edit,
            302,
            data={**service.partial, "then": "save", "csrfmiddlewaretoken": _token(CSRF, form.text, "CSRF token")},
        )
        form = self.follow("form page", saved)
        self.think()
        nxt = self.request(
            "form → next: POST",
            "POST",
            edit,
            302,
            data={**service.answers, "then": "next", "csrfmiddlewaretoken": _token(CSRF, form.text, "CSRF token")},
        )
        reference_path = edit.removesuffix("edit/")
        if service.files:
            page = self.follow("documents page", nxt)
            for code, filename, content in service.files:
                self.think()
                uploaded = self.request(
                    "upload document: POST",
                    "POST",
                    f"{reference_path}documents/",
                    302,
                    data={"code": code, "csrfmiddlewaretoken": _token(CSRF, page.text, "CSRF token")},
                    files={"file": (filename, content)},
                )
                page = self.follow("documents page", uploaded)
            self.think()
            check = self.request("check page", "GET", f"{reference_path}check/", 200)
        else:
            check = self.follow("check page", nxt)
        self.think()
        submitted = self.request(
            SUBMIT,
            "POST",
            f"{reference_path}check/",
            302,
            data={"csrfmiddlewaretoken": _token(CSRF, check.text, "CSRF token"), "key": _token(KEY, check.text, "key")},
        )
        if not submitted.headers["Location"].endswith("/submitted/"):
            raise BenchError(f"submit went to {submitted.headers['Location']}")
        self.follow("submitted page", submitted)
        self.think()


class Officer(VirtualUser):
    def __init__(self, *args: Any, session: str, kind: str, filters: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.session = session
        self.kind = kind
        self.filters = filters

    def iteration(self) -> None:
        if self.http is None:
            self.new_session(self.session)
        first, filtered = (
            (QUEUE_STATION_FIRST, QUEUE_STATION_FILTERED)
            if self.kind == "station"
            else (QUEUE_COUNTY_FIRST, QUEUE_COUNTY_FILTERED)
        )
        self.request(BARE, "GET", "/", 200)
        self.think()
        self.request(first, "GET", "/services/workbench/", 200)
        self.think()
        self.request(filtered, "GET", f"/services/workbench/?{self.rng.choice(self.filters)}", 200)
        self.think()
        self.request(QUEUE_PAGE2, "GET", "/services/workbench/?page=2", 200)
        self.think()


# --- Running -------------------------------------------------------------------------------


@dataclass
class Row:
    name: str
    samples: list[float]
    errors: int
    server: list[float]


def pct(values: list[float], p: float) -> float:
    return common.percentile(values, p) if values else float("nan")


def queue_filters(services: list[Service], popular: list[str]) -> list[str]:
    from pingan.eservices import catalog

    departments = Counter(catalog.get(s.code).department for s in services)
    return [
        "deadline=overdue",
        "deadline=warning",
        "state=submitted",
        "state=under_review",
        f"department={departments.most_common(1)[0][0]}",
        *[f"service={code}" for code in popular],
    ]


def run_solo(
    iterations: int, server: Server, citizen_sessions: list[str], staff: dict[str, list[Any]], popular: list[str]
) -> Recorder:
    """One user at a time, no think time: a citizen's whole application, then a station
    officer's and a county officer's round of queue pages, ``iterations`` times. What each
    page costs the server when it has the machine to itself (as far as the machine allows)."""
    services = citizen_services()
    filters = queue_filters(services, popular)
    recorder = Recorder(time.time(), float("inf"), prefix=SOLO)
    stop = threading.Event()
    common_args = (server.base, recorder, stop, (0.0, 0.0))
    users: list[VirtualUser] = [
        Citizen(1000, *common_args, sessions=citizen_sessions[-iterations:], services=services),
        Officer(1001, *common_args, session=staff["station"][0][0], kind="station", filters=filters),
        Officer(1002, *common_args, session=staff["county"][0][0], kind="county", filters=filters),
    ]
    for _ in range(iterations):
        for user in users:
            with contextlib.suppress(BenchError):  # recorded; the run fails at the end
                user.iteration()
    return recorder


def run_load(
    args: argparse.Namespace,
    server: Server,
    citizen_sessions: list[str],
    staff: dict[str, list[Any]],
    popular: list[str],
) -> dict[str, Any]:
    services = citizen_services()
    filters = queue_filters(services, popular)
    citizens_count = round(args.users * args.citizen_share)
    officers_count = args.users - citizens_count
    start = time.time() + 1
    recorder = Recorder(start + args.warmup, start + args.warmup + args.duration)
    stop = threading.Event()
    users: list[VirtualUser] = []
    per_citizen = max(1, len(citizen_sessions) // max(1, citizens_count))
    for number in range(citizens_count):
        own = citizen_sessions[number * per_citizen : (number + 1) * per_citizen]
        users.append(
            Citizen(
                number,
                server.base,
                recorder,
                stop,
                (args.think_min, args.think_max),
                sessions=own,
                services=services,
            )
        )
    for number in range(officers_count):
        kind = "station" if number % 2 == 0 else "county"
        pool = staff[kind]
        session, _person = pool[(number // 2) % len(pool)]
        users.append(
            Officer(
                citizens_count + number,
                server.base,
                recorder,
                stop,
                (args.think_min, args.think_max),
                session=session,
                kind=kind,
                filters=filters,
            )
        )
    log(
        f"load: {citizens_count} citizens + {officers_count} officers, think {args.think_min:g}–{args.think_max:g} s, "
        f"{args.warmup:g} s warm-up + {args.duration:g} s measured"
    )
    while time.time() < start:
        time.sleep(0.05)
    for user in users:
        user.start()
    time.sleep(args.warmup)
    load_start = os.getloadavg()
    busy0 = machine_busy()
    cpu0 = cpu_snapshot()
    time.sleep(max(0.0, recorder.measure_until - time.time()))
    busy1 = machine_busy()
    cpu1 = cpu_snapshot()
    pids = [server.process.pid, *server.worker_pids()]
    load_end = os.getloadavg()
    stop.set()
    for user in users:
        user.join(timeout=90)
    window = args.duration
    cores = {group: seconds / window for group, seconds in cpu_by_group(cpu0, cpu1, pids, DATABASE).items()}
    busy = (busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1])
    # Processes that ended during the window are missing from the snapshots: the rest of the
    # machine's busy time is theirs.
    ours = sum(v for k, v in cores.items() if k != "other")
    cores["other"] = max(cores.get("other", 0.0), busy * (os.cpu_count() or 1) - ours)
    return {
        "recorder": recorder,
        "citizens": citizens_count,
        "officers": officers_count,
        "services": len(services),
        "filters": filters,
        "load_start": load_start,
        "load_end": load_end,
        "machine_busy": busy,
        "cores": cores,
    }


def rows_of(recorder: Recorder, server_ms: dict[str, list[float]]) -> list[Row]:
    by_name: dict[str, list[float]] = defaultdict(list)
    for sample in recorder.samples:
        by_name[sample.name].append(sample.ms)
    error_counts = Counter(error.split(":", 1)[0] for error in recorder.errors)
    rows = []
    for name in ORDER:
        names = QUEUES if name == QUEUE_ALL else (name,)
        samples = [ms for n in names for ms in by_name.get(n, [])]
        if samples:
            errors = sum(error_counts.get(n, 0) for n in names)
            rows.append(Row(name, samples, errors, [ms for n in names for ms in server_ms.get(n, [])]))
    return rows


def solo_table(rows: list[Row]) -> str:
    bare = next((r for r in rows if r.name == BARE), None)
    bare50 = pct(bare.server or bare.samples, 50) if bare else float("nan")
    lines = [
        [
            row.name,
            f"{len(row.samples):,}",
            common.ms(pct(row.samples, 50)),
            common.ms(pct(row.samples, 95)),
            common.ms(pct(row.server, 50)) if row.server else "–",
            f"{pct(row.server or row.samples, 50) / bare50:.1f}×",
        ]
        for row in rows
    ]
    headers = ["endpoint", "requests", "p50 ms", "p95 ms", "server p50 ms", "server p50 ÷ bare"]
    return common.markdown_table(headers, lines)


def table(rows: list[Row], bare: Row) -> str:
    bare50, bare95 = pct(bare.samples, 50), pct(bare.samples, 95)
    lines = []
    for row in rows:
        p50, p95 = pct(row.samples, 50), pct(row.samples, 95)
        verdict = ""
        if row.name == SUBMIT or row.name in (*QUEUES, QUEUE_ALL):
            verdict = "✅ ≤ 200" if p95 <= TARGET_MS else "❌ > 200"
        lines.append(
            [
                row.name,
                f"{len(row.samples):,}",
                common.ms(p50),
                common.ms(p95),
                common.ms(pct(row.samples, 99)),
                common.ms(max(row.samples)),
                row.errors,
                common.ms(pct(row.server, 50)) if row.server else "–",
                common.ms(pct(row.server, 95)) if row.server else "–",
                f"{p50 / bare50:.1f}×",
                f"{p95 / bare95:.1f}×",
                verdict,
            ]
        )
    headers = [
        "endpoint",
        "requests",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
        "errors",
        "server p50 ms",
        "server p95 ms",
        "p50 ÷ bare",
        "p95 ÷ bare",
        "target p95",
    ]
    return common.markdown_table(headers, lines)


def queue_sizes(staff: dict[str, list[dict[str, Any]]]) -> str:
    parts = []
    for kind, label in (("station", "station officers"), ("county", "county officers")):
        sizes = [p["open"] for p in staff[kind]]
        if sizes:
            busiest = staff[kind][0]
            parts.append(
                f"{label}: {len(sizes)}, open work in their queues {min(sizes):,}–{max(sizes):,} "
                f"(median {statistics.median(sizes):,.0f}; busiest {busiest['unit']} {busiest['path']})"
            )
    return "; ".join(parts)


def analyse() -> None:
    """Planner statistics for every table and index (after a load, or a migration that added indexes)."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    log(f"analyse: {time.perf_counter() - started:.0f} s")


def migrate_pending() -> list[str]:
    """Apply the project's migrations; the ones that were not applied yet."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    pending = [f"{m.app_label}.{m.name}" for m, _ in executor.migration_plan(executor.loader.graph.leaf_nodes())]
    if pending:
        started = time.perf_counter()
        common.migrate()
        log(f"migrated {', '.join(pending)} ({time.perf_counter() - started:.0f} s)")
    return pending


def run_one(args: argparse.Namespace) -> int:
    url = common.database_url(args.db, DATABASE)
    var_dir = common.BENCH_DIR / "var"
    if args.regenerate:
        common.drop_database(url)
    common.django_setup(url, var_dir=var_dir)
    migrated = migrate_pending()
    marker = marker_read()
    wanted = {"applications": args.applications, "citizens": args.citizens, "seed": args.seed, **fingerprint()}
    age = dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(marker["generated_at"]) if marker else None
    if marker is not None and all(marker.get(k) == v for k, v in wanted.items()) and age < MAX_AGE:
        log(f"reusing the data generated {age.total_seconds() / 3600:.1f} h ago ({marker['seconds']:,} s to make)")
        if migrated:
            analyse()  # statistics for what the migrations added (new indexes)
    else:
        if marker is not None or _has_rows():
            log("the database holds other data: starting afresh")
            from django.db import connections

            connections.close_all()
            common.drop_database(url)
            common.create_database(url)
            common.migrate()
        marker = generate(args)
    from django.db import connection

    if args.generate_only:
        log(f"data ready in {url}; kept for the next run (--generate-only)")
        return 0
    version = common.backend_version()
    mode = ""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            mode = f" ({cursor.fetchone()[0].upper()} mode)"
    citizen_sessions, staff_sessions = sessions_make(marker)
    connection.close()

    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    logs = common.BENCH_DIR / f"eservices-load-{args.db}-{stamp}"
    logs.mkdir(parents=True, exist_ok=True)
    workers = args.workers or 2 * (os.cpu_count() or 1)
    server = Server(url, var_dir, workers, logs)
    log(f"starting python -m pingan.serve --workers {workers} on {server.base} ({version})")
    load_before = os.getloadavg()
    primed: list[float] = []
    server.start()
    try:
        primed = server.prime(staff_sessions["county"][0][0])
        log("worker warm-up rounds (slowest request, s): " + ", ".join(f"{t:.1f}" for t in primed))
        solo = run_solo(args.solo, server, citizen_sessions, staff_sessions, marker["popular"])
        log(f"one user at a time: {len(solo.samples)} requests")
        outcome = run_load(args, server, citizen_sessions, staff_sessions, marker["popular"])
    finally:
        server.stop()
    recorder: Recorder = outcome["recorder"]
    rows = rows_of(recorder, server.timings())
    solo_rows = rows_of(solo, server.timings(SOLO))
    bare = next(r for r in rows if r.name == BARE)
    states = marker["states"]
    total = sum(states.values())
    open_count = sum(v for k, v in states.items() if k in OPEN_WEIGHTS)
    command = (
        f".venv/bin/python -m bench.eservices_load --db {args.db} --applications {args.applications} "
        f"--citizens {args.citizens} --users {args.users} --duration {args.duration:g} --warmup {args.warmup:g} "
        f"--think-min {args.think_min:g} --think-max {args.think_max:g} --workers {workers} --solo {args.solo}"
        + (" --keep" if args.keep else "")
    )
    report = "\n".join(
        [
            f"**{version}{mode}**, {total:,} applications ({open_count:,} open in the staff states, "
            f"{states.get('supplement', 0):,} waiting for the applicant, {states.get('completed', 0):,} completed; "
            f"{marker['clocks']:,} deadline clocks), {args.citizens:,} citizens.  ",
            f"Command: `{command}`  ",
            f"Machine: {common.machine_line()}  ",
            f"Server: `python -m pingan.serve --workers {workers}` (gunicorn sync workers + the background worker), "
            "production settings (not demo mode; staff sessions with a verified TOTP device).  ",
            f"Users: {args.users} ({outcome['citizens']} citizens, {outcome['officers']} counter officers: "
            f"{queue_sizes(marker['staff'])}); think time uniform {args.think_min:g}–{args.think_max:g} s between "
            f"page loads; {args.warmup:g} s warm-up, {args.duration:g} s measured; "
            f"{outcome['services']} services citizens apply for; queue filters rotated: "
            f"{', '.join(outcome['filters'])}.  ",
            f"Load average (1/5/15 min) before the server started {_load(load_before)}, "
            f"at the start of the window {_load(outcome['load_start'])}, at its end {_load(outcome['load_end'])}; "
            f"during the window the machine's CPUs were {outcome['machine_busy']:.0%} busy; cores used by "
            + ", ".join(
                f"{label} {outcome['cores'].get(group, 0.0):.2f}"
                for group, label in (
                    ("server", "the server (gunicorn workers + background worker)"),
                    ("database", "its PostgreSQL backends"),
                    ("generator", "the load generator"),
                    ("other", "other processes on the machine"),
                )
                if group != "database" or args.db == "postgres"
            )
            + ".  ",
            f"Cold start before the load: one request per worker at a time, the slowest of each round "
            f"{', '.join(f'{t:.1f}' for t in primed)} s (a worker loads and checks the service catalogue on "
            f"first use; gunicorn's worker timeout raised to {COLD_TIMEOUT} s for it).  ",
            f"Bare page: `/` ({BARE.split(': ', 1)[1]}) for the same signed-in users. "
            "Client-side times (waiting for a free worker included); `server` columns: gunicorn's own "
            "request time (`%(D)s`) for the same requests.",
            "",
            f"{args.users} users:",
            "",
            table(rows, bare),
            "",
            f"One user at a time, no think time ({args.solo} rounds of the same pages before the load; the "
            "page's cost when the server is otherwise idle):",
            "",
            solo_table(solo_rows),
        ]
    )
    errors = solo.errors + recorder.errors
    if errors:
        report += f"\n\n**{len(errors)} errors** (the run fails):\n" + "\n".join(f"- {e}" for e in errors[:20])
    print("\n" + report + "\n", flush=True)
    base = RESULTS / f"eservices_load-{args.db}-{stamp}"
    base.with_suffix(".md").write_text(report + "\n", encoding="utf-8")
    with base.with_suffix(".csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["phase", "endpoint", "seconds_into_phase", "ms", "status"])
        for phase, source in (("one user", solo), (f"{args.users} users", recorder)):
            for sample in sorted(source.samples, key=lambda s: s.at):
                writer.writerow([phase, sample.name, f"{sample.at:.3f}", f"{sample.ms:.2f}", sample.status])
    log(f"raw results: {base}.md, {base}.csv; server logs: {logs}")
    if not args.keep:
        from django.db import connections

        connections.close_all()
        common.drop_database(url)
        log("benchmark database dropped (--keep keeps it for the next run)")
    return 1 if errors else 0


def _load(values: tuple[float, float, float]) -> str:
    return " ".join(f"{v:.1f}" for v in values)


def _has_rows() -> bool:
    from pingan.eservices.models import Application

    return Application.objects.exists()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument("--applications", type=int, default=1_000_000)
    parser.add_argument("--citizens", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--citizen-share", type=float, default=0.6, help="share of users who are citizens")
    parser.add_argument("--duration", type=float, default=60, help="seconds measured")
    parser.add_argument("--warmup", type=float, default=15, help="seconds of load before measuring")
    parser.add_argument("--think-min", type=float, default=1.0)
    parser.add_argument("--think-max", type=float, default=3.0)
    parser.add_argument("--solo", type=int, default=10, help="rounds of the one-user-at-a-time pass")
    parser.add_argument("--workers", type=int, default=0, help="gunicorn workers (default 2 × cores)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--regenerate", action="store_true", help="drop the data and generate it afresh")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the database afterwards, so the next run with the same options reuses it "
        "(default: dropped at the end); without --regenerate a kept database is reused",
    )
    parser.add_argument("--generate-only", action="store_true", help="generate (or check) the data, keep it, and stop")
    args = parser.parse_args()
    if args.db == "both":
        argv = sys.argv[1:]
        position = argv.index("--db") + 1
        codes = []
        for backend in ("sqlite", "postgres"):
            argv[position] = backend
            codes.append(subprocess.run([sys.executable, "-m", "bench.eservices_load", *argv], check=False).returncode)
        raise SystemExit(max(codes))
    raise SystemExit(run_one(args))


if __name__ == "__main__":
    main()
