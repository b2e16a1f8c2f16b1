"""Expected false hits, the database posterior, the next relative to sample, the simulator."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pingan.dna.kinship import expected_false_hits, parse_profile, posterior, suggest_next_relative
from pingan.dna.kinship.frequencies import CODIS_CORE, default_table
from pingan.dna.kinship.simulate import PedigreeSimulator, _step_maps, simulate_log10_lrs

# --- expected false hits ----------------------------------------------------------------------


def test_expected_false_hits_is_n_over_t() -> None:
    assert expected_false_hits(10_000_000, 10_000) == 1000
    assert expected_false_hits(1_000_000, 1e6) == 1
    assert expected_false_hits(0, 10) == 0
    with pytest.raises(ValueError, match="threshold_lr"):
        expected_false_hits(10, 0)
    with pytest.raises(ValueError, match="n_searched"):
        expected_false_hits(-1, 10)


def test_the_bound_holds_for_simulated_unrelated_pairs() -> None:
    """P(LR ≥ T | unrelated) ≤ 1/T: the simulated rate stays under the bound in every mode."""
    n = 20_000
    for relation_mode in ("duo", "sibling", "second-degree", "trio"):
        relation = "trio" if relation_mode == "trio" else "unrelated"
        if relation == "trio":
            sim = PedigreeSimulator(seed=3)
            mother, father, stranger = sim.founders(n), sim.founders(n), sim.founders(n)
            from pingan.dna.kinship.simulate import pair_log10_lrs

            scores, _ = pair_log10_lrs("trio", [mother, father], stranger)
        else:
            scores, _ = simulate_log10_lrs(relation, n, mode=relation_mode, seed=3)
        for threshold in (10.0, 100.0):
            rate = float((scores >= math.log10(threshold)).mean())
            assert rate <= 1 / threshold, (relation_mode, threshold, rate)


# --- posterior (Slooten & Meester) ----------------------------------------------------------------


def test_posterior_by_hand() -> None:
    lrs = [1e6, 10.0, 0.01, 1.0]
    prior = 0.5
    pi0, pi = 1 - prior, prior / len(lrs)
    denominator = pi0 + sum(pi * lr for lr in lrs)
    expected = [pi * lr / denominator for lr in lrs]
    assert posterior(lrs, prior_in_database=prior) == pytest.approx(expected, rel=1e-12)
    assert sum(posterior(lrs, prior_in_database=1.0)) == pytest.approx(1.0)


def test_posterior_with_unlisted_profiles_counts_them_at_lr_one() -> None:
    lrs = [1e5, 50.0]
    n, prior = 1_000_000, 0.3
    pi = prior / n
    denominator = (1 - prior) + pi * (lrs[0] + lrs[1]) + pi * (n - 2) * 1.0
    got = posterior(lrs, prior_in_database=prior, n_database=n)
    assert got == pytest.approx([pi * lr / denominator for lr in lrs], rel=1e-12)


def test_posterior_handles_huge_lrs_and_edges() -> None:
    got = posterior([1e25, 1e20], prior_in_database=0.01, n_database=10_000_000)
    assert got[0] == pytest.approx(1 / (1 + 1e-5), rel=1e-6)
    assert got[1] == pytest.approx(1e-5, rel=1e-3)
    assert posterior([], prior_in_database=0.5) == []
    assert posterior([5.0, 1.0], prior_in_database=0.0) == [0.0, 0.0]
    with pytest.raises(ValueError, match="between 0 and 1"):
        posterior([1.0], prior_in_database=1.5)
    with pytest.raises(ValueError, match="smaller"):
        posterior([1.0, 2.0], prior_in_database=0.5, n_database=1)
    with pytest.raises(ValueError, match="≥ 0"):
        posterior([-1.0], prior_in_database=0.5)


def test_posterior_ranks_like_the_lrs() -> None:
    lrs = [3.0, 3000.0, 30.0]
    got = posterior(lrs, prior_in_database=0.2, n_database=100)
    assert sorted(range(3), key=lambda i: -got[i]) == [1, 2, 0]


# --- which relative next --------------------------------------------------------------------------


def sibling_profile() -> object:
    sim = PedigreeSimulator(seed=5)
    return sim.to_profiles(sim.founders(1))[0]


def test_with_only_a_sibling_typed_a_parent_comes_first() -> None:
    suggestions = suggest_next_relative({"full_sibling": sibling_profile()})
    assert suggestions[0].relation in {"father", "mother"}
    assert suggestions[1].relation in {"father", "mother"}
    assert suggestions[0].gain > 0
    assert "full_sibling" not in [s.relation for s in suggestions]
    assert [s.expected_log10_lr for s in suggestions] == sorted(
        (s.expected_log10_lr for s in suggestions), reverse=True
    )


def test_with_one_parent_typed_the_other_parent_comes_first() -> None:
    suggestions = suggest_next_relative({"father": sibling_profile()})
    assert suggestions[0].relation == "mother"
    assert "三联体" in suggestions[0].note
    assert suggestions[0].gain > 1


def test_with_nobody_typed_and_a_choice_of_relatives() -> None:
    suggestions = suggest_next_relative({"uncle_aunt": None, "full_sibling": None, "half_sibling": None})
    assert next(s.relation for s in suggestions) == "full_sibling"
    assert {s.relation for s in suggestions} == {"uncle_aunt", "full_sibling", "half_sibling"}


def test_suggestions_are_reproducible_and_checked() -> None:
    first = suggest_next_relative({"full_sibling": sibling_profile()})
    assert first == suggest_next_relative({"full_sibling": sibling_profile()})
    with pytest.raises(ValueError, match="unknown relatives"):
        suggest_next_relative({"cousin": None})


# --- the simulator ---------------------------------------------------------------------------------


def test_children_carry_one_allele_of_each_parent_without_mutation() -> None:
    sim = PedigreeSimulator(seed=2, mutate=False)
    mother, father = sim.founders(500), sim.founders(500)
    child = sim.child(mother, father)
    for row in range(500):
        for locus in range(len(CODIS_CORE)):
            c = child[row, locus]
            m, f = set(mother[row, locus]), set(father[row, locus])
            assert (c[0] in m and c[1] in f) or (c[1] in m and c[0] in f)


def test_founder_alleles_follow_the_table() -> None:
    sim = PedigreeSimulator(markers=["TPOX"], seed=4)
    alleles = sim.founders(50_000)[:, 0, :].ravel()
    observed = np.bincount(alleles, minlength=7) / len(alleles)
    expected = default_table().table_freqs("TPOX")
    assert observed == pytest.approx(expected / expected.sum(), abs=0.01)


def test_mutation_steps_one_repeat() -> None:
    alleles = default_table().alleles("TH01")  # 5 6 7 8 8.3 9 9.3 10 11
    up, down = _step_maps(alleles)
    index = {a: i for i, a in enumerate(alleles)}
    assert alleles[up[index["8"]]] == "9"
    assert alleles[down[index["9.3"]]] == "8.3"
    assert alleles[up[index["9.3"]]] == "10"  # no 10.3: the next allele up
    assert alleles[down[index["5"]]] == "6"  # the shortest allele can only go up
    sim = PedigreeSimulator(seed=9)
    scores, inconsistent = simulate_log10_lrs("parent-child", 5000, seed=9)
    # μ = 0.002 a meiosis at 20 loci: about 4 % of true duos carry an inconsistent locus.
    share = float((inconsistent > 0).mean())
    assert 0.01 < share < 0.08
    assert scores.min() > -10  # an inconsistency costs a factor, it does not exclude
    assert sim.mutate


def test_true_relatives_score_above_unrelated_on_average() -> None:
    means = {r: simulate_log10_lrs(r, 400, seed=1)[0].mean() for r in ("trio", "parent-child", "full-sibling", "uncle")}
    assert means["trio"] > means["parent-child"] > means["full-sibling"] > means["uncle"] > 0
    unrelated = simulate_log10_lrs("unrelated", 400, mode="second-degree", seed=1)[0].mean()
    assert unrelated < 0


def test_profiles_from_simulation_parse() -> None:
    sim = PedigreeSimulator(seed=1)
    for profile in sim.to_profiles(sim.drop_loci(sim.founders(20), 0.3)):
        assert parse_profile(profile.to_json()) == profile
