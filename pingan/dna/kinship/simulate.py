"""Simulated pedigrees from a frequency table, for calibration, power and tests.

Genotypes are arrays ``[n, locus, 2]`` of allele indices into each marker's ``table.alleles()``
(−1: not typed). Founders draw both alleles from the table (frequencies renormalised to sum
to 1). A parent passes either allele with chance ½; with chance μ (per meiosis, per locus,
``KinshipSettings.mu``) the passed allele mutates one repeat up or down (equal odds): to the
allele one repeat longer or shorter with the same microvariant part if the table has it,
otherwise to the next allele of the table in that direction (at either end, the only
neighbour). The LR model's μ/A factor is thus tested against a stepwise mutation process it
does not assume.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import engine
from .engine import KinshipSettings
from .frequencies import CODIS_CORE, FrequencyTable, default_table
from .profile import Profile

#: Relationships and their people; the last two roles are the pair compared (trio: 3 roles).
RELATIONS: dict[str, tuple[str, ...]] = {
    "unrelated": ("a", "b"),
    "parent-child": ("parent", "child"),
    "trio": ("mother", "father", "child"),
    "full-sibling": ("a", "b"),
    "half-sibling": ("a", "b"),
    "grandparent": ("grandparent", "grandchild"),
    "uncle": ("uncle", "nephew"),
}
#: The LR mode that tests each relationship.
MODE_OF = {
    "parent-child": "duo",
    "trio": "trio",
    "full-sibling": "sibling",
    "half-sibling": "second-degree",
    "grandparent": "second-degree",
    "uncle": "second-degree",
}


class PedigreeSimulator:
    def __init__(
        self,
        table: FrequencyTable | None = None,
        markers: Sequence[str] = CODIS_CORE,
        *,
        seed: int | None = 0,
        settings: KinshipSettings | None = None,
        mutate: bool = True,
    ) -> None:
        self.table = table or default_table()
        self.markers = tuple(markers)
        self.settings = settings or KinshipSettings()
        self.rng = np.random.default_rng(seed)
        self.mutate = mutate
        self._cdf = []
        self._up = []
        self._down = []
        self.mu = np.array([self.settings.mu(m) for m in self.markers])
        for marker in self.markers:
            p = self.table.table_freqs(marker)
            cdf = np.cumsum(p / p.sum())
            cdf[-1] = 1.0
            self._cdf.append(cdf)
            up, down = _step_maps(self.table.alleles(marker))
            self._up.append(up)
            self._down.append(down)

    # --- people ---------------------------------------------------------------------------------

    def founders(self, n: int) -> np.ndarray:
        people = np.empty((n, len(self.markers), 2), dtype=np.int16)
        for locus, cdf in enumerate(self._cdf):
            draws = np.searchsorted(cdf, self.rng.random((n, 2)), side="right")
            people[:, locus, :] = np.minimum(draws, len(cdf) - 1)
        return _sorted_pairs(people)

    def _gamete(self, parent: np.ndarray) -> np.ndarray:
        n, n_loci, _ = parent.shape
        pick = self.rng.integers(0, 2, size=(n, n_loci))
        allele = np.take_along_axis(parent, pick[:, :, None], axis=2)[:, :, 0].astype(np.int16)
        if self.mutate:
            mutated = self.rng.random((n, n_loci)) < self.mu[None, :]
            if mutated.any():
                rows, loci = np.nonzero(mutated)
                upward = self.rng.random(len(rows)) < 0.5
                for row, locus, go_up in zip(rows, loci, upward, strict=True):
                    step = self._up[locus] if go_up else self._down[locus]
                    allele[row, locus] = step[allele[row, locus]]
        return allele

    def child(self, mother: np.ndarray, father: np.ndarray) -> np.ndarray:
        kid = np.stack([self._gamete(mother), self._gamete(father)], axis=2)
        return _sorted_pairs(kid)

    def pedigree(self, relation: str, n: int) -> dict[str, np.ndarray]:
        """``n`` independent families of a relationship: role → genotypes (see RELATIONS)."""
        if relation == "unrelated":
            return {"a": self.founders(n), "b": self.founders(n)}
        if relation == "parent-child":
            parent, other = self.founders(n), self.founders(n)
            return {"parent": parent, "child": self.child(parent, other)}
        if relation == "trio":
            mother, father = self.founders(n), self.founders(n)
            return {"mother": mother, "father": father, "child": self.child(mother, father)}
        if relation == "full-sibling":
            mother, father = self.founders(n), self.founders(n)
            return {"a": self.child(mother, father), "b": self.child(mother, father)}
        if relation == "half-sibling":
            mother, father_a, father_b = self.founders(n), self.founders(n), self.founders(n)
            return {"a": self.child(mother, father_a), "b": self.child(mother, father_b)}
        if relation == "grandparent":
            grandparent, spouse, in_law = self.founders(n), self.founders(n), self.founders(n)
            parent = self.child(grandparent, spouse)
            return {"grandparent": grandparent, "grandchild": self.child(parent, in_law)}
        if relation == "uncle":
            grandmother, grandfather, in_law = self.founders(n), self.founders(n), self.founders(n)
            parent = self.child(grandmother, grandfather)
            uncle = self.child(grandmother, grandfather)
            return {"uncle": uncle, "nephew": self.child(parent, in_law)}
        raise ValueError(f"unknown relation {relation!r}; one of {', '.join(RELATIONS)}")

    def drop_loci(self, people: np.ndarray, rate: float) -> np.ndarray:
        """A copy with each locus untyped with chance ``rate`` (a degraded sample)."""
        out = people.copy()
        out[self.rng.random(people.shape[:2]) < rate] = -1
        return out

    # --- conversions ----------------------------------------------------------------------------

    def to_profiles(self, people: np.ndarray) -> list[Profile]:
        alleles = [self.table.alleles(marker) for marker in self.markers]
        profiles = []
        for person in people:
            loci = {}
            for locus, (i, j) in enumerate(person):
                if i >= 0 and j >= 0:
                    loci[self.markers[locus]] = (alleles[locus][i], alleles[locus][j])
            profiles.append(Profile(loci))
        return profiles


def _sorted_pairs(people: np.ndarray) -> np.ndarray:
    return np.sort(people, axis=2)


def _step_maps(alleles: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Index of the allele one repeat up and one repeat down from each allele."""
    index = {allele: i for i, allele in enumerate(alleles)}
    last = len(alleles) - 1
    up = np.empty(len(alleles), dtype=np.int16)
    down = np.empty(len(alleles), dtype=np.int16)
    for i, allele in enumerate(alleles):
        whole, _, part = allele.partition(".")
        suffix = f".{part}" if part else ""
        above, below = f"{int(whole) + 1}{suffix}", f"{int(whole) - 1}{suffix}"
        up[i] = index.get(above, i + 1 if i < last else i - 1)
        down[i] = index.get(below, i - 1 if i > 0 else i + 1)
    if len(alleles) == 1:
        up[:] = down[:] = 0
    return up, down


