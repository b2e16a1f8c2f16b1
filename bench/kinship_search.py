"""Kinship search: trio and duo queries against N profiles of L loci on one pinned core.

Target (issue 4): one trio or duo query against 10 million profiles of 20 loci in ≤ 1 s on one
core (aim 0.3 s), ≤ 64 bytes per profile. The same run measures a plain NumPy baseline — the
LR computed from allele arrays with arithmetic and ``np.where`` per locus, no lookup tables —
and checks that both give the same scores.

    .venv/bin/python -m bench.kinship_search --profiles 10000000 --loci 20
    .venv/bin/python -m bench.kinship_search --profiles 1000000 --queries 5 --baseline-queries 1

Profiles are simulated from the shipped frequency table; each query's true child is planted at a
random row and must come out as the best hit. Times are per query, wall clock and the thread's
CPU time (the second is less disturbed by other work on a shared machine).
"""

from __future__ import annotations

import os

# One core, one thread: set before NumPy loads its BLAS.
for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from bench import common  # noqa: E402
from pingan.dna.kinship import KinshipSettings, ProfileMatrix, search  # noqa: E402
from pingan.dna.kinship.engine import exclusion_powers  # noqa: E402
from pingan.dna.kinship.frequencies import CODIS_CORE, DEFAULT_SEARCH_MARKERS, default_table  # noqa: E402
from pingan.dna.kinship.search import code_alleles, genotype_codes, scores  # noqa: E402
from pingan.dna.kinship.simulate import PedigreeSimulator  # noqa: E402


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def markers_for(loci: int) -> tuple[str, ...]:
    table = default_table()
    extra = [m for m in table.markers if m not in DEFAULT_SEARCH_MARKERS]
    pool = [*CODIS_CORE, "Penta D", "Penta E", *extra]
    if loci > len(pool):
        raise SystemExit(f"the table has {len(pool)} markers")
    return tuple(pool[:loci])


def build(n: int, markers: tuple[str, ...], seed: int, block: int = 1_000_000) -> ProfileMatrix:
    """n unrelated profiles drawn from the table, straight into genotype codes."""
    rng = np.random.default_rng(seed)
    table = default_table()
    codes = np.empty((len(markers), n), dtype=np.uint16)
    for locus, marker in enumerate(markers):
        p = table.table_freqs(marker)
        cdf = np.cumsum(p / p.sum())
        for start in range(0, n, block):
            size = min(block, n - start)
            first, second = (np.minimum(np.searchsorted(cdf, rng.random(size), side="right"), len(p) - 1) for _ in "ab")
            codes[locus, start : start + size] = genotype_codes(first, second)
    return ProfileMatrix.from_codes(np.arange(n, dtype=np.int64), codes, markers=markers)


# --- The plain NumPy baseline: allele arrays, arithmetic, np.where; no lookup tables ----------


def allele_arrays(matrix: ProfileMatrix) -> list[tuple[np.ndarray, np.ndarray]]:
    """uint8 allele indices per locus (255 = not typed), decoded from the codes once."""
    arrays = []
    for locus, marker in enumerate(matrix.markers):
        lo, hi = code_alleles(len(matrix.vocabulary(marker)))
        lo8 = np.concatenate(([255], lo)).astype(np.uint8)
        hi8 = np.concatenate(([255], hi)).astype(np.uint8)
        arrays.append((lo8[matrix.codes[locus]], hi8[matrix.codes[locus]]))
    return arrays


def _freqs(marker: str) -> np.ndarray:
    f = np.ones(256)
    p = default_table().table_freqs(marker)
    f[: len(p)] = p
    return f


def _share(c: np.ndarray, x: tuple[int, int]) -> np.ndarray:
    return ((c == x[0]).astype(np.float64) + (c == x[1])) * 0.5


