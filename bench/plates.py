"""E-bike registration throughput (S15: 36 million bicycles plated in Shandong).

Measures, on SQLite (WAL file) and PostgreSQL, each through the real actions:

- **register**: inspect + register one bicycle (row lock, workflow, the city's plate counter,
  the plate, the e-certificate signed by the credentials app, timeline) — ms per bicycle,
  one thread;
- **concurrent register**: bicycles of ONE city registered from N threads at once, each
  thread with its own connection (all queue on the city's counter row) — registrations/s;
- **dealer import**: CSV files of 2,000 sales (the most a file may hold) one after another
  (rows/s of the median file), the first file again (nothing new), and two dealers
  importing at once from two processes, as two server workers take two uploads (rows/s in
  all);
- **plate check**: the public look-up — ms per check.

    .venv/bin/python -m bench.plates [--db sqlite|postgres|all] [--n 200] [--threads 8] [--rows 2000] [--files 5]
                                     [--newcomers 0]

Each backend runs in a child process with its own throwaway database (``bench.common``).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import common  # noqa: E402

DB_NAME = "pingan_bench_plates"


def setup() -> dict[str, Any]:
    from pingan.accounts import actions as accounts
    from pingan.accounts.actions import CitizenData
    from pingan.core.identity import make_resident_id
    from pingan.ebikes import actions, catalogue
    from pingan.orgs import actions as orgs
    from pingan.orgs.models import OrgUnit

    orgs.tree_load()
    catalogue.catalogue_load()
    station = OrgUnit.objects.get(code="370102001")
    officer = accounts.staff_create(badge_number="100001", name="窗口民警", home_org=station, roles=["counter_officer"])
    dealer_user = accounts.partner_create(
        username="bench-dealer", organisation="基准测试车行", partner_kind="dealer",
        credit_code="92370102MA00000001", org=OrgUnit.objects.get(code="370102"),
    )  # fmt: skip
    dealer = actions.dealer_authorise(partner=dealer_user)
    rows = []
    for number in range(3000):
        id_number = make_resident_id("370102", dt.date(1980, 1, 1) + dt.timedelta(days=number), number)
        rows.append(
            CitizenData(
                name="测试", id_number=id_number, phone=f"139{number:08d}", birth_date=dt.date(1980, 1, 1),
                sex="M" if number % 2 else "F", county_code="370102",
            )
        )  # fmt: skip
    accounts.citizens_bulk_register(rows, home_orgs=[station] * len(rows))
    return {"officer": officer, "dealer": dealer, "dealer_user": dealer_user, "ids": [r.id_number for r in rows]}


_frames = iter(range(1, 10**7))


def bike_data(product: Any, number: int | None = None) -> dict[str, str]:
    number = next(_frames) if number is None else number
    return {
        "brand": product.brand, "model": product.model, "colour": "白色",
        "frame_number": f"BM24A{number:07d}", "motor_number": f"48V350W-{number:07d}",
        "purchase_date": "2024-06-01", "invoice_number": f"{30000000 + number}",
    }  # fmt: skip


def preregistered(count: int, owners: list[Any]) -> list[Any]:
    from pingan.ebikes import actions
    from pingan.ebikes.models import CompliantModel

    product = CompliantModel.objects.filter(certificate_status="valid").order_by("ccc_certificate").first()
    return [
        actions.ebike_preregister(actor=None, owner=owners[i % len(owners)], data=bike_data(product))
        for i in range(count)
    ]


FILE_FRAMES = 5_000_000  # frame numbers of the dealers' files start here (bike_data's own stay below)


def sales_file(ids: list[str], rows: int, *, first: int) -> bytes:
    """A dealer's CSV of ``rows`` sales, frames ``first``.. on from ``FILE_FRAMES``."""
    from pingan.ebikes import imports
    from pingan.ebikes.models import CompliantModel

    product = CompliantModel.objects.filter(certificate_status="valid").order_by("ccc_certificate").first()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([column.label for column in imports.COLUMNS])
    fields = ("brand", "model", "colour", "frame_number", "motor_number", "purchase_date", "invoice_number")
    for index in range(rows):
        data = bike_data(product, FILE_FRAMES + first + index)
        number = first + index
        writer.writerow([ids[number % len(ids)], f"139{number % 10**8:08d}", *[data[f] for f in fields]])
    return out.getvalue().encode("utf-8-sig")


def sales_files(ids: list[str], rows: int, files: int, *, first: int = 0) -> list[bytes]:
    return [sales_file(ids, rows, first=first + index * rows) for index in range(files)]


