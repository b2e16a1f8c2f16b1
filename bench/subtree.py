"""Subtree queries on the materialised path ("everything under Jinan") at 10^7 rows, on SQLite and PostgreSQL.

Two shapes, each in its own database so one does not skew the other:

- ``tree``: ``orgs_orgunit`` itself grown to ``--rows`` units: the real province (from
  ``orgs.actions.tree_load``, with the demo's grids) and synthetic sub-grid units (blocks and
  households, two levels below every grid) generated with fast bulk SQL;
- ``facts``: the real ~20,000 units and a table of ``--rows`` work items that point at them
  twice over: a foreign key (how ``access.scope`` filters most models: a join on the unit's
  path) and a denormalised ``org_path`` column (how the timeline stores it).

Queries go through the ORM and the project's ``under`` lookup (``pingan/core/paths.py``).
Each is timed ``--repeat`` times (p50, p95), its plan is printed, and the plan must use an
index on the big table (the benchmark exits non-zero otherwise); the same SQL with index use
disabled gives the full-scan time the index is compared with.

    python -m bench.subtree                         # 10^7 rows, SQLite and PostgreSQL, both shapes
    python -m bench.subtree --rows 100000 --db sqlite --shape tree
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import random
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from bench import common

DATABASES = {
    "tree": "pingan_bench_subtree",
    "facts": "pingan_bench_subtree_facts",
    "timeline": "pingan_bench_subtree_timeline",
}
PATTERN_INDEX = "bench_timeline_org_pattern_idx"
JINAN = "37/3701/"
COUNTY = "37/3701/370102/"  # 历下区
STATION = "37/3701/370102/370102001/"  # 解放路派出所
LATE_COUNTY = "37/3717/371728/"  # 东明县 (菏泽): near the end of the path order
BATCH = 100_000
RESULTS = common.REPO / "bench" / "results"


# --- Bulk loading ------------------------------------------------------------------------


@contextmanager
def secondary_indexes_dropped(table: str) -> Iterator[None]:
    """Drop the table's secondary indexes and constraints (not the primary key), load, then
    rebuild them in one sorted pass each: far faster than maintaining them row by row."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype <> 'p' ORDER BY contype DESC",
                [table],
            )
            constraints = cursor.fetchall()
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT IN "
                "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
                [table, table],
            )
            indexes = cursor.fetchall()
            for name, _definition in constraints:
                cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
            for name, _definition in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
        else:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL",
                [table],
            )
            indexes, constraints = cursor.fetchall(), []
            for name, _definition in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for name, definition in indexes:
                started = time.perf_counter()
                cursor.execute(definition)
                log(f"  index {name}: {time.perf_counter() - started:.0f} s")
            for name, definition in constraints:
                started = time.perf_counter()
                cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
                log(f"  constraint {name}: {time.perf_counter() - started:.0f} s")