def baseline(mode: str, arrays: list, query: list, markers: tuple[str, ...], settings: KinshipSettings) -> np.ndarray:
    table = default_table()
    total = np.zeros(len(arrays[0][0]))
    for locus, marker in enumerate(markers):
        c1, c2 = arrays[locus]
        f = _freqs(marker)
        p1, p2 = f[c1], f[c2]
        hom = c1 == c2
        a_duo, a_trio = exclusion_powers(table, marker)
        mu = settings.mu(marker)
        index = {a: i for i, a in enumerate(table.alleles(marker))}
        people = [tuple(index[a] for a in q[marker]) for q in query]

        def duo_pi(x: tuple[int, int]) -> np.ndarray:
            t1, t2 = _share(c1, x), _share(c2, x)  # noqa: B023
            return np.where(hom, t1 / p1, (t1 * p2 + t2 * p1) / (2 * p1 * p2))  # noqa: B023

        if mode == "duo":
            pi = duo_pi(people[0])
            lr = np.where(pi == 0, mu / a_duo, pi)
        else:
            m, d = people
            num = np.where(
                hom, _share(c1, m) * _share(c1, d), _share(c1, m) * _share(c2, d) + _share(c2, m) * _share(c1, d)
            )
            lr = num / np.where(hom, p1 * p1, 2 * p1 * p2)
            either = duo_pi(m) + duo_pi(d)
            mutated = np.where(either > 0, either * mu / a_trio, (mu / a_duo) * (mu / a_trio))
            lr = np.where(num == 0, mutated, lr)
        total += np.where(c1 == 255, 0.0, np.log10(lr))
    return total


def chunked_baseline(
    mode: str, arrays: list, query: list, markers: tuple[str, ...], settings: KinshipSettings, chunk: int = 65_536
) -> np.ndarray:
    """The same arithmetic over cache-sized slices: what chunking alone buys, without tables."""
    n = len(arrays[0][0])
    out = np.empty(n)
    for start in range(0, n, chunk):
        part = [(a[start : start + chunk], b[start : start + chunk]) for a, b in arrays]
        out[start : start + chunk] = baseline(mode, part, query, markers, settings)
    return out


# --- The run ----------------------------------------------------------------------------------


def timed(function: object) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), time.thread_time()
    result = function()  # type: ignore[operator]
    return time.perf_counter() - wall, time.thread_time() - cpu, result


