"""Kinship calibration: false hits per million unrelated comparisons and true relatives found.

For thresholds 10^3, 10^4 and 10^6 and each mode (trio, duo, sibling, second-degree), on the
20 CODIS core loci, with pedigrees simulated from the shipped frequency table:

- **false hits per million**: a database of unrelated people is searched with the fast search
  (``search.scores``) by unrelated queries (a pair of parents for a trio, one person otherwise);
  ``queries × database`` comparisons per mode;
- **true relatives found**: simulated true relatives (trio child, parent–child, full siblings,
  half siblings, grandparent–grandchild, uncle–nephew) with mutation at the default rate
  (μ = 0.002 per meiosis, stepwise), scored with the LR model (μ/A at inconsistent loci);
  the share at or above each threshold, and the share a ≥3-inconsistent-loci rule would exclude.

A sample of true pairs is re-scored with the slow reference implementation as a check.

    .venv/bin/python -m bench.kinship_calibration                   # 10^6 database × 100 queries
    .venv/bin/python -m bench.kinship_calibration --database 200000 --queries 20 --true 2000
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from bench import common  # noqa: E402
from pingan.dna.kinship import KinshipSettings, ProfileMatrix  # noqa: E402
from pingan.dna.kinship.frequencies import CODIS_CORE  # noqa: E402
from pingan.dna.kinship.reference import reference_kinship  # noqa: E402
from pingan.dna.kinship.search import genotype_codes, scores  # noqa: E402
from pingan.dna.kinship.simulate import MODE_OF, RELATIONS, PedigreeSimulator, pair_log10_lrs  # noqa: E402

THRESHOLDS = (1e3, 1e4, 1e6)
MODES = ("trio", "duo", "sibling", "second-degree")
TRUE_RELATIONS = {
    "trio": ["trio"],
    "duo": ["parent-child"],
    "sibling": ["full-sibling"],
    "second-degree": ["half-sibling", "grandparent", "uncle"],
}


def false_hits(
    matrix: ProfileMatrix, sim: PedigreeSimulator, mode: str, queries: int, settings: KinshipSettings
) -> list[int]:
    counts = [0 for _ in THRESHOLDS]
    cuts = [math.log10(t) for t in THRESHOLDS]
    people = sim.to_profiles(sim.founders(queries * (2 if mode == "trio" else 1)))
    for i in range(queries):
        query = people[2 * i : 2 * i + 2] if mode == "trio" else [people[i]]
        found = scores(matrix, mode, query, settings=settings)
        for k, cut in enumerate(cuts):
            counts[k] += int(np.count_nonzero(found >= cut))
    return counts


def true_relatives(
    relation: str, n: int, seed: int, settings: KinshipSettings, check: int
) -> tuple[np.ndarray, np.ndarray, float]:
    sim = PedigreeSimulator(markers=CODIS_CORE, seed=seed, settings=settings)
    family = sim.pedigree(relation, n)
    mode = MODE_OF[relation]
    people = [family[role] for role in RELATIONS[relation]]
    query = people[:-1] if mode == "trio" else people[-2:-1]
    found, inconsistent = pair_log10_lrs(mode, query, people[-1], markers=CODIS_CORE, settings=settings)
    worst = 0.0
    if check:
        profiles = [sim.to_profiles(person[:check]) for person in [*query, people[-1]]]
        for row in range(check):
            ref = reference_kinship(mode, *(p[row] for p in profiles), settings=settings)
            worst = max(worst, abs(ref.log10_lr - found[row]))
    return found, inconsistent, worst


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", type=int, default=1_000_000, help="unrelated profiles searched")
    parser.add_argument("--queries", type=int, default=100, help="unrelated queries per mode")
    parser.add_argument("--true", type=int, default=10_000, help="true relatives simulated per relationship")
    parser.add_argument("--check", type=int, default=25, help="true pairs re-scored by the reference")
    parser.add_argument("--seed", type=int, default=2021)
    args = parser.parse_args(argv)
    settings = KinshipSettings()
    started = time.perf_counter()
    print(f"# bench.kinship_calibration: {len(CODIS_CORE)} CODIS core loci, μ = {settings.mu('*')}, θ = 0", flush=True)
    # nproc obeys OMP_NUM_THREADS, set to 1 above: count the cores directly.
    print(common.machine_line({"cores": str(os.cpu_count())}), flush=True)

    sim = PedigreeSimulator(markers=CODIS_CORE, seed=args.seed, settings=settings)
    codes = np.empty((len(CODIS_CORE), args.database), dtype=np.uint16)
    block = 500_000
    for start in range(0, args.database, block):
        people = sim.founders(min(block, args.database - start))
        for locus in range(len(CODIS_CORE)):
            codes[locus, start : start + len(people)] = genotype_codes(people[:, locus, 0], people[:, locus, 1])
    matrix = ProfileMatrix.from_codes(np.arange(args.database), codes, markers=CODIS_CORE)
    comparisons = args.database * args.queries
    print(f"database of {args.database:,} unrelated profiles; {comparisons:,} comparisons per mode", flush=True)

    rows = []
    worst_check = 0.0
    for number, mode in enumerate(MODES):
        counts = false_hits(matrix, sim, mode, args.queries, settings)
        per_million = [count / comparisons * 1e6 for count in counts]
        for offset, relation in enumerate(TRUE_RELATIONS[mode]):
            found, inconsistent, worst = true_relatives(
                relation, args.true, args.seed + 10 * number + offset + 1, settings, args.check
            )
            worst_check = max(worst_check, worst)
            shares = [float((found >= math.log10(t)).mean()) for t in THRESHOLDS]
            excluded = float((inconsistent >= settings.exclusion_loci).mean()) if mode in ("trio", "duo") else None
            rows.append([
                mode, relation.replace("-", " "),
                *(f"{value:.3g}" if value else f"0 (< {1e6 / comparisons:g})" for value in per_million),
                *(f"{100 * share:.1f} %" for share in shares),
                f"{np.median(found):.1f}",
                "—" if excluded is None else f"{100 * excluded:.2f} %",
            ])  # fmt: skip
        print(f"{mode}: done ({time.perf_counter() - started:.0f} s)", flush=True)

    headers = [
        "mode", "true relation",
        "false hits /10⁶ at 10³", "at 10⁴", "at 10⁶",
        "true found at 10³", "at 10⁴", "at 10⁶",
        "median log10 LR (true)", "true with ≥3 inconsistent loci",
    ]  # fmt: skip
    print()
    print(common.markdown_table(headers, rows))
    bound = ", ".join(f"{1e6 / t:g} at {t:g}" for t in THRESHOLDS)
    print(
        f"\nBound N/T per million comparisons: {bound}. {comparisons:,} unrelated comparisons per mode "
        f"({args.queries} queries × {args.database:,}); {args.true:,} true pairs per relationship; "
        f"reference check on {args.check} true pairs per relationship: largest |Δ log10 LR| = {worst_check:.1e}. "
        f"Run time {time.perf_counter() - started:.0f} s."
    )
    if worst_check > 1e-9:
        print("REFERENCE MISMATCH", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