def bulk_insert(table: str, columns: list[str], rows: Iterator[list[Any]], *, total: int, progress: bool) -> None:
    """COPY on PostgreSQL; ``executemany`` in large transactions on SQLite."""
    from django.db import connection, transaction

    bar = common.Progress(total, f"{table}", enabled=progress)
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            sql = f'COPY "{table}" ({", ".join(columns)}) FROM STDIN'
            with cursor.cursor.copy(sql) as copy:
                buffer: list[str] = []
                for row in rows:
                    buffer.append("\t".join(r"\N" if value is None else str(value) for value in row))
                    if len(buffer) >= BATCH:
                        copy.write("\n".join(buffer) + "\n")
                        bar.update(len(buffer))
                        buffer = []
                if buffer:
                    copy.write("\n".join(buffer) + "\n")
                    bar.update(len(buffer))
    else:
        raw = connection.connection
        sql = f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({", ".join("?" * len(columns))})'
        batch: list[list[Any]] = []
        inserted = 0
        raw.execute("BEGIN")
        for row in rows:
            batch.append(row)
            if len(batch) >= BATCH:
                raw.executemany(sql, batch)
                inserted += len(batch)
                bar.update(len(batch))
                batch = []
                if inserted % 1_000_000 == 0:
                    raw.execute("COMMIT")
                    raw.execute("BEGIN")
        if batch:
            raw.executemany(sql, batch)
            bar.update(len(batch))
        raw.execute("COMMIT")
    bar.close()


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def columns_and_row(model: Any, values: dict[str, Any]) -> tuple[list[str], Callable[[dict[str, Any]], list[Any]]]:
    """Column names of ``model`` and a function turning a dict of attribute values (the
    varying ones) into a row, with every other field at its default."""
    from django.db import connection

    fields = [f for f in model._meta.concrete_fields]
    defaults: dict[str, Any] = {}
    for f in fields:
        if f.attname not in values:
            default = f.get_default()
            if default is None and not f.null:
                raise ValueError(f"{model.__name__}.{f.attname} needs a value for the benchmark rows")
            defaults[f.attname] = f.get_db_prep_save(default, connection)
    names = [connection.ops.quote_name(f.column) for f in fields]
    attnames = [f.attname for f in fields]
    postgres = connection.vendor == "postgresql"

    def row(varying: dict[str, Any]) -> list[Any]:
        out = []
        for name in attnames:
            value = varying[name] if name in varying else defaults[name]
            if postgres and isinstance(value, bool):
                value = "t" if value else "f"
            elif not postgres and isinstance(value, bool):
                value = int(value)
            out.append(value)
        return out

    return names, row


# --- The tree shape ----------------------------------------------------------------------


def load_real_tree() -> None:
    from pingan.core.seeding import SeedContext
    from pingan.orgs import actions
    from pingan.orgs.seed import grid_count

    ctx = SeedContext(scale="small", seed=1, fraction=0.0, step="orgs.tree", progress_enabled=False)
    started = time.perf_counter()
    result = actions.tree_load(grids_per_station=lambda code: grid_count(ctx, code))
    log(f"real tree: {result['total']:,} units ({time.perf_counter() - started:.0f} s)")


def grow_tree(rows: int, *, progress: bool) -> None:
    """Add synthetic units below every grid until the table holds ``rows`` units."""
    from django.db.models import Max

    from pingan.orgs.models import Level, OrgUnit

    existing = OrgUnit.objects.count()
    target = rows - existing
    if target <= 0:
        return
    grids = list(
        OrgUnit.objects.filter(level=Level.GRID, depth=4)
        .order_by("path")
        .values_list("id", "code", "path", "name", "latitude", "longitude")
    )
    per_grid = math.ceil(target / len(grids))
    blocks = min(99, max(1, round(math.sqrt(per_grid))))
    households = math.ceil(per_grid / blocks) - 1
    if households > 99:
        raise SystemExit(f"--rows {rows:,} is more than this generator's 99 × 100 units per grid")
    next_id = (OrgUnit.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    sample = {"id": 0, "code": "", "name": "", "level": "", "kind": "", "parent_id": 0, "path": "", "depth": 0}
    columns, make_row = columns_and_row(OrgUnit, {**sample, "latitude": 0.0, "longitude": 0.0})

    def units() -> Iterator[list[Any]]:
        nonlocal next_id
        emitted = 0
        for grid_id, code, path, name, lat, lon in grids:
            for b in range(1, blocks + 1):
                if emitted >= target:
                    return
                block_id, block_code = next_id, f"{code}{b:02d}"
                block_path = f"{path}{block_code}/"
                next_id += 1
                emitted += 1
                yield make_row(
                    {
                        "id": block_id,
                        "code": block_code,
                        "name": f"{name}{b}号楼",
                        "level": Level.GRID.value,
                        "kind": "grid",
                        "parent_id": grid_id,
                        "path": block_path,
                        "depth": 5,
                        "latitude": lat,
                        "longitude": lon,
                    }
                )
                for h in range(1, households + 1):
                    if emitted >= target:
                        return
                    house_code = f"{block_code}{h:02d}"
                    yield make_row(
                        {
                            "id": next_id,
                            "code": house_code,
                            "name": f"{name}{b}号楼{h}户",
                            "level": Level.GRID.value,
                            "kind": "grid",
                            "parent_id": block_id,
                            "path": f"{block_path}{house_code}/",
                            "depth": 6,
                            "latitude": lat,
                            "longitude": lon,
                        }
                    )
                    next_id += 1
                    emitted += 1

    log(f"generating {target:,} synthetic units ({blocks} blocks × {households} households under {len(grids):,} grids)")
    started = time.perf_counter()
    with secondary_indexes_dropped(OrgUnit._meta.db_table):
        bulk_insert(OrgUnit._meta.db_table, columns, units(), total=target, progress=progress)
    reset_sequence(OrgUnit)
    log(f"tree grown to {OrgUnit.objects.count():,} units ({time.perf_counter() - started:.0f} s)")


def reset_sequence(model: Any) -> None:
    from django.core.management.color import no_style
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [model]):
                cursor.execute(sql)