def p95(values: list[float]) -> float:
    return common.percentile(values, 95)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=10_000_000)
    parser.add_argument("--loci", type=int, default=20)
    parser.add_argument("--queries", type=int, default=11, help="timed queries per mode")
    parser.add_argument("--baseline-queries", type=int, default=1, help="timed baseline queries per mode")
    parser.add_argument("--chunk", type=int, default=None, help="profiles per cache-sized chunk")
    parser.add_argument("--seed", type=int, default=2021)
    args = parser.parse_args(argv)

    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    markers = markers_for(args.loci)
    settings = KinshipSettings()
    print(f"# bench.kinship_search: {args.profiles:,} profiles × {len(markers)} loci, one core", flush=True)
    print(
        common.machine_line({"cores": str(os.cpu_count()), "pinned to CPU": str(sorted(os.sched_getaffinity(0)))}),
        flush=True,
    )

    before = rss_mib()
    started = time.perf_counter()
    matrix = build(args.profiles, markers, args.seed)
    built = time.perf_counter() - started
    after = rss_mib()
    print(
        f"built in {built:.1f} s; {matrix.bytes_per_profile} bytes per profile "
        f"({matrix.nbytes / 2**20:,.0f} MiB stored); process RSS grew {after - before:,.0f} MiB "
        f"({(after - before) * 2**20 / args.profiles:.1f} bytes per profile)",
        flush=True,
    )

    sim = PedigreeSimulator(markers=markers, seed=args.seed + 1)
    n_families = args.queries + 1
    mothers, fathers = sim.founders(n_families), sim.founders(n_families)
    children = sim.child(mothers, fathers)
    rng = np.random.default_rng(args.seed + 2)
    rows = rng.choice(args.profiles, size=n_families, replace=False)
    for locus in range(len(markers)):
        matrix.codes[locus, rows] = genotype_codes(children[:, locus, 0], children[:, locus, 1])
    mother_profiles, father_profiles = sim.to_profiles(mothers), sim.to_profiles(fathers)
    kwargs = {"settings": settings} if args.chunk is None else {"settings": settings, "chunk": args.chunk}

    results = {}
    planted: dict[str, tuple[int, int]] = {}
    arrays = None
    for mode in ("trio", "duo"):
        walls, cpus = [], []
        found = best = 0
        for i in range(n_families):  # the first query warms up and is not counted
            query = [mother_profiles[i], father_profiles[i]] if mode == "trio" else [mother_profiles[i]]
            wall, cpu, hits = timed(lambda q=query, m=mode: search(matrix, m, q, threshold_lr=10_000, **kwargs))
            found += any(hit.key == rows[i] for hit in hits)
            best += bool(hits) and hits[0].key == rows[i]
            if i:
                walls.append(wall)
                cpus.append(cpu)
        if arrays is None:
            a_before = rss_mib()
            arrays = allele_arrays(matrix)
            print(f"baseline allele arrays: {rss_mib() - a_before:,.0f} MiB (uint8, 2 per locus)", flush=True)
        base_walls, base_cpus, chunked_cpus = [], [], []
        for i in range(args.baseline_queries):
            query = [mother_profiles[i], father_profiles[i]] if mode == "trio" else [mother_profiles[i]]
            wall, cpu, base = timed(lambda q=query, m=mode, a=arrays: baseline(m, a, q, markers, settings))
            base_walls.append(wall)
            base_cpus.append(cpu)
            fast = scores(matrix, mode, query, settings=settings)
            worst = float(np.max(np.abs(fast - base)))  # type: ignore[arg-type]
            assert worst < 1e-9, f"baseline and search disagree by {worst}"
            del base
            _, cpu, _ = timed(lambda q=query, m=mode, a=arrays: chunked_baseline(m, a, q, markers, settings))
            chunked_cpus.append(cpu)
        results[mode] = (walls, cpus, base_walls, base_cpus, chunked_cpus)
        planted[mode] = (found, best)

    scanned = matrix.codes.nbytes
    headers = ["mode", "median wall ms", "p95 wall ms", "median CPU ms", "p95 CPU ms",
               "GB scanned/s (wall / CPU)", "baseline wall ms", "baseline CPU ms", "baseline ÷ search (CPU)",
               "chunked baseline CPU ms", "chunked baseline ÷ search (CPU)"]  # fmt: skip
    table_rows = []
    for mode, (walls, cpus, base_walls, base_cpus, chunked_cpus) in results.items():
        median, median_cpu = statistics.median(walls), statistics.median(cpus)
        base_cpu, chunked_cpu = statistics.median(base_cpus), statistics.median(chunked_cpus)
        table_rows.append([
            mode, common.ms(median * 1000), common.ms(p95(walls) * 1000),
            common.ms(median_cpu * 1000), common.ms(p95(cpus) * 1000),
            f"{scanned / median / 1e9:.2f} / {scanned / median_cpu / 1e9:.2f}",
            common.ms(statistics.median(base_walls) * 1000), common.ms(base_cpu * 1000),
            f"{base_cpu / median_cpu:.0f}×",
            common.ms(chunked_cpu * 1000), f"{chunked_cpu / median_cpu:.1f}×",
        ])  # fmt: skip
    print()
    print(common.markdown_table(headers, table_rows))
    print(
        f"\n{args.queries} timed queries per mode (after one warm-up), {args.baseline_queries} baseline queries; "
        f"scanned {scanned / 2**20:,.0f} MiB of genotype codes per query; peak RSS {peak_rss_mib():,.0f} MiB; "
        f"load average at the end {' '.join(f'{v:.1f}' for v in os.getloadavg())}"
    )
    for mode, (found, best) in planted.items():
        print(
            f"{mode}: the planted true child reached LR ≥ 10^4 in {found} of {n_families} queries, best hit in {best}"
        )
    return 0


def peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


if __name__ == "__main__":
    raise SystemExit(main())
