"""Kinship likelihood ratios, per locus and combined (the formulas the search also uses).

Every formula is written once, vectorised over the *other* person's genotypes, so the same code
gives one pair's LR (an array of length one) and a search query's lookup table (every genotype
of a locus at once). ``reference.py`` is an independent, loop-per-locus implementation the tests
hold this one to.

Per locus, with p the allele frequencies of the table (floored, see ``frequencies``) and
t_X(a) ∈ {0, ½, 1} the share of X's alleles equal to a:

- **duo** (parent X, child Y = y1y2), the paternity index
  PI = [t_X(y1)·p_y2 + t_X(y2)·p_y1] / (2·p_y1·p_y2), homozygous child PI = t_X(y)/p_y;
- **trio** (alleged parents M, F; child C = c1c2)
  LR = [t_M(c1)t_F(c2) + t_M(c2)t_F(c1)] / (2·p_c1·p_c2), homozygous LR = t_M(c)t_F(c)/p_c²;
  a locus where one alleged parent is untyped is the other parent's duo;
- **sibling** and **second-degree**, by IBD sharing: LR = k0 + k1·PI + k2·𝟙[X=Y]/P(Y) with
  (k0, k1, k2) = (¼, ½, ¼) for full siblings and (½, ½, 0) for half siblings, grandparent–grandchild
  and uncle/aunt–nephew/niece.

**Mutation.** A trio or duo locus where the alleles cannot have been passed on (LR = 0) is
*inconsistent*. It never excludes by itself: it gets Brenner's factor μ/A, μ the locus's mutation
rate per meiosis (default 0.002, per locus in ``KinshipSettings``) and A the locus's mean exclusion
power, motherless A₁ for a duo, A₂ with the other parent known for a trio:

- duo: LR = μ/A₁;
- trio: LR = (PI_M + PI_F)·μ/A₂ (one of the two transmissions mutated; PI_X the duo index of
  parent X), or (μ/A₁)·(μ/A₂) when neither parent shares an allele with the child.

Three or more inconsistent loci in a trio or duo are reported as ``likely_exclusion`` (Chinese
practice: ≥3 inconsistent loci exclude).

**θ (off by default).** With ``theta > 0`` allele probabilities are the Balding–Nichols sampling
probabilities given the alleles already seen, (m·θ + (1−θ)·p)/(1 + (n−1)·θ) for an allele seen m
times among n (NRC II's 4.10 is this formula for a single genotype). With θ = 0 it is p, and every
LR above is the textbook one.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from .frequencies import FrequencyTable, default_table
from .profile import Profile

MODES = ("trio", "duo", "sibling", "second-degree")
PARENTAGE_MODES = ("trio", "duo")
#: (k0, k1, k2): probabilities that two relatives share 0, 1, 2 alleles identical by descent.
IBD = {"duo": (0.0, 1.0, 0.0), "sibling": (0.25, 0.5, 0.25), "second-degree": (0.5, 0.5, 0.0)}
DEFAULT_MUTATION_RATE = 0.002
DEFAULT_THRESHOLD_LR = 10_000.0
DEFAULT_EXCLUSION_LOCI = 3


@dataclass(frozen=True)
class KinshipSettings:
    """What an examiner may change; ``KinshipSettings()`` is the documented default.

    ``mutation_rate`` is μ per meiosis, one number for every locus or a mapping marker → μ
    (markers it does not name keep the default 0.002). μ must be > 0: a mutation is never an
    automatic exclusion. ``theta`` is the substructure correction, 0 (off) by default.
    ``threshold_lr``: the combined LR that supports the relationship (10,000, Chinese parentage
    practice). ``exclusion_loci``: inconsistent loci from which a trio/duo is a likely exclusion.
    """

    mutation_rate: float | Mapping[str, float] = DEFAULT_MUTATION_RATE
    theta: float = 0.0
    exclusion_loci: int = DEFAULT_EXCLUSION_LOCI
    threshold_lr: float = DEFAULT_THRESHOLD_LR
    _rates: tuple[tuple[str, float], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.mutation_rate, Mapping):
            rates = tuple(sorted((str(k), float(v)) for k, v in self.mutation_rate.items()))
        else:
            rates = (("*", float(self.mutation_rate)),)
        for marker, rate in rates:
            if not 0 < rate < 1:
                raise ValueError(f"mutation rate of {marker} must be in (0, 1), got {rate}")
        if not 0 <= self.theta < 0.5:
            raise ValueError(f"theta must be in [0, 0.5), got {self.theta}")
        if self.exclusion_loci < 1:
            raise ValueError("exclusion_loci must be at least 1")
        if not self.threshold_lr > 0:
            raise ValueError("threshold_lr must be positive")
        object.__setattr__(self, "_rates", rates)

    def __hash__(self) -> int:
        return hash((self._rates, self.theta, self.exclusion_loci, self.threshold_lr))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, KinshipSettings):
            return NotImplemented
        return (self._rates, self.theta, self.exclusion_loci, self.threshold_lr) == (
            other._rates,
            other.theta,
            other.exclusion_loci,
            other.threshold_lr,
        )

    def mu(self, marker: str) -> float:
        """μ of a marker."""
        rates = dict(self._rates)
        return rates.get(marker, rates.get("*", DEFAULT_MUTATION_RATE))


@dataclass(frozen=True)
class KinshipResult:
    """One comparison: the LR per locus (``loci``, marker → LR) and combined (the product, summed
    in log10). ``inconsistent_loci`` are trio/duo loci scored with the mutation factor."""

    mode: str
    combined_lr: float
    log10_lr: float
    loci: dict[str, float]
    inconsistent_loci: list[str]
    skipped_markers: list[str]
    frequencies: str
    likely_exclusion: bool
    threshold_lr: float = DEFAULT_THRESHOLD_LR

    @property
    def supported(self) -> bool:
        """The combined LR reaches the threshold and the loci do not point to an exclusion."""
        return self.combined_lr >= self.threshold_lr and not self.likely_exclusion

    @property
    def verdict(self) -> str:
        """``supported``, ``likely_exclusion`` or ``inconclusive``."""
        if self.likely_exclusion:
            return "likely_exclusion"
        return "supported" if self.supported else "inconclusive"

    def to_json(self) -> dict[str, Any]:
        """The ``kinship --json`` shape."""
        return {
            "combined_lr": self.combined_lr,
            "loci": dict(self.loci),
            "inconsistent_loci": list(self.inconsistent_loci),
            "frequencies": self.frequencies,
            "skipped_markers": list(self.skipped_markers),
        }


# --- Exclusion powers (for the mutation factor) ----------------------------------------------


def exclusion_power_duo(p: np.ndarray) -> float:
    """A₁: the chance that a random person shares no allele with a random child,
    Σ_C P(C)·(1 − Σ_{a∈C} p_a)² over the child's genotypes C."""
    p = np.asarray(p, dtype=np.float64)
    pair = np.outer(p, p)  # ordered allele pairs: a heterozygote appears twice, as it should
    shared = p[:, None] + p[None, :]
    np.fill_diagonal(shared, p)
    return float((pair * (1.0 - shared) ** 2).sum())


