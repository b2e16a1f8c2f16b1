"""Indicator queries (compute with 同比/环比, ranking of children) over 10^6 citizens, for the province and a city.

Seeds a throwaway database with the real organisation tree, ``--citizens`` citizen accounts
(home bureaus weighted by the 2020 census population of their city, registrations spread
over 2019–2023) and ``--staff`` staff posts, written with raw bulk SQL (no ORM objects, no
encryption: the indicator queries read neither). Then it times, cold (a fresh query cache
each run, as a single request would see):

- ``compute``: one indicator for one unit and period, i.e. its value, previous period and
  same period last year (3 windows);
- ``ranking``: the same indicator for every child unit (one grouped query);
- ``page``: every declared indicator with its ranking, sharing one cache (what
  ``/indicators/`` and ``manage.py indicators --children`` do).

The target from the anchors: KPI query p95 < 380 ms (DHIS2's own analytics test).

    python -m bench.indicators                          # 10^6 citizens, SQLite
    python -m bench.indicators --db postgres
    python -m bench.indicators --citizens 100000 --repeat 10
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

from bench import common

DATABASE = "pingan_bench_indicators"
UNITS = {"province": "37", "city": "3701"}
PERIOD = "2021"
BATCH = 50_000


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- Seeding --------------------------------------------------------------------------------


def insert_rows(model: Any, rows: Iterator[dict[str, Any]], *, total: int, label: str) -> None:
    """Raw bulk insert of ``rows`` (attribute → value; other fields take their defaults):
    COPY on PostgreSQL, ``executemany`` in large transactions on SQLite."""
    from django.db import connection

    fields = list(model._meta.concrete_fields)
    columns = [connection.ops.quote_name(field.column) for field in fields]
    defaults = {field.attname: field.get_db_prep_save(field.get_default(), connection) for field in fields}
    postgres = connection.vendor == "postgresql"

    def values(row: dict[str, Any]) -> list[Any]:
        out = []
        for field in fields:
            value = row[field.attname] if field.attname in row else defaults[field.attname]
            if isinstance(value, bool):
                value = ("t" if value else "f") if postgres else int(value)
            out.append(value)
        return out

    bar = common.Progress(total, label)
    if postgres:
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for number, row in enumerate(rows, start=1):
                copy.write_row(values(row))
                if number % BATCH == 0:
                    bar.update(BATCH)
        bar.update(total % BATCH)
    else:
        raw = connection.connection
        sql = f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        batch: list[list[Any]] = []
        raw.execute("BEGIN")
        for row in rows:
            batch.append(values(row))
            if len(batch) >= BATCH:
                raw.executemany(sql, batch)
                bar.update(len(batch))
                batch = []
        if batch:
            raw.executemany(sql, batch)
            bar.update(len(batch))
        raw.execute("COMMIT")
    bar.close()


def seed(*, citizens: int, staff: int, seed_value: int) -> None:
    from django.db import connection
    from django.db.models import Max

    from pingan.accounts.models import CitizenProfile, Post, StaffProfile, User
    from pingan.orgs import actions
    from pingan.orgs.models import Kind, Level, OrgUnit

    started = time.perf_counter()
    actions.tree_load(grids_per_station=lambda code: 3 + int(code[-1]) % 3)
    log(f"tree: {OrgUnit.objects.count():,} units ({time.perf_counter() - started:.1f} s)")

    rng = random.Random(seed_value)
    counties = list(OrgUnit.objects.filter(level=Level.COUNTY).exclude(kind=Kind.DEPARTMENT).values_list("id", "path"))
    population = dict(OrgUnit.objects.filter(level=Level.CITY).values_list("path", "population"))
    weights = [population.get(path[: len("37/3701/")], 1) or 1 for _id, path in counties]
    stations = list(OrgUnit.objects.filter(level=Level.STATION).values_list("id", flat=True))
    first = (User.objects.aggregate(top=Max("id"))["top"] or 0) + 1
    zone = dt.timezone(dt.timedelta(hours=8))
    span = int((dt.datetime(2024, 1, 1, tzinfo=zone) - dt.datetime(2019, 1, 1, tzinfo=zone)).total_seconds())
    base = dt.datetime(2019, 1, 1, tzinfo=zone)
    postgres = connection.vendor == "postgresql"

    def stamp(moment: dt.datetime) -> str:
        moment = moment.astimezone(dt.UTC)
        return moment.isoformat() if postgres else moment.strftime("%Y-%m-%d %H:%M:%S")

    joined = stamp(dt.datetime(2019, 1, 1, tzinfo=zone))
    people = citizens + staff

    def users() -> Iterator[dict[str, Any]]:
        for offset in range(people):
            number = first + offset
            is_staff = offset >= citizens
            yield {
                "id": number,
                "password": "!",
                "username": f"{100000 + offset - citizens}" if is_staff else f"c{number:012d}",
                "kind": "staff" if is_staff else "citizen",
                "name": "民警" if is_staff else "群众",
                "date_joined": joined,
                "is_active": True,
                "is_staff": False,
                "is_superuser": False,
                "first_name": "",
                "last_name": "",
                "email": "",
            }

    def profiles() -> Iterator[dict[str, Any]]:
        homes = rng.choices(counties, weights, k=citizens)
        for offset, (org_id, _path) in enumerate(homes):
            number = first + offset
            yield {
                "id": number,
                "user_id": number,
                "id_number": "-",
                "id_number_hash": f"i{number:063d}",
                "phone": "-",
                "phone_hash": f"p{number:063d}",
                "birth_date": "1990-01-01",
                "sex": "F" if number % 2 else "M",
                "county_code": "370102",
                "home_org_id": org_id,
                "created_at": stamp(base + dt.timedelta(seconds=rng.randrange(span))),
            }

    posted_at = [stations[rng.randrange(len(stations))] for _ in range(staff)]

    def posts() -> Iterator[dict[str, Any]]:
        for offset, org_id in enumerate(posted_at):
            yield {
                "id": offset + 1,
                "user_id": first + citizens + offset,
                "org_id": org_id,
                "role": "community_officer",
                "is_active": True,
            }

    def staff_profiles() -> Iterator[dict[str, Any]]:
        for offset, org_id in enumerate(posted_at):
            yield {
                "id": offset + 1,
                "user_id": first + citizens + offset,
                "badge_number": f"{100000 + offset}",
                "home_org_id": org_id,
            }

    insert_rows(User, users(), total=people, label="accounts_user")
    insert_rows(CitizenProfile, profiles(), total=citizens, label="accounts_citizenprofile")
    insert_rows(Post, posts(), total=staff, label="accounts_post")
    insert_rows(StaffProfile, staff_profiles(), total=staff, label="accounts_staffprofile")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    log(f"seeded {citizens:,} citizens and {staff:,} staff posts ({time.perf_counter() - started:.0f} s)")


# --- Measuring ------------------------------------------------------------------------------------


def measure(repeat: int) -> list[list[str]]:
    from pingan.indicators import engine
    from pingan.indicators.declarations import indicators
    from pingan.indicators.periods import parse
    from pingan.orgs import queries as orgs

    period = parse(PERIOD)
    declared = list(indicators().values())
    rows: list[list[str]] = []
    for label, code in UNITS.items():
        unit = orgs.unit_get(code)
        children = len(engine.children_of(unit))
        for indicator in declared:
            timing, result = common.measure(
                lambda indicator=indicator, unit=unit: engine.compute(indicator, org=unit, period=period),
                repeat=repeat,
            )
            rows.append(row(label, unit, "compute", indicator.code, timing, str(result.value)))
            timing, ranked = common.measure(
                lambda indicator=indicator, unit=unit: engine.ranking(indicator, parent=unit, period=period),
                repeat=repeat,
            )
            top = f"{children} children; #1 {ranked[0].unit.code} = {ranked[0].value}" if ranked else "no children"
            rows.append(row(label, unit, "ranking", indicator.code, timing, top))

        def page(unit: Any = unit) -> int:
            cache = engine.QueryCache()
            engine.compute_all(declared, org=unit, period=period, cache=cache)
            kids = engine.children_of(unit)
            for indicator in declared:
                engine.ranking(indicator, parent=unit, period=period, cache=cache, children=kids)
            return len(cache.results)

        timing, queries = common.measure(page, repeat=repeat)
        rows.append(row(label, unit, "page", "all", timing, f"{queries} grouped queries"))
    return rows


def row(label: str, unit: Any, operation: str, code: str, timing: common.Timing, note: str) -> list[str]:
    line = [
        f"{label} ({unit.code})",
        operation,
        code,
        common.ms(timing.p50),
        common.ms(timing.p95),
        common.ms(timing.max),
        note,
    ]
    log("  " + " | ".join(line))
    return line


def run_one(args: argparse.Namespace) -> None:
    url = common.database_url(args.db, DATABASE)
    if args.fresh:
        common.drop_database(url)
    common.django_setup(url)
    common.migrate()
    from pingan.accounts.models import CitizenProfile

    present = CitizenProfile.objects.count()
    if present != args.citizens:
        if present:
            log(f"database holds {present:,} citizens, not {args.citizens:,}: starting afresh")
            from django.db import connections

            connections.close_all()
            common.drop_database(url)
            common.create_database(url)
            common.migrate()
        seed(citizens=args.citizens, staff=args.staff, seed_value=args.seed)
    log(f"measuring on {common.backend_version()} ({args.repeat} runs each, 3 warm-up)")
    rows = measure(args.repeat)
    command = f".venv/bin/python -m bench.indicators --db {args.db} --citizens {args.citizens} --staff {args.staff}"
    print(f"\n**{common.backend_version()}**, {args.citizens:,} citizens, {args.staff:,} staff posts, period {PERIOD}.")
    print(f"Command: `{command} --repeat {args.repeat}`  ")
    print(f"Machine: {common.machine_line()}\n")
    headers = ["unit", "operation", "indicator", "p50 ms", "p95 ms", "max ms", "result"]
    print(common.markdown_table(headers, rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument("--citizens", type=int, default=1_000_000)
    parser.add_argument("--staff", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fresh", action="store_true", help="drop the benchmark database first")
    args = parser.parse_args()
    if args.db == "both":
        # One process per backend: Django reads its database settings once.
        argv = sys.argv[1:]
        position = argv.index("--db") + 1
        for backend in ("sqlite", "postgres"):
            argv[position] = backend
            subprocess.run([sys.executable, "-m", "bench.indicators", *argv], check=True)
        return
    run_one(args)


if __name__ == "__main__":
    main()