# --- The facts shape ---------------------------------------------------------------------


def fact_model() -> Any:
    """A work-item table as a domain app would declare it (defined here, not migrated: the
    DDL Django generates for it, indexes included, is what a real model would get)."""
    from django.db import models

    class BenchWorkItem(models.Model):
        org = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="+")
        org_path = models.CharField(max_length=255, db_index=True)
        state = models.CharField(max_length=20)
        created_at = models.DateTimeField()

        class Meta:
            app_label = "core"
            db_table = "bench_workitem"

        def __str__(self) -> str:
            return f"work item {self.pk} at {self.org_path}"

    return BenchWorkItem


def load_facts(model: Any, rows: int, *, progress: bool) -> None:
    from django.db import connection

    from pingan.orgs.models import Kind, OrgUnit

    if model._meta.db_table not in connection.introspection.table_names():
        with connection.schema_editor() as editor:
            editor.create_model(model)
    existing = model.objects.count()
    if existing >= rows:
        return
    units = list(OrgUnit.objects.values_list("id", "path", "kind"))
    # Work lands mostly on grids and stations, some on departments, little on bureaus.
    weight = {Kind.GRID: 6.0, Kind.STATION: 10.0, Kind.DEPARTMENT: 3.0, Kind.BUREAU: 1.0, Kind.BRANCH: 1.0}
    ids = [unit_id for unit_id, _path, _kind in units]
    paths = dict((unit_id, path) for unit_id, path, _kind in units)
    weights = [weight.get(kind, 1.0) for _id, _path, kind in units]
    states = ["new", "in_progress", "waiting", "done", "done", "done"]
    rng = random.Random(20240101)
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    columns, make_row = columns_and_row(model, {"id": 0, "org_id": 0, "org_path": "", "state": "", "created_at": start})
    postgres = connection.vendor == "postgresql"

    def facts() -> Iterator[list[Any]]:
        chosen: list[int] = []
        for number in range(existing + 1, rows + 1):
            if not chosen:
                chosen = rng.choices(ids, weights, k=BATCH)
            org_id = chosen.pop()
            moment = start + dt.timedelta(seconds=number * 3)
            stamp = moment.isoformat() if postgres else moment.strftime("%Y-%m-%d %H:%M:%S")
            yield make_row(
                {
                    "id": number,
                    "org_id": org_id,
                    "org_path": paths[org_id],
                    "state": states[number % len(states)],
                    "created_at": stamp,
                }
            )

    log(f"generating {rows - existing:,} work items over {len(ids):,} units")
    started = time.perf_counter()
    with secondary_indexes_dropped(model._meta.db_table):
        bulk_insert(model._meta.db_table, columns, facts(), total=rows - existing, progress=progress)
    reset_sequence(model)
    log(f"work items: {model.objects.count():,} ({time.perf_counter() - started:.0f} s)")


# --- The timeline shape --------------------------------------------------------------------


