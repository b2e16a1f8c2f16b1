"""How often the trio pre-screen would miss a true child: ``python -m pingan.dna.prescreen``.

A new person's profile reaches a family's trio likelihood ratio only through the duo scan
of the lineal relatives (``screening.search_person``): the family is evaluated as a trio when
either parent's duo LR reaches ``trio_prescreen_lr`` (catalog/dna.yaml). This simulates true
trios from the shipped frequency table (with mutation) and counts how often one parent, and
both parents, fall below that floor. Results are in docs/dna.md."""

from __future__ import annotations

import argparse
import math

from pingan.dna.kinship import default_table
from pingan.dna.kinship.frequencies import CODIS_CORE, DEFAULT_SEARCH_MARKERS
from pingan.dna.kinship.simulate import PedigreeSimulator, pair_log10_lrs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="simulated trios per marker set")
    parser.add_argument("--floor", type=float, default=10.0, help="the pre-screen floor (duo LR)")
    parser.add_argument("--seed", type=int, default=2021)
    args = parser.parse_args()
    cut = math.log10(args.floor)
    for markers, name in ((DEFAULT_SEARCH_MARKERS, "CODIS core + Penta D/E (22)"), (CODIS_CORE, "CODIS core (20)")):
        sim = PedigreeSimulator(default_table(), markers, seed=args.seed)
        family = sim.pedigree("trio", args.n)
        scores = [
            pair_log10_lrs(
                "duo", [family[parent]], family["child"], table=sim.table, markers=markers, settings=sim.settings
            )[0]
            for parent in ("mother", "father")
        ]
        one = float((scores[0] < cut).mean())
        both = float(((scores[0] < cut) & (scores[1] < cut)).mean())
        print(f"{name}: {args.n} trios; one parent's duo LR < {args.floor:g}: {one:.2e}; both: {both:.2e}")


if __name__ == "__main__":
    main()
