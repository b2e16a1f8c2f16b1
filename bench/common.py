"""Helpers every benchmark shares: the machine it ran on, a throwaway database (SQLite
file in WAL mode or a fresh PostgreSQL database) migrated with the project's models,
timing with percentiles, and Markdown tables for ``docs/benchmarks.md``.

A benchmark picks its database *before* Django starts (settings are read once per
process), so a benchmark that measures both backends runs itself once per backend::

    from bench import common

    common.django_setup(common.database_url("sqlite", "my-bench"))   # or "postgres"
    common.migrate()
"""

from __future__ import annotations

import gc
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
POSTGRES_SERVER = os.environ.get("PINGAN_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
BENCH_DIR = Path(os.environ.get("PINGAN_BENCH_DIR", Path(tempfile.gettempdir()) / "pingan-bench"))


# --- The machine -----------------------------------------------------------------------


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def machine() -> dict[str, str]:
    """CPU, cores, memory and software versions, for the header of a result."""
    cpuinfo = _read("/proc/cpuinfo").splitlines()
    cpu = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")),
        platform.processor() or platform.machine(),
    )
    memory_kb = next(
        (int(line.split()[1]) for line in _read("/proc/meminfo").splitlines() if line.startswith("MemTotal:")), 0
    )
    try:
        cores = subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        cores = str(os.cpu_count())
    import sqlite3

    return {
        "cpu": cpu,
        "cores": cores,
        "memory": f"{memory_kb / 1024 / 1024:.0f} GiB",
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        # Other work on the machine skews timings: say how busy it was.
        "load average (1/5/15 min)": " ".join(f"{value:.1f}" for value in os.getloadavg()),
    }


def machine_line(extra: dict[str, str] | None = None) -> str:
    info = {**machine(), **(extra or {})}
    return ", ".join(f"{key} {value}" for key, value in info.items())


# --- Databases ---------------------------------------------------------------------------


def database_url(backend: str, name: str) -> str:
    """A URL for a benchmark's own database: ``var``-independent, never the demo's."""
    if backend == "sqlite":
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{BENCH_DIR / (name + '.sqlite3')}"
    if backend == "postgres":
        return f"{POSTGRES_SERVER}/{name}"
    raise ValueError(f"unknown backend {backend!r} (sqlite or postgres)")


def sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def drop_database(url: str) -> None:
    """Remove a benchmark database (the SQLite file and its WAL, or the PostgreSQL database)."""
    if url.startswith("sqlite:///"):
        path = sqlite_path(url)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    server, name = url.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_database(url: str) -> None:
    """Make sure the database exists (PostgreSQL: CREATE DATABASE; SQLite: created on use)."""
    if url.startswith("sqlite:///"):
        sqlite_path(url).parent.mkdir(parents=True, exist_ok=True)
        return
    import psycopg

    server, name = url.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')


def django_setup(url: str, *, var_dir: Path | None = None) -> None:
    """Point Django at ``url`` and start it (once per process)."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pingan.settings")
    os.environ["PINGAN_VAR_DIR"] = str(var_dir or BENCH_DIR / "var")
    # Long-running connections: no per-request reconnects, no idle timeouts.
    os.environ.setdefault("PINGAN_DB_CONN_MAX_AGE", "0")
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    create_database(url)
    import django

    django.setup()


def freeze_heap() -> None:
    """Put what set-up made out of the cycle collector's sight, as ``pingan.wsgi`` does at
    server start: measurements then see the collector's cost as a server would."""
    gc.collect()
    gc.freeze()


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def per_backend(choice: str, child_args: Callable[[str], Sequence[str]]) -> dict[str, str]:
    """Run the benchmark once per backend (``choice``: sqlite, postgres or all), each in its
    own process — settings are read once per process: ``python -m <child_args(backend)>``.
    Each child's standard output, by backend (its standard error passes through); exits
    naming the backend if a child fails."""
    outputs = {}
    for backend in ["sqlite", "postgres"] if choice == "all" else [choice]:
        done = subprocess.run(
            [sys.executable, "-m", *child_args(backend)], cwd=REPO, stdout=subprocess.PIPE, text=True, check=False
        )
        if done.returncode != 0:
            sys.exit(f"{backend} run failed (exit {done.returncode})")
        outputs[backend] = done.stdout
    return outputs


def backend_version() -> str:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            return f"PostgreSQL {cursor.fetchone()[0]}"
    import sqlite3

    return f"SQLite {sqlite3.sqlite_version}"


# --- Timing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """Wall-clock times of repeated runs, in milliseconds."""

    samples: tuple[float, ...]

    @property
    def p50(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        return percentile(self.samples, 95)

    @property
    def min(self) -> float:
        return min(self.samples)

    @property
    def max(self) -> float:
        return max(self.samples)

    def __len__(self) -> int:
        return len(self.samples)


def percentile(samples: Sequence[float], pct: float) -> float:
    """Linear-interpolated percentile (the same as numpy's default)."""
    ordered = sorted(samples)
    if not ordered:
        raise ValueError("no samples")
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def measure(function: Callable[[], Any], *, repeat: int = 30, warmup: int = 3) -> tuple[Timing, Any]:
    """Run ``function`` ``warmup`` times untimed, then ``repeat`` times timed; returns the
    timings and the last result."""
    result = None
    for _ in range(warmup):
        result = function()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        samples.append((time.perf_counter() - started) * 1000)
    return Timing(tuple(samples)), result


def ms(value: float) -> str:
    """Milliseconds, with the precision that matters at that size."""
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


# --- Output ------------------------------------------------------------------------------


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(h) for h in headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


class Progress:
    """A one-line progress report on stderr (tqdm, when a terminal or asked for)."""

    def __init__(self, total: int, desc: str, *, enabled: bool = True) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total, desc=desc, unit="row", unit_scale=True, disable=not enabled, file=sys.stderr)

    def update(self, count: int) -> None:
        self.bar.update(count)

    def close(self) -> None:
        self.bar.close()
