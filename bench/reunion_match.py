"""Attribute matching (团圆, issue 4): the online candidate search over 1,000,000 found-person
records, and the simulation behind the scorer's probabilities and its calibration.

    .venv/bin/python -m bench.reunion_match search [--db sqlite|postgres|all] [--rows 1000000]
                                                   [--queries 300] [--keep] [--sqlite PATH] [--postgres-db NAME]
    .venv/bin/python -m bench.reunion_match fit        # prints PROBABILITIES for pingan/reunion/matching.py
    .venv/bin/python -m bench.reunion_match calibrate  # the calibration tables of docs/reunion-matching.md

**search** loads ``--rows`` simulated found/seeker records (``matching.simulate_people``: 85 %
active, the rest reported, closed or reunited) into a dedicated database — a SQLite file
(WAL) and a PostgreSQL database — with ``--keep`` leaving them for the next run (a kept
database with enough rows is reused, not reloaded). Then it inserts ``--queries`` active
missing reports, half of them the reports of people whose found record is in the database
(planted true pairs), and times ``matching.candidates_search(record, limit=50)`` for each
(after a warm-up pass over 20 of them): p50 / p95 / max per search, the rows scored per
search (what the SQL blocking returned) and where the true record ranked.

Each backend runs in a child process (settings are read once per process).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import common  # noqa: E402

DB_NAME = "pingan_bench_reunion_match"
POPULATION_SEED = 20_261_127
QUERY_SEED = 7
FIT_SEED = 1
CALIBRATION_SEED = 2


# --- search ----------------------------------------------------------------------------------


def _records(sim: Any, rows: range, *, org: Any, user: Any, prefix: str, states: Any) -> list[Any]:
    from pingan.reunion.models import PersonRecord

    epoch = dt.date(1970, 1, 1)
    made = []
    for i in rows:
        made.append(
            PersonRecord(
                state=states[i],
                reference=f"{prefix}{i:08d}",
                kind=sim.kind[i],
                circumstance="unable" if sim.kind[i] == "found" else "adopted" if sim.kind[i] == "seeker" else "lost",
                org=org,
                org_path=org.path,
                channel="police",
                reported_by=user,
                sex=sim.sex[i],
                birth_year_min=int(sim.birth_year_min[i]),
                birth_year_max=int(sim.birth_year_max[i]),
                height_cm=None if sim.height_cm[i] != sim.height_cm[i] else int(sim.height_cm[i]),
                marks=sim.marks[i],
                mark_tags=sim.mark_tags[i],
                dialect=sim.dialect[i],
                event_date=epoch + dt.timedelta(days=int(sim.event_day[i])),
                reported_at=dt.datetime(1970, 1, 2, 9, tzinfo=dt.UTC) + dt.timedelta(days=int(sim.event_day[i])),
                place_text="模拟地点",
                latitude=None if sim.latitude[i] != sim.latitude[i] else round(float(sim.latitude[i]), 5),
                longitude=None if sim.longitude[i] != sim.longitude[i] else round(float(sim.longitude[i]), 5),
                division_code=str(sim.division_code[i]),
            )
        )
    return made


VARYING = (
    "state", "reference", "kind", "circumstance", "sex", "birth_year_min", "birth_year_max", "height_cm", "marks",
    "mark_tags", "dialect", "event_date", "reported_at", "latitude", "longitude", "division_code",
)  # fmt: skip


def _copy_value(value: Any) -> Any:
    """COPY takes JSON as its text (Django hands over a psycopg Jsonb wrapper)."""
    value = getattr(value, "obj", value)
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (list, dict)) else value


def _insert(records: list[Any]) -> None:
    """Insert unsaved records straight through the driver (COPY on PostgreSQL, executemany
    on SQLite): ``bulk_create`` costs ~1 ms per row here, too slow for a million."""
    from django.db import connection

    from pingan.reunion.models import PersonRecord

    fields = [f for f in PersonRecord._meta.concrete_fields if not f.primary_key]
    template = records[0]
    constant = {
        f.attname: f.get_db_prep_save(f.pre_save(template, add=True), connection)
        for f in fields
        if f.attname not in VARYING
    }
    varying = [f for f in fields if f.attname in VARYING]
    columns = [f.column for f in fields]
    rows = []
    for record in records:
        values = dict(constant)
        for f in varying:
            values[f.attname] = f.get_db_prep_save(getattr(record, f.attname), connection)
        rows.append([values[f.attname] for f in fields])
    table = PersonRecord._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([_copy_value(v) for v in row])
        else:
            marks = ", ".join("?" for _ in columns)
            cursor.cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


def _load(rows: int, progress: bool) -> tuple[float, int]:
    """The found side: ``rows`` records (skipped when a kept database already has them)."""
    import numpy as np
    from django.db import connection, transaction

    from pingan.accounts import actions as accounts
    from pingan.orgs import actions as orgs
    from pingan.orgs.models import OrgUnit
    from pingan.reunion import matching
    from pingan.reunion.models import PersonRecord

    have = PersonRecord.objects.filter(reference__startswith="F").count()
    if have >= rows:
        return 0.0, have
    PersonRecord.objects.all().delete()
    started = time.perf_counter()
    if not OrgUnit.objects.exists():
        orgs.tree_load()
    org = OrgUnit.objects.get(code="370102001")
    user = accounts.staff_create(
        badge_number=f"9{int(time.time()) % 100000:05d}", name="基准测试", home_org=org, roles=["investigator"]
    )
    _missing, found = matching.simulate_people(rows, seed=POPULATION_SEED)
    rng = np.random.default_rng(POPULATION_SEED)
    states = rng.choice(np.array(["active", "reported", "closed", "reunited"]), rows, p=[0.85, 0.03, 0.07, 0.05])
    bar = common.Progress(rows, "found records", enabled=progress)
    batch = 50_000
    for start in range(0, rows, batch):
        chunk = range(start, min(rows, start + batch))
        with transaction.atomic():
            _insert(_records(found, chunk, org=org, user=user, prefix="F", states=states))
        bar.update(len(chunk))
    bar.close()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return time.perf_counter() - started, rows


def _queries(count: int, rows: int) -> tuple[list[Any], dict[int, str]]:
    """Active missing reports: half planted (their found record is in the database)."""
    import numpy as np

    from pingan.orgs.models import OrgUnit
    from pingan.reunion import matching
    from pingan.reunion.models import PersonRecord

    PersonRecord.objects.filter(reference__startswith="Q").delete()
    org = OrgUnit.objects.get(code="370102001")
    user = PersonRecord.objects.filter(reference__startswith="F").first().reported_by
    rng = np.random.default_rng(QUERY_SEED)
    planted = rng.choice(rows, count // 2, replace=False)
    population, _found = matching.simulate_people(rows, seed=POPULATION_SEED)
    strangers, _other = matching.simulate_people(count - len(planted), seed=QUERY_SEED)
    active = ["active"] * rows
    made = _records(population, planted.tolist(), org=org, user=user, prefix="QP", states=active)
    made += _records(strangers, range(len(strangers)), org=org, user=user, prefix="QS", states=active)
    PersonRecord.objects.bulk_create(made)
    truth = {}
    queries = list(PersonRecord.objects.filter(reference__startswith="Q").order_by("reference"))
    for record in queries:
        if record.reference.startswith("QP"):
            truth[record.pk] = f"F{int(record.reference[2:]):08d}"
    return queries, truth


def child(backend: str, rows: int, count: int, keep: bool, url: str, progress: bool) -> dict[str, Any]:
    if not keep:
        common.drop_database(url)
    var = os.environ.get("PINGAN_VAR_DIR")
    common.django_setup(url, var_dir=Path(var) if var else None)
    common.migrate()
    load_seconds, loaded = _load(rows, progress)
    from pingan.reunion import matching
    from pingan.reunion.models import PersonRecord

    queries, truth = _queries(count, loaded)
    references = dict(PersonRecord.objects.filter(reference__startswith="F").values_list("reference", "id"))
    warmup = []
    for record in queries[:20]:  # warm-up: the first search by SQL finds the side large, the next loads it
        started = time.perf_counter()
        matching.search_with_stats(record, limit=50)
        warmup.append((time.perf_counter() - started) * 1000)
    samples, scored, marked, reread, ranks, snapshot = [], [], [], [], [], 0
    load = os.getloadavg()
    for record in queries:
        started = time.perf_counter()
        found, stats = matching.search_with_stats(record, limit=50)
        samples.append((time.perf_counter() - started) * 1000)
        scored.append(stats["rows_scored"])
        marked.append(stats["marks_compared"])
        reread.append(stats["rows_reread"])
        snapshot += stats["snapshot"]
        if record.pk in truth:
            wanted = references.get(truth[record.pk])
            ids = [c.found_id for c in found]
            ranks.append(ids.index(wanted) + 1 if wanted in ids else None)
    load_after = os.getloadavg()
    timing = common.Timing(tuple(samples))
    reachable = [r for r in ranks if r is not None]
    result = {
        "backend": common.backend_version(),
        "rows": loaded,
        "load_seconds": round(load_seconds, 1),
        "first_search_ms": round(warmup[0]),
        "snapshot_load_ms": round(warmup[1]),
        "queries": len(samples),
        "snapshot_searches": snapshot,
        "p50": timing.p50,
        "p95": timing.p95,
        "max": timing.max,
        "rows_scored_p50": sorted(scored)[len(scored) // 2],
        "rows_scored_max": max(scored),
        "marks_compared_p50": sorted(marked)[len(marked) // 2],
        "reread_p50": sorted(reread)[len(reread) // 2],
        "reread_max": max(reread),
        "planted": len(ranks),
        "planted_top1": sum(1 for r in reachable if r == 1),
        "planted_top10": sum(1 for r in reachable if r <= 10),
        "planted_top50": len(reachable),
        "load_before": " ".join(f"{v:.2f}" for v in load),
        "load_after": " ".join(f"{v:.2f}" for v in load_after),
    }
    if not keep:
        from django.db import connections

        connections.close_all()
        common.drop_database(url)
    return result


def report(results: list[dict[str, Any]], command: str) -> str:
    headers = [
        "database", "found records", "searches", "p50 ms", "p95 ms", "max ms", "rows scored (p50 / max)",
        "rows re-read (p50 / max)", "true record top-1 / top-10 / top-50", "load avg before → after",
    ]  # fmt: skip
    rows = [
        [
            r["backend"], f"{r['rows']:,}", r["queries"], common.ms(r["p50"]), common.ms(r["p95"]), common.ms(r["max"]),
            f"{r['rows_scored_p50']:,} / {r['rows_scored_max']:,}", f"{r['reread_p50']:,} / {r['reread_max']:,}",
            f"{r['planted_top1']} / {r['planted_top10']} / {r['planted_top50']} of {r['planted']}",
            f"{r['load_before']} → {r['load_after']}",
        ]
        for r in results
    ]  # fmt: skip
    loads = "; ".join(
        f"{r['backend']}: in-memory snapshot used by {r['snapshot_searches']} of {r['queries']} searches; the first "
        f"two searches took {r['first_search_ms']:,} and {r['snapshot_load_ms']:,} ms (at a million records: the SQL "
        "blocking that finds the side large, then the snapshot load)"
        + (f"; records loaded in {r['load_seconds']} s" if r["load_seconds"] else "")
        for r in results
    )
    return "\n".join(
        [
            f"`{command}`",
            "",
            common.machine_line(),
            "",
            common.markdown_table(headers, rows),
            "",
            loads,
        ]
    )


# --- fit and calibrate -----------------------------------------------------------------------


def fit(people: int, random_per_person: int) -> str:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pingan.settings")
    django.setup()
    from pingan.reunion import matching

    fitted = matching.fit_probabilities(
        *matching.simulate_pairs(people, seed=FIT_SEED, random_per_person=random_per_person)
    )
    lines = ["PROBABILITIES: dict[str, dict[str, tuple[float, float]]] = {"]
    for name, levels in fitted.items():
        lines.append(f'    "{name}": {{')
        lines += [f'        "{level}": ({m:.4g}, {u:.4g}),' for level, (m, u) in levels.items()]
        lines.append("    },")
    lines.append("}")
    return "\n".join(lines)


def calibrate(people: int, random_per_person: int) -> str:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pingan.settings")
    django.setup()
    import numpy as np

    from pingan.reunion import matching

    out = []
    for n, k in ((people, random_per_person), (max(200, people // 25), random_per_person * 50)):
        m, o, truth = matching.simulate_pairs(n, seed=CALIBRATION_SEED, random_per_person=k)
        scores, rows, _full = matching.score_pairs(m, o)
        prior = 1 / (k + 1)
        inside = truth[rows]
        out.append(
            f"**{n:,} true pairs, {n * k:,} random pairs (prior 1/{k + 1} per pair)**: inside the block "
            f"{int(inside.sum()):,} true pairs ({inside.sum() / n:.1%}) and {int((~inside).sum()):,} random pairs "
            f"({(~inside).sum() / (n * k):.2%})."
        )
        out.append("")
        table = [
            [f"{b.low:.1f}–{b.high:.1f}", f"{b.pairs:,}", b.true_pairs, f"{b.predicted:.3f}", f"{b.observed:.3f}"]
            for b in matching.calibration(scores, inside, prior=prior)
        ]
        out.append(common.markdown_table(["predicted P", "pairs", "true pairs", "mean predicted", "observed"], table))
        out.append("")
        matched = scores[inside]
        out.append(
            "log10 BF of true pairs: p5 {:.1f}, median {:.1f}; of random pairs inside the block: median {:.1f}, "
            "p99 {:.1f}, max {:.1f}.".format(
                *np.percentile(matched, [5, 50]), *np.percentile(scores[~inside], [50, 99]), scores[~inside].max()
            )
        )
        out.append("")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", nargs="?", choices=["search", "fit", "calibrate"], default="search")
    parser.add_argument("--db", choices=["sqlite", "postgres", "all"], default="all")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--keep", action="store_true", help="keep (and reuse) the loaded databases")
    parser.add_argument("--sqlite", help="SQLite file (default: under the bench directory)")
    parser.add_argument("--postgres-db", default=DB_NAME, help="PostgreSQL database name")
    parser.add_argument("--people", type=int, default=100_000, help="fit/calibrate: simulated true pairs")
    parser.add_argument("--random", type=int, default=40, help="fit/calibrate: random pairs per true pair")
    parser.add_argument("--progress", action="store_true")
    parser.add_argument("--child", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.what == "fit":
        print(fit(args.people, args.random))
        return
    if args.what == "calibrate":
        print(calibrate(args.people, args.random))
        return
    urls = {
        "sqlite": f"sqlite:///{args.sqlite}" if args.sqlite else common.database_url("sqlite", DB_NAME),
        "postgres": f"{common.POSTGRES_SERVER}/{args.postgres_db}",
    }
    if args.child:
        result = child(args.child, args.rows, args.queries, args.keep, urls[args.child], args.progress)
        print(json.dumps(result))
        return

    def child_args(backend: str) -> list[str]:
        command = ["bench.reunion_match", "search", "--child", backend]
        command += ["--rows", str(args.rows), "--queries", str(args.queries), "--postgres-db", args.postgres_db]
        command += (["--sqlite", args.sqlite] if args.sqlite else []) + (["--keep"] if args.keep else [])
        return command + (["--progress"] if args.progress else [])

    outputs = common.per_backend(args.db, child_args)
    results = [json.loads(output.strip().splitlines()[-1]) for output in outputs.values()]
    print(report(results, "python -m bench.reunion_match " + " ".join(sys.argv[1:])))


if __name__ == "__main__":
    main()
