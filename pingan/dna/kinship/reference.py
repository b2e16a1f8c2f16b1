"""A slow, obvious kinship calculator, written apart from ``engine.py`` so each checks the other.

No shortcuts and no closed forms: a likelihood ratio is
P(genotypes | the relationship) / P(genotypes | unrelated), and each probability is a sum over
the ways the alleles could have been drawn, written as loops. An ordered draw of alleles has the
probability of drawing them one after the other from the population (p each; with θ > 0 the
Balding–Nichols probability given those drawn before). The exclusion powers in the mutation
factor are counted by brute force over every pair of genotypes.

Never used in production: it is the oracle of the property tests and of the calibration's
spot checks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from .engine import KinshipSettings
from .frequencies import FrequencyTable, default_table
from .profile import Genotype, Profile

KINSHIP_COEFFICIENTS = {
    "duo": (0.0, 1.0, 0.0),
    "sibling": (0.25, 0.5, 0.25),
    "second-degree": (0.5, 0.5, 0.0),
}


@dataclass
class ReferenceResult:
    log10_lr: float
    loci: dict[str, float] = field(default_factory=dict)
    inconsistent_loci: list[str] = field(default_factory=list)
    skipped_markers: list[str] = field(default_factory=list)


def orderings(genotype: Genotype) -> list[tuple[str, str]]:
    first, second = genotype
    if first == second:
        return [(first, second)]
    return [(first, second), (second, first)]


def draw_probability(alleles: Sequence[str], frequency: dict[str, float], theta: float) -> float:
    """The probability of drawing these alleles in this order from the population."""
    probability = 1.0
    drawn: list[str] = []
    for allele in alleles:
        if theta == 0:
            probability *= frequency[allele]
        else:
            seen = drawn.count(allele)
            probability *= (seen * theta + (1 - theta) * frequency[allele]) / (1 + (len(drawn) - 1) * theta)
        drawn.append(allele)
    return probability


def p_unrelated(genotypes: Sequence[Genotype], frequency: dict[str, float], theta: float) -> float:
    total = 0.0
    for labelled in _product([orderings(g) for g in genotypes]):
        alleles = [allele for pair in labelled for allele in pair]
        total += draw_probability(alleles, frequency, theta)
    return total


def _product(choices: list[list[tuple[str, str]]]) -> list[list[tuple[str, str]]]:
    combos: list[list[tuple[str, str]]] = [[]]
    for options in choices:
        combos = [[*combo, option] for combo in combos for option in options]
    return combos


def p_pair(x: Genotype, y: Genotype, ibd: int, frequency: dict[str, float], theta: float) -> float:
    """P(X, Y | they share ``ibd`` alleles identical by descent)."""
    total = 0.0
    for ox in orderings(x):
        for oy in orderings(y):
            if ibd == 0:
                total += draw_probability([*ox, *oy], frequency, theta)
            elif ibd == 1:
                # Y's first allele is a copy of X's first; Y's second is drawn afresh.
                if oy[0] == ox[0]:
                    total += draw_probability([ox[0], ox[1], oy[1]], frequency, theta)
            elif ibd == 2 and oy == ox:
                # Y is a copy of X, allele for allele.
                total += draw_probability(list(ox), frequency, theta)
    return total


def p_trio(mother: Genotype, father: Genotype, child: Genotype, frequency: dict[str, float], theta: float) -> float:
    """P(M, F, C | M and F are C's parents): each parent passes either allele with chance ½."""
    total = 0.0
    for om in orderings(mother):
        for of in orderings(father):
            parents = draw_probability([*om, *of], frequency, theta)
            for from_mother in om:
                for from_father in of:
                    # Either listed allele of each parent is passed with chance ½ (a homozygote's
                    # one listing names its allele twice: passed with chance 1).
                    if sorted([from_mother, from_father]) == sorted(child):
                        total += parents * 0.25
    return total


def _frequencies(table: FrequencyTable, marker: str, genotypes: Sequence[Genotype | None]) -> dict[str, float]:
    frequency = {allele: table.freq(marker, allele) for allele in table.alleles(marker)}
    for genotype in genotypes:
        for allele in genotype or ():
            frequency[allele] = table.freq(marker, allele)
    return frequency


@lru_cache(maxsize=256)
def brute_exclusion_duo(table: FrequencyTable, marker: str) -> float:
    """The chance a random person shares no allele with a random child, by counting."""
    alleles = table.alleles(marker)
    p = {a: table.freq(marker, a) for a in alleles}
    genotypes = []
    for i, a in enumerate(alleles):
        for b in alleles[i:]:
            genotypes.append(((a, b), p[a] * p[a] if a == b else 2 * p[a] * p[b]))
    excluded = 0.0
    for child, p_child in genotypes:
        for person, p_person in genotypes:
            if not set(child) & set(person):
                excluded += p_child * p_person
    return excluded


@lru_cache(maxsize=256)
def brute_exclusion_trio(table: FrequencyTable, marker: str) -> float:
    """The chance a random person is excluded as the other parent, the first being known."""
    alleles = table.alleles(marker)
    p = {a: table.freq(marker, a) for a in alleles}
    excluded = 0.0
    for i, a in enumerate(alleles):
        for b in alleles[i:]:
            p_mother = p[a] * p[a] if a == b else 2 * p[a] * p[b]
            for passed in (a, b):
                for other in alleles:
                    p_case = p_mother * 0.5 * p[other]
                    child = (passed, other)
                    # The alleles the second parent must have given: any child allele whose
                    # partner in the child the known parent could have given.
                    obligate = set()
                    for k in (0, 1):
                        if child[1 - k] in (a, b):
                            obligate.add(child[k])
                    p_not_carrier = 1 - sum(p[o] for o in obligate)
                    excluded += p_case * p_not_carrier * p_not_carrier
    return excluded


def pair_lr(mode: str, x: Genotype, y: Genotype, frequency: dict[str, float], theta: float) -> float:
    k0, k1, k2 = KINSHIP_COEFFICIENTS[mode]
    unrelated = p_pair(x, y, 0, frequency, theta)
    related = k0 * unrelated + k1 * p_pair(x, y, 1, frequency, theta) + k2 * p_pair(x, y, 2, frequency, theta)
    return related / unrelated


def locus_lr(
    mode: str,
    marker: str,
    query: Sequence[Genotype | None],
    other: Genotype,
    table: FrequencyTable,
    settings: KinshipSettings,
) -> tuple[float, bool]:
    """(LR, inconsistent) at one locus."""
    frequency = _frequencies(table, marker, [*query, other])
    theta = settings.theta
    mu = settings.mu(marker)
    if mode == "trio":
        mother, father = query
        if mother is None or father is None:
            parent = mother if mother is not None else father
            assert parent is not None
            return locus_lr("duo", marker, [parent], other, table, settings)
        unrelated = p_unrelated([mother, father, other], frequency, theta)
        lr = p_trio(mother, father, other, frequency, theta) / unrelated
        if lr > 0:
            return lr, False
        pi_mother = pair_lr("duo", mother, other, frequency, theta)
        pi_father = pair_lr("duo", father, other, frequency, theta)
        a_duo = brute_exclusion_duo(table, marker)
        a_trio = brute_exclusion_trio(table, marker)
        if pi_mother + pi_father > 0:
            return (pi_mother + pi_father) * mu / a_trio, True
        return (mu / a_duo) * (mu / a_trio), True
    (x,) = query
    assert x is not None
    lr = pair_lr(mode, x, other, frequency, theta)
    if mode == "duo" and lr == 0:
        return mu / brute_exclusion_duo(table, marker), True
    return lr, False


def reference_kinship(
    mode: str,
    a: Profile,
    b: Profile,
    c: Profile | None = None,
    *,
    table: FrequencyTable | None = None,
    settings: KinshipSettings | None = None,
) -> ReferenceResult:
    """The same contract as ``engine.kinship``, slowly."""
    table = table or default_table()
    settings = settings or KinshipSettings()
    if mode == "trio":
        assert c is not None
        query, other = [a, b], c
    else:
        query, other = [a], b
    result = ReferenceResult(log10_lr=0.0)
    for marker in table.markers:
        genotypes = [person.get(marker) for person in query]
        child = other.get(marker)
        typed = [g for g in [*genotypes, child] if g is not None]
        if not typed:
            continue
        usable = child is not None and (
            any(g is not None for g in genotypes) if mode == "trio" else all(g is not None for g in genotypes)
        )
        if not usable:
            result.skipped_markers.append(marker)
            continue
        assert child is not None
        lr, inconsistent = locus_lr(mode, marker, genotypes, child, table, settings)
        result.loci[marker] = lr
        result.log10_lr += math.log10(lr)
        if inconsistent:
            result.inconsistent_loci.append(marker)
    return result