def _server_cpu_seconds() -> float | None:
    """CPU time of this connection's database backend so far, when the server runs on this
    machine (PostgreSQL: its process, read from /proc); None otherwise."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def import_files(dealer: Any, user: Any, contents: list[bytes], rows: int) -> dict[str, Any]:
    """Import the files one after another: rows/s of each (min, median, max), and the CPU
    time each file took in this process (Python) and in the database's backend."""
    from pingan.ebikes import actions

    seconds, python_cpu, server_cpu, created = [], [], [], 0
    for index, content in enumerate(contents):
        server_before, python_before = _server_cpu_seconds(), time.process_time()
        started = time.perf_counter()
        batch = actions.import_batch(dealer=dealer, actor=user, file_name=f"sales-{index}.csv", content=content)
        seconds.append(time.perf_counter() - started)
        python_cpu.append(time.process_time() - python_before)
        server_after = _server_cpu_seconds()
        if server_before is not None and server_after is not None:
            server_cpu.append(server_after - server_before)
        created += batch.rows_created
    per_file = sorted(rows / second for second in seconds)
    return {
        "rows": rows,
        "files": len(contents),
        "created": created,
        "median_rows_per_second": statistics.median(per_file),
        "slowest_rows_per_second": per_file[0],
        "fastest_rows_per_second": per_file[-1],
        "median_python_cpu_ms": statistics.median(python_cpu) * 1000,
        "median_server_cpu_ms": statistics.median(server_cpu) * 1000 if server_cpu else None,
    }


def _dealer(number: int) -> tuple[Any, Any]:
    from pingan.accounts import actions as accounts
    from pingan.ebikes import actions
    from pingan.orgs.models import OrgUnit

    user = accounts.partner_create(
        username=f"bench-dealer-{number}", organisation=f"基准测试车行{number}", partner_kind="dealer",
        credit_code=f"92370102MB{number:08d}", org=OrgUnit.objects.get(code="370102"),
    )  # fmt: skip
    return actions.dealer_authorise(partner=user), user


def _import_worker(dealer_pk: int, ids: list[str], rows: int, files: int, first: int, start: Any, out: Any) -> None:
    from django.db import connection

    from pingan.ebikes.models import Dealer

    dealer = Dealer.objects.select_related("partner", "org").get(pk=dealer_pk)
    contents = sales_files(ids, rows, files, first=first)
    start.wait()
    began = time.perf_counter()
    result = import_files(dealer, dealer.partner, contents, rows)
    out.put({**result, "began": began, "ended": time.perf_counter()})
    connection.close()


def import_in_parallel(ids: list[str], rows: int, files: int, *, processes: int) -> dict[str, Any]:
    """``processes`` dealers, each in its own process, importing ``files`` files at once."""
    import multiprocessing

    from django.db import connections

    dealers = [_dealer(number)[0].pk for number in range(1, processes + 1)]
    connections.close_all()  # the children open their own
    context = multiprocessing.get_context("fork")
    start, out = context.Barrier(processes), context.Queue()
    workers = [
        context.Process(target=_import_worker, args=(pk, ids, rows, files, (1 + index) * files * rows, start, out))
        for index, pk in enumerate(dealers)
    ]
    for worker in workers:
        worker.start()
    results = [out.get(timeout=600) for _ in workers]
    for worker in workers:
        worker.join()
    # From the first child starting its first file to the last one finishing its last.
    span = max(r["ended"] for r in results) - min(r["began"] for r in results)
    return {
        "processes": processes,
        "rows": sum(r["rows"] * r["files"] for r in results),
        "created": sum(r["created"] for r in results),
        "rows_per_second": sum(r["rows"] * r["files"] for r in results) / span,
    }


def buyers(registered: list[str], newcomers: int) -> list[str]:
    """The buyers' ID numbers the files cycle through: ``newcomers`` in every hundred have no
    citizen account yet (their ID number and mobile are stored encrypted until they claim)."""
    from pingan.core.identity import make_resident_id

    def newcomer(number: int) -> str:
        return make_resident_id("370103", dt.date(1990, 1, 1) + dt.timedelta(days=number), number)

    return [newcomer(i) if i % 100 < newcomers else id_number for i, id_number in enumerate(registered)]