def load_timeline(rows: int, *, progress: bool) -> None:
    """Fill the real ``core_timelineevent`` with ``rows`` events over the real units (hash
    columns are filler: this database's chain does not verify, and need not)."""
    from pingan.core.models import TimelineEvent
    from pingan.orgs.models import OrgUnit

    existing = TimelineEvent.objects.count()
    if existing >= rows:
        return
    units = list(OrgUnit.objects.values_list("path", "kind"))
    weight = {"grid": 6.0, "station": 10.0, "department": 3.0}
    paths = [path for path, _kind in units]
    weights = [weight.get(kind, 1.0) for _path, kind in units]
    rng = random.Random(20240102)
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    filler = "0" * 64
    sample = {
        "id": 0,
        "chain": 0,
        "seq": 0,
        "occurred_at": "",
        "action": "",
        "subject_type": "",
        "subject_id": "",
        "org_path": "",
        "data": "{}",
        "prev_hash": filler,
        "hash": filler,
    }
    columns, make_row = columns_and_row(TimelineEvent, sample)
    chains = 64  # seq continues each chain past the rows already there
    first_id = existing + 1_000_000

    def events() -> Iterator[list[Any]]:
        chosen: list[str] = []
        for number in range(first_id, first_id + rows - existing):
            if not chosen:
                chosen = rng.choices(paths, weights, k=BATCH)
            moment = start + dt.timedelta(seconds=number)
            yield make_row(
                {
                    **sample,
                    "id": number,
                    "chain": number % chains,
                    "seq": 10_000_000 + number // chains,
                    "occurred_at": moment.isoformat(sep=" "),
                    "action": "bench.step",
                    "subject_type": "bench.item",
                    "subject_id": str(number // 7),
                    "org_path": chosen.pop(),
                }
            )

    log(f"generating {rows - existing:,} timeline events")
    started = time.perf_counter()
    with secondary_indexes_dropped(TimelineEvent._meta.db_table):
        bulk_insert(TimelineEvent._meta.db_table, columns, events(), total=rows - existing, progress=progress)
    reset_sequence(TimelineEvent)
    log(f"timeline events: {TimelineEvent.objects.count():,} ({time.perf_counter() - started:.0f} s)")


def pattern_index(create: bool) -> None:
    """The proposed fix (PostgreSQL): the timeline's org index with pattern operators."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if create:
            started = time.perf_counter()
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {PATTERN_INDEX} ON core_timelineevent (org_path varchar_pattern_ops, id)"
            )
            log(f"  index {PATTERN_INDEX}: {time.perf_counter() - started:.0f} s")
        else:
            cursor.execute(f"DROP INDEX IF EXISTS {PATTERN_INDEX}")


def timeline_queries() -> list[Query]:
    from pingan.core.models import TimelineEvent

    table = TimelineEvent._meta.db_table
    events = TimelineEvent.objects
    return [
        Query("count events under Jinan", lambda: events.filter(org_path__under=JINAN).count(), table),
        Query("count events under 解放路派出所", lambda: events.filter(org_path__under=STATION).count(), table),
        Query(
            "latest 50 events under 解放路派出所 (api.queries shape)",
            lambda: list(events.filter(org_path__under=STATION).order_by("-id")[:50]),
            table,
            must_use_index=False,
        ),
    ]


# --- Queries -------------------------------------------------------------------------------


@dataclass
class Query:
    label: str
    run: Callable[[], Any]
    big_table: str
    must_use_index: bool = True
    describe: Callable[[Any], str] = lambda result: f"{result:,}" if isinstance(result, int) else f"{len(result):,}"


@dataclass
class Outcome:
    label: str
    rows: str
    timing: common.Timing
    full_scan: common.Timing | None
    plan: str
    index_used: bool
    checked: bool
    sql: str = ""
    notes: list[str] = field(default_factory=list)


def captured_sql(function: Callable[[], Any]) -> str:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        function()
    return captured.captured_queries[-1]["sql"]


def explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"EXPLAIN {sql}")
            return "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        return "\n".join(row[-1] for row in cursor.fetchall())


def index_backed(plan: str, table: str, vendor: str) -> bool:
    """The plan reaches ``table`` through an index *range*, never by reading all of it (a
    full scan of the table, or of an index with the subtree test as a mere filter)."""
    lines = plan.splitlines()
    if vendor == "postgresql":
        # "Seq Scan on t", "Index [Only] Scan using i on t", "Bitmap Heap Scan on t": each must
        # carry an "Index Cond" (its own, or its Bitmap Index Scan's) in the lines below it.
        found = False
        for number, line in enumerate(lines):
            if not (f" on {table} " in f"{line} " or line.rstrip().endswith(f" on {table}")) or "Scan" not in line:
                continue
            found = True
            if "Seq Scan" in line:
                return False
            indent = len(line) - len(line.lstrip())
            block = []
            for below in lines[number + 1 :]:
                if below.strip() and len(below) - len(below.lstrip()) <= indent:
                    break
                block.append(below)
            if not any("Index Cond:" in below for below in block):
                return False
        return found
    # "SEARCH t USING [COVERING] INDEX i (path>? AND path<?)" rather than "SCAN t [USING INDEX i]".
    mentions = [line for line in lines if f" {table} " in f"{line} "]
    return bool(mentions) and all(line.lstrip().startswith("SEARCH") for line in mentions)


def full_scan_sql(sql: str, table: str, vendor: str) -> tuple[str, list[str]]:
    """The same query with index use turned off for the big table."""
    if vendor == "postgresql":
        return sql, ["SET LOCAL enable_indexscan = off", "SET LOCAL enable_bitmapscan = off",
                     "SET LOCAL enable_indexonlyscan = off"]  # fmt: skip
    return sql.replace(f'FROM "{table}"', f'FROM "{table}" NOT INDEXED', 1).replace(
        f'JOIN "{table}"', f'JOIN "{table}" NOT INDEXED', 1
    ), []


def time_raw(sql: str, setup: list[str], repeat: int) -> common.Timing:
    from django.db import connection, transaction

    def run() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in setup:
                cursor.execute(statement)
            cursor.execute(sql)
            cursor.fetchall()

    timing, _ = common.measure(run, repeat=repeat, warmup=1)
    return timing


def run_queries(queries: list[Query], *, repeat: int, full_repeat: int) -> list[Outcome]:
    from django.db import connection

    outcomes = []
    for query in queries:
        sql = captured_sql(query.run)
        plan = explain(sql)
        used = index_backed(plan, query.big_table, connection.vendor)
        timing, result = common.measure(query.run, repeat=repeat)
        full = None
        if full_repeat:
            scan_sql, setup = full_scan_sql(sql, query.big_table, connection.vendor)
            full = time_raw(scan_sql, setup, full_repeat)
        outcomes.append(
            Outcome(query.label, query.describe(result), timing, full, plan, used, query.must_use_index, sql)
        )
        figures = f"p50 {common.ms(timing.p50)} ms, p95 {common.ms(timing.p95)} ms"
        log(f"{query.label}: {figures}, rows {query.describe(result)}")
    return outcomes


def tree_queries() -> list[Query]:
    from pingan.orgs import queries
    from pingan.orgs.models import OrgUnit

    table = OrgUnit._meta.db_table
    jinan = queries.unit_get("3701")
    return [
        Query("count units under Jinan", lambda: OrgUnit.objects.filter(path__under=JINAN).count(), table),
        Query(
            "first 50 units under 历下区 by path",
            lambda: list(OrgUnit.objects.filter(path__under=COUNTY).order_by("path")[:50]),
            table,
        ),
        Query(
            "first 50 units under 东明县 by path",
            lambda: list(OrgUnit.objects.filter(path__under=LATE_COUNTY).order_by("path")[:50]),
            table,
        ),
        Query(
            "subtree of 解放路派出所 (id, path)",
            lambda: list(OrgUnit.objects.filter(path__under=STATION).values_list("id", "path")),
            table,
        ),
        Query(
            "count units under 解放路派出所",
            lambda: OrgUnit.objects.filter(path__under=STATION).count(),
            table,
        ),
        Query(
            "orgs.queries.subtree(Jinan).count() (active units)",
            lambda: queries.subtree(jinan).count(),
            table,
        ),
    ]


def fact_queries(model: Any) -> list[Query]:
    table = model._meta.db_table
    objects = model.objects
    return [
        Query(
            "count items under Jinan (join on unit path)",
            lambda: objects.filter(org__path__under=JINAN).count(),
            table,
        ),
        Query(
            "count items under Jinan (org_path column)",
            lambda: objects.filter(org_path__under=JINAN).count(),
            table,
        ),
        Query(
            "count items under 解放路派出所 (join on unit path)",
            lambda: objects.filter(org__path__under=STATION).count(),
            table,
        ),
        Query(
            "count items under 解放路派出所 (org_path column)",
            lambda: objects.filter(org_path__under=STATION).count(),
            table,
        ),
        Query(
            "first 50 items under 历下区 by org_path",
            lambda: list(objects.filter(org_path__under=COUNTY).order_by("org_path", "id")[:50]),
            table,
        ),
        Query(
            "first 50 items under 东明县 by org_path",
            lambda: list(objects.filter(org_path__under=LATE_COUNTY).order_by("org_path", "id")[:50]),
            table,
        ),
        Query(
            "latest 50 items under Jinan (join, by id desc)",
            lambda: list(objects.filter(org__path__under=JINAN).order_by("-id")[:50]),
            table,
            must_use_index=False,
        ),
        Query(
            "latest 50 items under 历下区 (join, by id desc)",
            lambda: list(objects.filter(org__path__under=COUNTY).order_by("-id")[:50]),
            table,
            must_use_index=False,
        ),
        Query(
            "latest 50 items under 解放路派出所 (join, by id desc)",
            lambda: list(objects.filter(org__path__under=STATION).order_by("-id")[:50]),
            table,
            must_use_index=False,
        ),
    ]


# --- Running -------------------------------------------------------------------------------


def prepare_statistics() -> None:
    """PostgreSQL: VACUUM ANALYZE, as autovacuum would after a bulk load (statistics for the
    planner, visibility map for index-only scans). SQLite: left as the app leaves it (no
    ANALYZE), so the plans are those a deployment gets."""
    from django.db import connection

    if connection.vendor == "postgresql":
        started = time.perf_counter()
        with connection.cursor() as cursor:
            for table in connection.introspection.table_names():
                if table in ("orgs_orgunit", "bench_workitem", "core_timelineevent"):
                    cursor.execute(f'VACUUM ANALYZE "{table}"')
        log(f"VACUUM ANALYZE: {time.perf_counter() - started:.0f} s")


def run_one(args: argparse.Namespace) -> int:
    url = common.database_url(args.db, DATABASES[args.shape])
    if args.regenerate:
        common.drop_database(url)
    common.django_setup(url)
    common.migrate()

    from django.db import connection

    from pingan.orgs.models import OrgUnit

    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=OFF")  # generation only: the connection is closed before timing
            cursor.execute("PRAGMA cache_size=-1048576")
    if OrgUnit.objects.filter(depth__lte=4).count() < 1000:
        load_real_tree()
    model = None
    if args.shape == "tree":
        count = OrgUnit.objects.count()
        if count > args.rows:
            log(f"the database holds {count:,} units, more than --rows; use --regenerate")
        grow_tree(args.rows, progress=not args.no_progress)
    elif args.shape == "facts":
        model = fact_model()
        load_facts(model, args.rows, progress=not args.no_progress)
    else:
        load_timeline(args.rows, progress=not args.no_progress)
        pattern_index(args.pattern_ops_index)
    prepare_statistics()
    connection.close()  # measure with the app's own connection settings (settings.DATABASES)

    from pingan.core.models import TimelineEvent

    sizes = {"units": OrgUnit.objects.count()}
    if args.shape == "facts":
        sizes["work items"] = model.objects.count()
        queries = fact_queries(model)
    elif args.shape == "timeline":
        sizes["timeline events"] = TimelineEvent.objects.count()
        queries = timeline_queries()
    else:
        queries = tree_queries()
    outcomes = run_queries(queries, repeat=args.repeat, full_repeat=args.full_repeat)
    report = render(args, outcomes, sizes)
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = f"subtree-{args.shape}-{args.db}{'-pattern-ops' if args.pattern_ops_index else ''}"
    (RESULTS / f"{name}.md").write_text(report + "\n")
    (RESULTS / f"{name}.json").write_text(
        json.dumps(
            [
                {
                    "label": o.label,
                    "rows": o.rows,
                    "p50_ms": o.timing.p50,
                    "p95_ms": o.timing.p95,
                    "full_scan_p50_ms": o.full_scan.p50 if o.full_scan else None,
                    "index_used": o.index_used,
                    "plan": o.plan,
                    "sql": o.sql,
                }
                for o in outcomes
            ],
            ensure_ascii=False,
            indent=1,
        )
    )
    failed = [o for o in outcomes if o.checked and not o.index_used]
    for outcome in failed:
        log(f"NOT INDEX-BACKED: {outcome.label}\n{outcome.plan}")
    return 1 if failed else 0


def column_collations() -> dict[str, str]:
    """Path columns whose collation is not the database default (PostgreSQL)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name || '.' || column_name, collation_name FROM information_schema.columns "
            "WHERE column_name IN ('path', 'org_path') AND collation_name IS NOT NULL AND table_schema = 'public' "
            "ORDER BY 1"
        )
        return dict(cursor.fetchall())