def exclusion_power_trio(p: np.ndarray) -> float:
    """A₂: the chance that a random person is excluded as the second parent of a child whose
    first parent is known: mother M = ij (ordered), transmitted allele m ∈ {i, j}, the other
    parent's allele x; the obligate alleles are x, and m too when x is also in M."""
    p = np.asarray(p, dtype=np.float64)
    v = len(p)
    i = np.arange(v)[:, None, None]
    j = np.arange(v)[None, :, None]
    x = np.arange(v)[None, None, :]
    weight = p[:, None, None] * p[None, :, None] * p[None, None, :] * 0.5
    total = 0.0
    for m in (i, j):
        x_in_mother = (x == i) | (x == j)
        obligate = p[x] + np.where(x_in_mother & (m != x), p[m], 0.0)
        total += float((weight * (1.0 - obligate) ** 2).sum())
    return total


@lru_cache(maxsize=256)
def exclusion_powers(table: FrequencyTable, marker: str) -> tuple[float, float]:
    """(A₁ duo, A₂ trio) of a marker, over the table's alleles."""
    p = table.table_freqs(marker)
    return exclusion_power_duo(p), exclusion_power_trio(p)


# --- The per-locus formulas, vectorised over the other person's genotypes -------------------


def _draw(p: np.ndarray, seen_count: Any, n_seen: int, theta: float) -> np.ndarray:
    """Balding–Nichols: the probability of the next allele, seen ``seen_count`` times among
    ``n_seen`` alleles already drawn. With θ = 0 it is p."""
    if theta == 0.0:
        return p
    return (seen_count * theta + (1.0 - theta) * p) / (1.0 + (n_seen - 1) * theta)


