"""ProfileMatrix (storage, ≤ 64 bytes a profile) and the whole-database search."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from pingan.dna.kinship import MODES, FrequencyTable, Hit, ProfileMatrix, kinship, parse_profile, search
from pingan.dna.kinship.frequencies import CODIS_CORE, DEFAULT_SEARCH_MARKERS, default_table
from pingan.dna.kinship.reference import reference_kinship
from pingan.dna.kinship.search import scores
from pingan.dna.kinship.simulate import PedigreeSimulator


@pytest.fixture(scope="module")
def family() -> dict[str, object]:
    """5,000 unrelated people and one family planted among them (keys 9001…)."""
    sim = PedigreeSimulator(markers=CODIS_CORE, seed=7)
    crowd = sim.founders(5000)
    mother, father = sim.founders(1), sim.founders(1)
    child = sim.child(mother, father)
    sibling = sim.child(mother, father)
    asking = sim.child(mother, father)  # a third child, who searches (not stored)
    people = np.concatenate([crowd, child, mother, sibling])
    keys = np.concatenate([np.arange(5000), [9001, 9002, 9003]])
    matrix = ProfileMatrix.from_allele_indices(keys, people, markers=CODIS_CORE)
    m, f, c, s, q = (sim.to_profiles(x)[0] for x in (mother, father, child, sibling, asking))
    return {"matrix": matrix, "mother": m, "father": f, "child": c, "sibling": s, "asking": q}


def test_bytes_per_profile() -> None:
    assert ProfileMatrix().bytes_per_profile == 2 * len(DEFAULT_SEARCH_MARKERS) + 8 == 52
    twenty = ProfileMatrix(CODIS_CORE)
    assert twenty.bytes_per_profile == 48
    sim = PedigreeSimulator(seed=1)
    matrix = ProfileMatrix.from_allele_indices(np.arange(1000), sim.founders(1000), markers=CODIS_CORE)
    assert matrix.nbytes == 48_000
    assert matrix.codes.dtype == np.uint16
    assert matrix.keys.dtype == np.int64
    assert matrix.nbytes / len(matrix) <= 64


def test_trio_search_finds_the_planted_child(family: dict) -> None:
    hits = search(family["matrix"], "trio", [family["mother"], family["father"]])
    assert hits[0].key == 9001
    assert hits[0].inconsistent == 0
    assert hits[0].log10_lr == pytest.approx(
        kinship("trio", family["mother"], family["father"], family["child"]).log10_lr
    )
    # The other stored child of theirs passes too; nobody unrelated does.
    assert {hit.key for hit in hits} == {9001, 9003}


def test_duo_search_is_symmetric(family: dict) -> None:
    # The father (not stored) finds his two stored children first.
    by_parent = search(family["matrix"], "duo", [family["father"]])
    assert {hit.key for hit in by_parent[:2]} == {9001, 9003}
    lr = kinship("duo", family["father"], family["child"]).log10_lr
    assert next(hit for hit in by_parent if hit.key == 9001).log10_lr == pytest.approx(lr)
    # A child (not stored) finds the stored mother, and her stored children as siblings-like.
    by_child = search(family["matrix"], "duo", [family["asking"]])
    assert by_child[0].key == 9002
    lr = kinship("duo", family["mother"], family["asking"]).log10_lr
    assert by_child[0].log10_lr == pytest.approx(lr)


def test_sibling_search_ranks_the_siblings_first(family: dict) -> None:
    hits = search(family["matrix"], "sibling", [family["asking"]], threshold_lr=100)
    assert {hit.key for hit in hits[:2]} == {9001, 9003}


def test_threshold_limit_and_order(family: dict) -> None:
    matrix = family["matrix"]
    everything = scores(matrix, "second-degree", [family["child"]])
    hits = search(matrix, "second-degree", [family["child"]], threshold_lr=1.0, limit=None)
    assert len(hits) == int((everything >= 0).sum())
    assert all(isinstance(hit, Hit) for hit in hits)
    assert [h.log10_lr for h in hits] == sorted((h.log10_lr for h in hits), reverse=True)
    assert search(matrix, "second-degree", [family["child"]], threshold_lr=1.0, limit=5) == hits[:5]
    with pytest.raises(ValueError, match="threshold"):
        search(matrix, "duo", [family["child"]], threshold_lr=0)


def test_query_shape_is_checked(family: dict) -> None:
    with pytest.raises(ValueError, match="2 query"):
        search(family["matrix"], "trio", [family["mother"]])
    with pytest.raises(ValueError, match="unknown mode"):
        search(family["matrix"], "cousin", [family["mother"]])


def test_random_rows_equal_the_reference_with_missing_loci_and_mutations() -> None:
    sim = PedigreeSimulator(markers=CODIS_CORE[:8], seed=11)
    stored = sim.drop_loci(sim.founders(60), 0.15)
    matrix = ProfileMatrix.from_allele_indices(np.arange(60), stored, markers=CODIS_CORE[:8])
    profiles = sim.to_profiles(stored)
    mother, father = sim.to_profiles(sim.drop_loci(sim.founders(2), 0.15))
    inconsistent_seen = 0
    for mode in MODES:
        query = [mother, father] if mode == "trio" else [mother]
        fast = scores(matrix, mode, query)
        for row, key in enumerate(matrix.keys):
            ref = reference_kinship(mode, *query, profiles[int(key)])
            inconsistent_seen += len(ref.inconsistent_loci)
            assert math.isclose(fast[row], ref.log10_lr, abs_tol=1e-9)
    assert inconsistent_seen > 100  # unrelated rows: the mutation factors were exercised


def test_add_remove_replace() -> None:
    matrix = ProfileMatrix(CODIS_CORE)
    a = parse_profile({"TPOX": [8, 11], "TH01": [9, 9.3]})
    b = parse_profile({"TPOX": [8], "FGA": [22, 24]})
    matrix.add(10, a)
    matrix.add(20, b)
    assert len(matrix) == 2
    assert 10 in matrix
    assert 30 not in matrix
    assert matrix.profile(10) == a
    matrix.add(10, b)  # replaces
    assert len(matrix) == 2
    assert matrix.profile(10) == b
    assert matrix.remove(10) is True
    assert matrix.remove(10) is False
    assert list(matrix.keys) == [20]
    with pytest.raises(KeyError):
        matrix.profile(10)
    # Markers the matrix does not hold are dropped, not refused.
    matrix.add(30, parse_profile({"TPOX": [8, 8], "D6S474": [14, 15]}))
    assert matrix.profile(30) == parse_profile({"TPOX": [8, 8]})


def test_unseen_alleles_extend_the_vocabulary() -> None:
    matrix = ProfileMatrix(["TPOX"])
    before = matrix.vocabulary("TPOX")
    matrix.add(1, parse_profile({"TPOX": [13, 8]}))
    assert matrix.vocabulary("TPOX") == (*before, "13")
    assert matrix.profile(1) == parse_profile({"TPOX": ["8", "13"]})
    parent = parse_profile({"TPOX": [13, 13]})
    (hit,) = search(matrix, "duo", [parent], threshold_lr=1)
    assert hit.log10_lr == pytest.approx(math.log10(1 / (2 * 0.001)))
    # A query allele the matrix has never stored is fine too.
    other = parse_profile({"TPOX": [15, 8]})
    assert scores(matrix, "duo", [other])[0] == pytest.approx(kinship("duo", other, matrix.profile(1)).log10_lr)


def test_save_and_load(tmp_path: Path, family: dict) -> None:
    matrix = family["matrix"]
    matrix.add(77, parse_profile({"TPOX": [13, 8]}))  # an unseen allele travels with the file
    path = tmp_path / "profiles.npz"
    matrix.save(path)
    loaded = ProfileMatrix.load(path)
    assert loaded.markers == matrix.markers
    assert np.array_equal(loaded.keys, matrix.keys)
    assert np.array_equal(loaded.codes, matrix.codes)
    assert loaded.profile(77) == matrix.profile(77)
    query = [family["mother"], family["father"]]
    assert search(loaded, "trio", query) == search(matrix, "trio", query)
    matrix.remove(77)


def test_other_frequency_table(tmp_path: Path) -> None:
    path = tmp_path / "flat.csv"
    path.write_text("marker,allele,frequency\nTPOX,8,0.5\nTPOX,11,0.5\n", encoding="utf-8")
    flat = FrequencyTable.from_csv(path)
    assert flat.name == "flat"
    matrix = ProfileMatrix(["TPOX"], flat)
    matrix.add(1, parse_profile({"TPOX": [8, 11]}, flat))
    (hit,) = search(matrix, "duo", [parse_profile({"TPOX": [8, 8]}, flat)], table=flat, threshold_lr=1)
    assert hit.log10_lr == pytest.approx(math.log10(1 / (2 * 0.5)))
    assert default_table().name == "east-asia-v2023"


def test_from_allele_indices_checks_its_input() -> None:
    with pytest.raises(ValueError, match="keys repeat"):
        ProfileMatrix.from_allele_indices(np.array([1, 1]), np.zeros((2, 20, 2), dtype=np.int16), markers=CODIS_CORE)
    with pytest.raises(ValueError, match="shape"):
        ProfileMatrix.from_allele_indices(np.array([1]), np.zeros((1, 3, 2), dtype=np.int16), markers=CODIS_CORE)
    with pytest.raises(ValueError, match="out of range"):
        ProfileMatrix.from_allele_indices(np.array([1]), np.full((1, 20, 2), 200, dtype=np.int16), markers=CODIS_CORE)
    with pytest.raises(ValueError, match="not in the frequency table"):
        ProfileMatrix(["AMEL"])