def pair_log10_lrs(
    mode: str,
    query: Sequence[np.ndarray],
    other: np.ndarray,
    *,
    table: FrequencyTable | None = None,
    markers: Sequence[str] = CODIS_CORE,
    settings: KinshipSettings | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(combined log10 LR, inconsistent loci) of many simulated comparisons at once, row by row:
    ``query`` = [parent], [mother, father] or [person], each ``[n, locus, 2]``, against ``other``.
    Loci untyped in anyone of a row are skipped (a trio keeps a locus its child and one parent
    type), as in ``engine.kinship``."""
    table = table or default_table()
    settings = settings or KinshipSettings()
    n = other.shape[0]
    total = np.zeros(n)
    inconsistent = np.zeros(n, dtype=np.int64)
    for locus, marker in enumerate(markers):
        f = table.table_freqs(marker)
        params = engine.locus_params(table, marker, settings)
        y1, y2 = other[:, locus, 0].astype(np.int64), other[:, locus, 1].astype(np.int64)
        typed = [(person[:, locus, 0] >= 0) for person in query]
        child_typed = y1 >= 0
        safe = [
            np.where(t[:, None], person[:, locus, :], 0).astype(np.int64)
            for t, person in zip(typed, query, strict=True)
        ]
        y1s, y2s = np.where(child_typed, y1, 0), np.where(child_typed, y2, 0)
        if mode == "trio":
            both = typed[0] & typed[1] & child_typed
            only = [typed[k] & ~typed[1 - k] & child_typed for k in (0, 1)]
            lr, bad = engine.locus_lrs(
                mode, [(safe[0][:, 0], safe[0][:, 1]), (safe[1][:, 0], safe[1][:, 1])], y1s, y2s, f, params
            )
            lr = np.where(both, lr, 1.0)
            bad = bad & both
            for k in (0, 1):
                if only[k].any():
                    duo_lr, duo_bad = engine.locus_lrs("duo", [(safe[k][:, 0], safe[k][:, 1])], y1s, y2s, f, params)
                    lr = np.where(only[k], duo_lr, lr)
                    bad = bad | (duo_bad & only[k])
        else:
            used = typed[0] & child_typed
            lr, bad = engine.locus_lrs(mode, [(safe[0][:, 0], safe[0][:, 1])], y1s, y2s, f, params)
            lr = np.where(used, lr, 1.0)
            bad = bad & used
        total += np.log10(lr)
        inconsistent += bad
    return total, inconsistent


def simulate_log10_lrs(
    relation: str,
    n: int,
    *,
    table: FrequencyTable | None = None,
    markers: Sequence[str] = CODIS_CORE,
    settings: KinshipSettings | None = None,
    seed: int = 0,
    mode: str | None = None,
    mutate: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Simulate ``n`` families of ``relation`` and score each with ``mode`` (by default the mode
    that tests that relation)."""
    simulator = PedigreeSimulator(table, markers, seed=seed, settings=settings, mutate=mutate)
    family = simulator.pedigree(relation, n)
    mode = mode or MODE_OF[relation]
    roles = RELATIONS[relation]
    people = [family[role] for role in roles]
    query = people[:-1]
    if mode != "trio":
        query = query[-1:]
    return pair_log10_lrs(mode, query, people[-1], table=simulator.table, markers=markers, settings=simulator.settings)