def _count(allele: Any, *genotype: Any) -> Any:
    total = 0
    for other in genotype:
        total = total + (other == allele)
    return np.asarray(total, dtype=np.float64)


def pair_ratios(
    x: tuple[int, int], y1: np.ndarray, y2: np.ndarray, f: np.ndarray, theta: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """(R1, R2) of person Y (allele indices y1, y2, arrays) given person X (indices or arrays of
    the same shape, elementwise):
    R1 = P(Y | X, one allele IBD)/P(Y | X unrelated) — the duo PI — and
    R2 = 𝟙[X = Y]/P(Y | X unrelated)."""
    x1, x2 = x
    p1, p2 = f[y1], f[y2]
    hom = y1 == y2
    m1 = _count(y1, x1, x2)
    m2 = _count(y2, x1, x2)
    d1 = _draw(p1, m1, 2, theta)
    d2 = _draw(p2, m2, 2, theta)
    d2_after_1 = _draw(p2, m2 + hom, 3, theta)
    unrelated = np.where(hom, d1 * d2_after_1, 2.0 * d1 * d2_after_1)
    t1, t2 = m1 * 0.5, m2 * 0.5
    one_ibd = np.where(hom, t1 * d1, t1 * d2 + t2 * d1)
    lo, hi = np.minimum(x1, x2), np.maximum(x1, x2)
    same = ((y1 == lo) & (y2 == hi)) | ((y1 == hi) & (y2 == lo))
    return one_ibd / unrelated, same / unrelated


def trio_ratio(
    mother: tuple[int, int], father: tuple[int, int], c1: np.ndarray, c2: np.ndarray, f: np.ndarray, theta: float = 0.0
) -> np.ndarray:
    """P(C | M, F parents)/P(C | unrelated) for child genotypes (c1, c2)."""
    m1, m2 = mother
    f1, f2 = father
    hom = c1 == c2
    tm1, tm2 = _count(c1, m1, m2) * 0.5, _count(c2, m1, m2) * 0.5
    tf1, tf2 = _count(c1, f1, f2) * 0.5, _count(c2, f1, f2) * 0.5
    transmitted = np.where(hom, tm1 * tf1, tm1 * tf2 + tm2 * tf1)
    d1 = _draw(f[c1], _count(c1, m1, m2, f1, f2), 4, theta)
    d2 = _draw(f[c2], _count(c2, m1, m2, f1, f2) + hom, 5, theta)
    unrelated = np.where(hom, d1 * d2, 2.0 * d1 * d2)
    return transmitted / unrelated


@dataclass(frozen=True)
class LocusParams:
    """What one locus's formulas need besides the genotypes."""

    mu: float
    a_duo: float
    a_trio: float
    theta: float = 0.0


def locus_lrs(
    mode: str,
    query: Sequence[tuple[int, int] | None],
    y1: np.ndarray,
    y2: np.ndarray,
    f: np.ndarray,
    params: LocusParams,
) -> tuple[np.ndarray, np.ndarray]:
    """LR and inconsistency of every genotype (y1, y2) of the other person (the child in a trio)
    at one locus, given the query person(s) as allele indices into ``f``.

    ``query``: [x] for duo/sibling/second-degree; [mother, father] for a trio, where one parent
    may be None (untyped at this locus: the locus is the other parent's duo).
    """
    theta = params.theta
    y1 = np.asarray(y1)
    y2 = np.asarray(y2)
    if mode == "trio":
        mother, father = query
        if mother is None or father is None:
            parent = mother if mother is not None else father
            if parent is None:
                raise ValueError("a trio locus needs at least one typed parent")
            return locus_lrs("duo", [parent], y1, y2, f, params)
        lr = trio_ratio(mother, father, y1, y2, f, theta)
        inconsistent = lr == 0.0
        if inconsistent.any():
            pi_m, _ = pair_ratios(mother, y1, y2, f, theta)
            pi_f, _ = pair_ratios(father, y1, y2, f, theta)
            one = (pi_m + pi_f) * (params.mu / params.a_trio)
            both = (params.mu / params.a_duo) * (params.mu / params.a_trio)
            lr = np.where(inconsistent, np.where(pi_m + pi_f > 0, one, both), lr)
        return lr, inconsistent
    if mode not in IBD:
        raise ValueError(f"unknown mode {mode!r}; one of {', '.join(MODES)}")
    (x,) = query
    if x is None:
        raise ValueError("the query person is not typed at this locus")
    r1, r2 = pair_ratios(x, y1, y2, f, theta)
    if mode == "duo":
        inconsistent = r1 == 0.0
        return np.where(inconsistent, params.mu / params.a_duo, r1), inconsistent
    k0, k1, k2 = IBD[mode]
    return k0 + k1 * r1 + k2 * r2, np.zeros(np.shape(r1), dtype=bool)


def locus_params(table: FrequencyTable, marker: str, settings: KinshipSettings) -> LocusParams:
    a_duo, a_trio = exclusion_powers(table, marker)
    return LocusParams(mu=settings.mu(marker), a_duo=a_duo, a_trio=a_trio, theta=settings.theta)


def combined_from_log10(log10_lr: float) -> float:
    """10^x, capped at the largest float (a 40-locus trio stays far below) so it stays JSON."""
    return sys.float_info.max if log10_lr > 308 else 10.0**log10_lr


# --- One comparison --------------------------------------------------------------------------


def _roles(mode: str, a: Profile, b: Profile, c: Profile | None) -> tuple[list[Profile], Profile]:
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; one of {', '.join(MODES)}")
    if mode == "trio":
        if c is None:
            raise ValueError("a trio needs c, the child")
        return [a, b], c
    if c is not None:
        raise ValueError(f"{mode} compares two people, a and b; c is only for a trio")
    return [a], b


def kinship(
    mode: str,
    a: Profile,
    b: Profile,
    c: Profile | None = None,
    *,
    table: FrequencyTable | None = None,
    settings: KinshipSettings | None = None,
) -> KinshipResult:
    """Compare profiles: duo a = alleged parent, b = child; trio a, b = alleged parents, c = child;
    sibling and second-degree a, b. Markers typed in only some of them are skipped and listed
    (in a trio a locus where one parent is untyped counts as the other parent's duo)."""
    table = table or default_table()
    settings = settings or KinshipSettings()
    query, other = _roles(mode, a, b, c)
    people = [*query, other]
    typed_anywhere = {marker for person in people for marker in person}
    loci: dict[str, float] = {}
    inconsistent_loci: list[str] = []
    skipped: list[str] = []
    log10_total = 0.0
    order = {marker: index for index, marker in enumerate(table.markers)}
    for marker in sorted(typed_anywhere, key=lambda m: (order.get(m, len(order)), m)):
        if marker not in order:
            raise ValueError(f"marker {marker} is not in the frequency table {table.name}")
        genotypes = [person.get(marker) for person in query]
        child = other.get(marker)
        if child is None or all(g is None for g in genotypes) or (mode != "trio" and None in genotypes):
            skipped.append(marker)
            continue
        vocab = list(table.alleles(marker))
        index = {allele: i for i, allele in enumerate(vocab)}
        for genotype in [*genotypes, child]:
            for allele in genotype or ():
                if allele not in index:
                    index[allele] = len(vocab)
                    vocab.append(allele)
        f = table.freq_array(marker, vocab)
        q = [None if g is None else (index[g[0]], index[g[1]]) for g in genotypes]
        y1, y2 = sorted((index[child[0]], index[child[1]]))
        lr, bad = locus_lrs(mode, q, np.array([y1]), np.array([y2]), f, locus_params(table, marker, settings))
        value = float(lr[0])
        loci[marker] = value
        log10_total += math.log10(value)
        if bool(bad[0]):
            inconsistent_loci.append(marker)
    likely_exclusion = mode in PARENTAGE_MODES and len(inconsistent_loci) >= settings.exclusion_loci
    return KinshipResult(
        mode=mode,
        combined_lr=combined_from_log10(log10_total),
        log10_lr=log10_total,
        loci=loci,
        inconsistent_loci=inconsistent_loci,
        skipped_markers=skipped,
        frequencies=table.name,
        likely_exclusion=likely_exclusion,
        threshold_lr=settings.threshold_lr,
    )
