"""The fast engine and the vectorised search equal the slow reference on random profiles.

Random profiles mix common, rare, unseen and microvariant alleles, homozygotes and untyped
loci; settings vary θ and per-locus mutation rates. Tolerance: 1e-9 in log10.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from pingan.dna.kinship import MODES, KinshipSettings, Profile, ProfileMatrix, kinship, search
from pingan.dna.kinship.frequencies import default_table
from pingan.dna.kinship.reference import reference_kinship
from pingan.dna.kinship.search import scores

TABLE = default_table()
# Small and large allele sets, microvariants (TH01 9.3, D21S11 x.2, Penta E 17.4).
MARKERS = ("TPOX", "TH01", "FGA", "D21S11", "vWA", "Penta E")
UNSEEN = ("99", "3.1")
TOLERANCE = 1e-9


@st.composite
def genotype(draw: st.DrawFn, marker: str) -> tuple[str, str]:
    table_alleles = TABLE.alleles(marker)
    # Few alleles per draw so that relatives-like sharing is frequent, plus the table's rarest.
    choices = st.one_of(st.sampled_from(table_alleles[:4]), st.sampled_from(table_alleles), st.sampled_from(UNSEEN))
    first = draw(choices)
    second = draw(st.one_of(st.just(first), choices))
    return (first, second)


@st.composite
def profile(draw: st.DrawFn) -> Profile:
    loci = {}
    for marker in MARKERS:
        if draw(st.integers(0, 5)) > 0:  # one locus in six untyped
            loci[marker] = draw(genotype(marker))
    return Profile(loci)


kinship_settings = st.builds(
    KinshipSettings,
    mutation_rate=st.one_of(
        st.just(0.002),
        st.floats(1e-4, 0.05),
        st.dictionaries(st.sampled_from(MARKERS), st.floats(1e-4, 0.05), max_size=3),
    ),
    theta=st.one_of(st.just(0.0), st.floats(0.0, 0.1)),
)

SETTINGS = hypothesis_settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(
    mode=st.sampled_from(MODES),
    a=profile(),
    b=profile(),
    c=profile(),
    settings=kinship_settings,
)
def test_engine_equals_reference(mode: str, a: Profile, b: Profile, c: Profile, settings: KinshipSettings) -> None:
    third = c if mode == "trio" else None
    fast = kinship(mode, a, b, third, settings=settings)
    slow = reference_kinship(mode, a, b, third, settings=settings)
    assert math.isclose(fast.log10_lr, slow.log10_lr, abs_tol=TOLERANCE)
    assert fast.loci.keys() == slow.loci.keys()
    for marker, value in fast.loci.items():
        assert math.isclose(math.log10(value), math.log10(slow.loci[marker]), abs_tol=TOLERANCE)
    assert fast.inconsistent_loci == slow.inconsistent_loci
    assert sorted(fast.skipped_markers) == sorted(slow.skipped_markers)


@SETTINGS
@given(
    mode=st.sampled_from(MODES),
    query=st.lists(profile(), min_size=2, max_size=2),
    stored=st.lists(profile(), min_size=1, max_size=12),
    settings=kinship_settings,
)
def test_search_equals_reference(
    mode: str, query: list[Profile], stored: list[Profile], settings: KinshipSettings
) -> None:
    matrix = ProfileMatrix.build(enumerate(stored), markers=MARKERS)
    asked = query if mode == "trio" else query[:1]
    fast = scores(matrix, mode, asked, settings=settings)
    expected = [reference_kinship(mode, *asked, other, settings=settings) for other in stored]
    for row, key in enumerate(matrix.keys):
        assert math.isclose(fast[row], expected[int(key)].log10_lr, abs_tol=TOLERANCE)
    # search() keeps exactly those at or above the threshold, best first, with the count of
    # inconsistent loci.
    threshold = 10.0 ** float(np.median(fast))
    hits = search(matrix, mode, asked, settings=settings, threshold_lr=threshold, limit=None)
    assert [hit.log10_lr for hit in hits] == sorted((hit.log10_lr for hit in hits), reverse=True)
    assert {hit.key for hit in hits} == {
        int(k) for row, k in enumerate(matrix.keys) if fast[row] >= math.log10(threshold)
    }
    for hit in hits:
        assert math.isclose(hit.log10_lr, expected[hit.key].log10_lr, abs_tol=TOLERANCE)
        assert hit.inconsistent == len(expected[hit.key].inconsistent_loci)


@hypothesis_settings(max_examples=40, deadline=None)
@given(stored=st.lists(profile(), min_size=1, max_size=6), extra=profile())
def test_matrix_round_trips_profiles(stored: list[Profile], extra: Profile) -> None:
    matrix = ProfileMatrix.build(enumerate(stored), markers=MARKERS)
    for key, original in enumerate(stored):
        assert matrix.profile(key) == original
    matrix.add(len(stored), extra)
    assert matrix.profile(len(stored)) == extra
    assert len(matrix) == len(stored) + 1
