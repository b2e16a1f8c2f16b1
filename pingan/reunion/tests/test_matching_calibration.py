"""The scorer is calibrated: on a fresh simulation (not the one the probabilities were
counted on), the posterior it predicts for a pair matches the share of true pairs among the
pairs given that posterior. Fixed seeds; a few seconds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pingan.reunion import matching

PEOPLE = 4000
RANDOM_PER_PERSON = 30


@pytest.fixture(scope="module")
def scored() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m, o, truth = matching.simulate_pairs(PEOPLE, seed=11, random_per_person=RANDOM_PER_PERSON)
    scores, rows, _full = matching.score_pairs(m, o)
    return scores, rows, truth


def test_predicted_probabilities_match_the_observed_share_of_true_pairs(scored):
    scores, rows, truth = scored
    prior = 1 / (RANDOM_PER_PERSON + 1)  # the share of true pairs among all simulated pairs
    bins = matching.calibration(scores, truth[rows], prior=prior)
    assert sum(b.pairs for b in bins) == len(rows)
    assert len(bins) == 6
    for b in bins:
        assert b.low <= b.predicted <= b.high
        # Binomial noise plus 0.05 for what the model leaves out (the comparisons are not
        # quite independent: e.g. dialect agreement depends on how long ago the child was taken).
        allowed = 0.05 + 3 * math.sqrt(b.predicted * (1 - b.predicted) / b.pairs)
        assert abs(b.observed - b.predicted) <= allowed, b
    expected, observed = sum(b.predicted * b.pairs for b in bins), sum(b.true_pairs for b in bins)
    assert abs(expected - observed) <= 0.05 * observed


def test_the_block_keeps_the_true_pairs_and_drops_most_random_ones(scored):
    scores, rows, truth = scored
    inside = truth[rows]
    assert inside.sum() >= 0.95 * PEOPLE
    assert (~inside).sum() <= 0.06 * PEOPLE * RANDOM_PER_PERSON
    assert np.median(scores[inside]) > 3  # a true pair: usually a Bayes factor over 1,000
    # Agreeing on sex and birth year (the block) is some evidence; the rest usually is not.
    assert np.median(scores[inside]) - np.median(scores[~inside]) > 3
    assert (scores[~inside] > 4).mean() < 0.01


def test_the_search_scores_a_pair_as_the_pairwise_scorer_does():
    m, o, _truth = matching.simulate_pairs(300, seed=12, random_per_person=0)
    whole = matching.compare(m, o).score()
    for i in range(0, 300, 7):  # one record against many, as the search does
        one = m.take(np.array([i]))
        against = matching.compare(one, o).score()
        assert against[i] == pytest.approx(whole[i])


def test_the_fit_recovers_the_table_it_was_made_from():
    """`bench.reunion_match fit` on a smaller sample gives the shipped table back, within
    the sampling noise: the table is what the stated assumptions imply."""
    fitted = matching.fit_probabilities(*matching.simulate_pairs(6000, seed=1, random_per_person=10))
    for name, levels in matching.PROBABILITIES.items():
        for level, (m, u) in levels.items():
            if m > 0.05:
                assert fitted[name][level][0] == pytest.approx(m, abs=0.05), (name, level)
            if u > 0.05:
                assert fitted[name][level][1] == pytest.approx(u, abs=0.05), (name, level)