def child(backend: str, n: int, threads: int, rows: int, files: int, newcomers: int = 0) -> dict[str, Any]:
    url = common.database_url(backend, DB_NAME)
    common.drop_database(url)
    common.django_setup(url)
    common.migrate()
    from django.db import connection

    from pingan.accounts.models import User
    from pingan.core import timeline
    from pingan.ebikes import actions, queries
    from pingan.ebikes.models import EBike

    people = setup()
    common.freeze_heap()
    officer = people["officer"]
    owners = list(User.objects.filter(kind="citizen").order_by("pk")[:500])
    result: dict[str, Any] = {"backend": common.backend_version()}

    # One thread: inspect + register, end to end.
    bikes = preregistered(n, owners)
    samples = []
    for ebike in bikes:
        started = time.perf_counter()
        actions.ebike_inspect(ebike=ebike, actor=officer)
        actions.ebike_register(ebike=ebike, actor=officer)
        samples.append((time.perf_counter() - started) * 1000)
    timing = common.Timing(tuple(samples))
    result["register_ms"] = {"p50": timing.p50, "p95": timing.p95, "n": len(samples)}

    # N threads, one city: all queue on the city's counter row.
    bikes = preregistered(n, owners)
    for ebike in bikes:
        actions.ebike_inspect(ebike=ebike, actor=None)
    shares = [bikes[i::threads] for i in range(threads)]
    errors: list[Exception] = []

    def work(share: list[Any]) -> None:
        try:
            for ebike in share:
                try:
                    actions.ebike_register(ebike=ebike, actor=None)
                except Exception as error:  # counted and reported
                    errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=work, args=(share,)) for share in shares]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    plates = EBike.objects.filter(plate__isnull=False).values_list("plate__number", flat=True)
    result["concurrent"] = {
        "threads": threads,
        "registrations": n,
        "per_second": n / elapsed,
        "errors": len(errors),
        "distinct_plates": len(set(plates)) == len(plates),
    }

    # Dealers' files: one dealer's files one after another (the median file), the same file
    # again (nothing new), then two dealers uploading at once from two processes (as two
    # server workers would take them).
    ids = buyers(people["ids"], newcomers)
    contents = sales_files(ids, rows, files)
    result["import"] = import_files(people["dealer"], people["dealer_user"], contents, rows)
    result["import"]["newcomers"] = newcomers
    again = sales_file(ids, rows, first=0)  # the first file of import_files
    started = time.perf_counter()
    batch = actions.import_batch(dealer=people["dealer"], actor=people["dealer_user"], file_name="a.csv", content=again)
    result["reimport"] = {"rows_per_second": rows / (time.perf_counter() - started), "created": batch.rows_created}
    result["parallel"] = import_in_parallel(ids, rows, files, processes=2)

    numbers = list(plates[:200])
    timing, _ = common.measure(lambda: [queries.plate_check(number) for number in numbers], repeat=5, warmup=1)
    result["plate_check_ms"] = timing.p50 / len(numbers)
    assert timeline.verify() == [], "the timeline must stay intact"
    connection.close()
    common.drop_database(url)
    return result


def _server_part(one: dict[str, Any]) -> str:
    server = one.get("median_server_cpu_ms")
    return f", database {server:.0f} ms" if server is not None else ""


def report(results: list[dict[str, Any]]) -> str:
    rows = []
    for r in results:
        one, both = r["import"], r["parallel"]
        rows.append(
            [
                r["backend"],
                f"{common.ms(r['register_ms']['p50'])} / {common.ms(r['register_ms']['p95'])}",
                f"{r['concurrent']['per_second']:.0f} ({r['concurrent']['threads']} threads, "
                f"{r['concurrent']['errors']} errors, plates distinct: {r['concurrent']['distinct_plates']})",
                f"**{one['median_rows_per_second']:.0f}** (slowest {one['slowest_rows_per_second']:.0f}, fastest "
                f"{one['fastest_rows_per_second']:.0f}; {one['files']} files, created {one['created']}; "
                f"{one['newcomers']}% of buyers without an account; CPU a file: Python "
                f"{one['median_python_cpu_ms']:.0f} ms{_server_part(one)})",
                f"{r['reimport']['rows_per_second']:.0f} (created {r['reimport']['created']})",
                f"**{both['rows_per_second']:.0f}** ({both['processes']} dealers, created {both['created']})",
                common.ms(r["plate_check_ms"]),
            ]
        )
    headers = [
        "database",
        "inspect + register, ms p50 / p95",
        "concurrent registrations/s (one city)",
        "dealer import rows/s, median file",
        "same file again rows/s",
        "two dealers at once, rows/s in all",
        "plate check ms",
    ]
    return f"{common.machine_line()}\n\n{common.markdown_table(headers, rows)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres", "all"], default="all")
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--rows", type=int, default=2000, help="rows per dealer file (the most a file may hold)")
    parser.add_argument("--files", type=int, default=5, help="files per dealer")
    parser.add_argument(
        "--newcomers", type=int, default=0, choices=range(101), metavar="0-100",
        help="percent of buyers with no citizen account yet (stored encrypted until they claim)",
    )  # fmt: skip
    parser.add_argument("--child", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.n, args.threads, args.rows, args.files, args.newcomers)))
        return
    outputs = common.per_backend(
        args.db,
        lambda backend: ["bench.plates", "--child", backend, "--n", str(args.n), "--threads", str(args.threads),
                         "--rows", str(args.rows), "--files", str(args.files), "--newcomers", str(args.newcomers)],
    )  # fmt: skip
    results = [json.loads(output.strip().splitlines()[-1]) for output in outputs.values()]
    print(report(results))


if __name__ == "__main__":
    main()