def verdict(outcome: Outcome) -> str:
    if outcome.index_used:
        return "yes"
    return "**no**" if outcome.checked else "no (not required)"


def render(args: argparse.Namespace, outcomes: list[Outcome], sizes: dict[str, int]) -> str:
    from django.db import connection

    header = (
        f"#### {args.shape} shape on {common.backend_version()} "
        f"({', '.join(f'{count:,} {name}' for name, count in sizes.items())})"
        + (f", with the proposed `{PATTERN_INDEX}`" if args.pattern_ops_index else "")
        + "".join(f', `{column}` COLLATE "{name}"' for column, name in column_collations().items())
    )
    rows = []
    for o in outcomes:
        ratio = "–"
        if o.full_scan and o.timing.p50 > 0:
            factor = o.full_scan.p50 / o.timing.p50
            ratio = f"{factor:,.0f}×" if factor >= 10 else f"{factor:.2g}×"
        rows.append(
            [
                o.label,
                o.rows,
                common.ms(o.timing.p50),
                common.ms(o.timing.p95),
                common.ms(o.full_scan.p50) if o.full_scan else "–",
                ratio,
                verdict(o),
            ]
        )
    table = common.markdown_table(
        ["query", "rows", "p50 ms", "p95 ms", "full scan p50 ms", "index vs scan", "index range"], rows
    )
    plans = "\n\n".join(f"`{o.label}`\n```\n{o.plan}\n```" for o in outcomes)
    return (
        f"{header}\n\n{table}\n\n"
        f"{len(outcomes[0].timing) if outcomes else 0} timed runs per query after 3 warm-ups; full scan: the same SQL "
        f"with index use disabled ({'enable_*scan = off' if connection.vendor == 'postgresql' else 'NOT INDEXED'}), "
        f"{args.full_repeat} runs. Machine: {common.machine_line()}.\n\n"
        f"<details><summary>plans</summary>\n\n{plans}\n\n</details>"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.subtree", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="units (tree) or work items (facts)")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument(
        "--shape",
        choices=["tree", "facts", "timeline", "both"],
        default="both",
        help="both = tree and facts; timeline = the real core_timelineevent (org_path index check)",
    )
    parser.add_argument(
        "--pattern-ops-index",
        action="store_true",
        help="timeline shape, PostgreSQL: add the proposed (org_path varchar_pattern_ops, id) index first",
    )
    parser.add_argument("--repeat", type=int, default=30, help="timed runs per query")
    parser.add_argument("--full-repeat", type=int, default=3, help="timed full-scan runs per query (0: skip)")
    parser.add_argument("--regenerate", action="store_true", help="drop the benchmark database and build it again")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    if args.db != "both" and args.shape != "both":
        return run_one(args)
    status = 0
    passthrough = [
        f"--rows={args.rows}",
        f"--repeat={args.repeat}",
        f"--full-repeat={args.full_repeat}",
        *(["--regenerate"] if args.regenerate else []),
        *(["--no-progress"] if args.no_progress else []),
    ]
    for db in ["sqlite", "postgres"] if args.db == "both" else [args.db]:
        for shape in ["tree", "facts"] if args.shape == "both" else [args.shape]:
            command = [sys.executable, "-m", "bench.subtree", f"--db={db}", f"--shape={shape}", *passthrough]
            status = max(status, subprocess.run(command, cwd=common.REPO, check=False).returncode)
    print(f"\nmachine: {common.machine_line()}")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
