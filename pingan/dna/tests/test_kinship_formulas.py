"""Textbook cases, computed by hand from the shipped table's frequencies.

The expected values read the p's straight from ``data/str-frequencies/east-asia.csv`` and
apply the closed forms (anchor "missing persons" (d); Brenner's μ/A; Jamieson & Taylor's
exclusion powers) — never the engine.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from pingan.dna.kinship import KinshipSettings, kinship, parse_profile
from pingan.dna.kinship.engine import exclusion_powers
from pingan.dna.kinship.frequencies import default_table
from pingan.dna.kinship.reference import brute_exclusion_duo, brute_exclusion_trio, reference_kinship

CSV = Path(__file__).resolve().parents[3] / "data" / "str-frequencies" / "east-asia.csv"
with CSV.open(encoding="utf-8") as _handle:
    FREQ = {(row["marker"], row["allele"]): float(row["frequency"]) for row in csv.DictReader(_handle)}

MU = 0.002  # the documented default mutation rate


def p(marker: str, allele: str) -> float:
    return FREQ[(marker, allele)]


def sums(marker: str) -> dict[int, float]:
    values = [f for (m, _), f in FREQ.items() if m == marker]
    return {k: sum(v**k for v in values) for k in range(1, 6)}


def a_duo(marker: str) -> float:
    """Jamieson & Taylor (1997), mean exclusion chance without the mother."""
    s = sums(marker)
    return 1 - 4 * s[2] + 2 * s[2] ** 2 + 4 * s[3] - 3 * s[4]


def a_trio(marker: str) -> float:
    """The classic mean exclusion chance with the mother known (Garber; Jamieson & Taylor)."""
    s = sums(marker)
    return 1 - 2 * s[2] + s[3] + 2 * s[4] - 3 * s[5] - 2 * s[2] ** 2 + 3 * s[2] * s[3]


def one(marker: str, *alleles: str | float) -> object:
    return parse_profile({marker: list(alleles)})


def lr(mode: str, *people: object, settings: KinshipSettings | None = None) -> float:
    result = kinship(mode, *people, settings=settings)  # type: ignore[arg-type]
    (value,) = result.loci.values()
    # The slow reference agrees on every hand case too.
    ref = reference_kinship(mode, *people, settings=settings)  # type: ignore[arg-type]
    assert math.isclose(ref.log10_lr, result.log10_lr, abs_tol=1e-12)
    return value


P8, P9, P11, P12 = p("TPOX", "8"), p("TPOX", "9"), p("TPOX", "11"), p("TPOX", "12")


# --- duo: PI = [t(c1)p_c2 + t(c2)p_c1] / (2 p_c1 p_c2), homozygous child t(c)/p_c ---------


@pytest.mark.parametrize(
    ("parent", "child", "expected"),
    [
        (("8", "8"), ("8", "8"), 1 / P8),  # homozygous both: 1/p
        (("8", "8"), ("8", "11"), 1 / (2 * P8)),  # homozygous parent, heterozygous child: 1/(2p)
        (("8", "9"), ("8", "8"), 1 / (2 * P8)),  # heterozygous parent, homozygous child: 1/(2p)
        (("8", "11"), ("8", "11"), (P8 + P11) / (4 * P8 * P11)),  # same heterozygote
        (("8", "9"), ("8", "11"), 1 / (4 * P8)),  # one allele shared: 1/(4p)
        (("9", "11"), ("8", "11"), 1 / (4 * P11)),
    ],
)
def test_duo_paternity_index(parent: tuple[str, str], child: tuple[str, str], expected: float) -> None:
    assert lr("duo", one("TPOX", *parent), one("TPOX", *child)) == pytest.approx(expected, rel=1e-12)


def test_duo_is_symmetric_in_parent_and_child() -> None:
    parent, child = one("TPOX", "8", "9"), one("TPOX", "8", "11")
    assert lr("duo", parent, child) == pytest.approx(lr("duo", child, parent), rel=1e-12)


# --- trio: [t_M(c1)t_F(c2) + t_M(c2)t_F(c1)] / (2 p_c1 p_c2), homozygous t_M t_F / p² ------


@pytest.mark.parametrize(
    ("mother", "father", "child", "expected"),
    [
        (("8", "9"), ("11", "12"), ("8", "11"), (0.5 * 0.5) / (2 * P8 * P11)),
        (("8", "11"), ("8", "11"), ("8", "11"), (0.5 * 0.5 + 0.5 * 0.5) / (2 * P8 * P11)),
        (("8", "8"), ("11", "11"), ("8", "11"), 1 / (2 * P8 * P11)),
        (("8", "8"), ("8", "11"), ("8", "8"), (1 * 0.5) / P8**2),
        (("8", "9"), ("8", "12"), ("8", "8"), (0.5 * 0.5) / P8**2),
        (("8", "8"), ("8", "8"), ("8", "8"), 1 / P8**2),
    ],
)
def test_trio(mother: tuple[str, str], father: tuple[str, str], child: tuple[str, str], expected: float) -> None:
    got = lr("trio", one("TPOX", *mother), one("TPOX", *father), one("TPOX", *child))
    assert got == pytest.approx(expected, rel=1e-12)


def test_trio_locus_with_one_parent_untyped_is_that_parents_duo() -> None:
    mother = parse_profile({"TPOX": ["8", "9"], "FGA": ["22", "23"]})
    father = parse_profile({"TPOX": ["11", "12"]})
    child = parse_profile({"TPOX": ["8", "11"], "FGA": ["22", "24"]})
    result = kinship("trio", mother, father, child)
    assert result.loci["FGA"] == pytest.approx(1 / (4 * p("FGA", "22")), rel=1e-12)
    assert result.skipped_markers == []


# --- full siblings: closed forms (anchor (d)), k = (1/4, 1/2, 1/4) -------------------------


@pytest.mark.parametrize(
    ("x", "y", "expected"),
    [
        (("8", "8"), ("8", "8"), (1 + P8) ** 2 / (4 * P8**2)),  # aa/aa
        (("8", "11"), ("8", "11"), (1 + P8 + P11 + 2 * P8 * P11) / (8 * P8 * P11)),  # ab/ab
        (("8", "8"), ("8", "11"), (1 + P8) / (4 * P8)),  # aa/ab
        (("8", "9"), ("8", "11"), (1 + 2 * P8) / (8 * P8)),  # ab/ac
        (("8", "9"), ("11", "12"), 0.25),  # nothing shared
        (("9", "9"), ("11", "11"), 0.25),
    ],
)
def test_full_siblings(x: tuple[str, str], y: tuple[str, str], expected: float) -> None:
    assert lr("sibling", one("TPOX", *x), one("TPOX", *y)) == pytest.approx(expected, rel=1e-12)


# --- second degree: 1/2 + 1/2·PI, k = (1/2, 1/2, 0) ----------------------------------------


@pytest.mark.parametrize(
    ("x", "y", "expected"),
    [
        (("8", "8"), ("8", "8"), 0.5 + 0.5 / P8),
        (("8", "11"), ("8", "11"), 0.5 + 0.5 * (P8 + P11) / (4 * P8 * P11)),
        (("8", "8"), ("8", "11"), 0.5 + 0.5 / (2 * P8)),
        (("8", "9"), ("8", "11"), 0.5 + 0.5 / (4 * P8)),
        (("8", "9"), ("11", "12"), 0.5),
    ],
)
def test_second_degree(x: tuple[str, str], y: tuple[str, str], expected: float) -> None:
    assert lr("second-degree", one("TPOX", *x), one("TPOX", *y)) == pytest.approx(expected, rel=1e-12)


# --- rare, unseen, microvariant alleles ---------------------------------------------------


def test_unseen_allele_gets_the_floor() -> None:
    assert ("TPOX", "13") not in FREQ
    floor = 0.001
    assert lr("duo", one("TPOX", "13", "13"), one("TPOX", "8", "13")) == pytest.approx(1 / (2 * floor), rel=1e-12)
    assert default_table().freq("TPOX", "13") == floor


def test_microvariant_is_its_own_allele() -> None:
    p9, p93 = p("TH01", "9"), p("TH01", "9.3")
    assert p9 != p93
    assert lr("duo", one("TH01", 9.3, 9.3), one("TH01", "9", 9.3)) == pytest.approx(1 / (2 * p93), rel=1e-12)
    assert lr("duo", one("TH01", 9, 9), one("TH01", "9", "9.3")) == pytest.approx(1 / (2 * p9), rel=1e-12)


def test_rare_allele_at_the_table_minimum() -> None:
    assert p("TPOX", "14") == 0.001
    assert lr("duo", one("TPOX", "14", "14"), one("TPOX", "14", "14")) == pytest.approx(1 / 0.001, rel=1e-12)


# --- mutation: μ/A, never an exclusion --------------------------------------------------------


def test_exclusion_powers_match_the_closed_forms() -> None:
    table = default_table()
    for marker in table.markers:
        engine_duo, engine_trio = exclusion_powers(table, marker)
        assert engine_duo == pytest.approx(a_duo(marker), rel=1e-5)
        assert engine_trio == pytest.approx(a_trio(marker), rel=1e-5)
    for marker in ("TPOX", "FGA", "TH01"):
        engine_duo, engine_trio = exclusion_powers(table, marker)
        assert brute_exclusion_duo(table, marker) == pytest.approx(engine_duo, rel=1e-12)
        assert brute_exclusion_trio(table, marker) == pytest.approx(engine_trio, rel=1e-12)


def test_inconsistent_duo_locus_gets_mu_over_a() -> None:
    result = kinship("duo", one("TPOX", "9", "9"), one("TPOX", "8", "11"))
    assert result.loci["TPOX"] == pytest.approx(MU / a_duo("TPOX"), rel=1e-5)
    assert result.inconsistent_loci == ["TPOX"]
    assert result.combined_lr > 0
    assert not result.likely_exclusion


def test_inconsistent_trio_locus() -> None:
    # The father shares nothing: the mother passed 8, the father's 11 must be a mutation.
    got = lr("trio", one("TPOX", "8", "9"), one("TPOX", "12", "12"), one("TPOX", "8", "11"))
    assert got == pytest.approx(1 / (4 * P8) * MU / a_trio("TPOX"), rel=1e-5)
    # Both could have passed 8, neither has 11: either parent's allele mutated.
    got = lr("trio", one("TPOX", "8", "9"), one("TPOX", "8", "12"), one("TPOX", "8", "11"))
    assert got == pytest.approx((1 / (4 * P8) + 1 / (4 * P8)) * MU / a_trio("TPOX"), rel=1e-5)
    # Neither parent shares an allele with the child: two mutations.
    got = lr("trio", one("TPOX", "9", "9"), one("TPOX", "12", "12"), one("TPOX", "8", "11"))
    assert got == pytest.approx((MU / a_duo("TPOX")) * (MU / a_trio("TPOX")), rel=1e-5)


def test_mutation_rate_per_locus() -> None:
    settings = KinshipSettings(mutation_rate={"TPOX": 0.01})
    got = lr("duo", one("TPOX", "9", "9"), one("TPOX", "8", "11"), settings=settings)
    assert got == pytest.approx(0.01 / a_duo("TPOX"), rel=1e-5)
    assert settings.mu("FGA") == MU


def test_three_inconsistent_loci_are_a_likely_exclusion() -> None:
    parent = parse_profile({"TPOX": ["9", "9"], "TH01": ["6", "6"], "FGA": ["20", "20"], "vWA": ["14", "14"]})
    two = parse_profile({"TPOX": ["8", "11"], "TH01": ["9", "9.3"], "FGA": ["20", "22"], "vWA": ["14", "17"]})
    three = parse_profile({"TPOX": ["8", "11"], "TH01": ["9", "9.3"], "FGA": ["22", "23"], "vWA": ["14", "17"]})
    assert sorted(kinship("duo", parent, two).inconsistent_loci) == ["TH01", "TPOX"]
    assert not kinship("duo", parent, two).likely_exclusion
    result = kinship("duo", parent, three)
    assert sorted(result.inconsistent_loci) == ["FGA", "TH01", "TPOX"]
    assert result.likely_exclusion
    assert result.verdict == "likely_exclusion"
    assert kinship("duo", parent, three, settings=KinshipSettings(exclusion_loci=4)).likely_exclusion is False
    # Siblings share nothing at a locus with chance ≥ 1/4: never an inconsistency.
    assert kinship("sibling", parent, three).inconsistent_loci == []


def test_mutation_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="mutation rate"):
        KinshipSettings(mutation_rate=0)


# --- θ: Balding–Nichols (off by default) ---------------------------------------------------


def test_theta_paternity_index_homozygotes() -> None:
    theta = 0.03
    settings = KinshipSettings(theta=theta)
    # P(child aa | parent aa) / P(child aa | parent aa seen, unrelated) = 1/P(a | aaa seen).
    expected = (1 + 2 * theta) / (3 * theta + (1 - theta) * P8)
    assert lr("duo", one("TPOX", "8", "8"), one("TPOX", "8", "8"), settings=settings) == pytest.approx(
        expected, rel=1e-12
    )
    # θ lowers the LR of a shared common allele compared with the textbook 1/p.
    assert expected < 1 / P8


def test_theta_unrelated_genotype_no_shared_allele() -> None:
    theta = 0.02
    # Duo child 8/11, parent 8/9: t(8) = 1/2. Numerator ½·P(11 | 8,9 seen); denominator
    # 2·P(8 | 8,9)·P(11 | 8,9,8).
    d8 = (theta + (1 - theta) * P8) / (1 + theta)
    d11 = ((1 - theta) * P11) / (1 + theta)
    d11_after_8 = ((1 - theta) * P11) / (1 + 2 * theta)
    expected = (0.5 * d11) / (2 * d8 * d11_after_8)
    settings = KinshipSettings(theta=theta)
    assert lr("duo", one("TPOX", "8", "9"), one("TPOX", "8", "11"), settings=settings) == pytest.approx(
        expected, rel=1e-12
    )


# --- combining, missing loci ------------------------------------------------------------------


def test_combined_is_the_product_and_missing_loci_are_listed() -> None:
    parent = parse_profile({"TPOX": ["8", "8"], "FGA": ["22", "23"], "TH01": ["9", "9"]})
    child = parse_profile({"TPOX": ["8", "11"], "FGA": ["22", "24"], "vWA": ["14", "14"]})
    result = kinship("duo", parent, child)
    expected_tpox = 1 / (2 * P8)
    expected_fga = 1 / (4 * p("FGA", "22"))
    assert result.loci == pytest.approx({"TPOX": expected_tpox, "FGA": expected_fga}, rel=1e-12)
    assert result.combined_lr == pytest.approx(expected_tpox * expected_fga, rel=1e-12)
    assert result.log10_lr == pytest.approx(math.log10(expected_tpox * expected_fga), rel=1e-12)
    assert sorted(result.skipped_markers) == ["TH01", "vWA"]
    assert result.frequencies == "east-asia-v2023"


def test_default_threshold_is_ten_thousand() -> None:
    assert KinshipSettings().threshold_lr == 10_000
    parent = parse_profile({"TPOX": ["14", "14"], "Penta E": ["24", "24"]})
    child = parse_profile({"TPOX": ["14", "14"], "Penta E": ["24", "24"]})
    result = kinship("duo", parent, child)
    assert result.combined_lr == pytest.approx(1 / (0.001 * p("Penta E", "24")), rel=1e-12)
    assert result.supported
    assert result.verdict == "supported"
    weak = kinship("duo", parse_profile({"TPOX": ["8", "8"]}), parse_profile({"TPOX": ["8", "8"]}))
    assert weak.combined_lr == pytest.approx(1 / P8, rel=1e-12)
    assert not weak.supported
    assert weak.verdict == "inconclusive"
    strict = kinship("duo", parent, child, settings=KinshipSettings(threshold_lr=1e6))
    assert not strict.supported
