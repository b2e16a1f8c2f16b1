"""What a threshold means for a database search, and which candidate is most likely.

- ``expected_false_hits``: for an unrelated pair the LR has expectation 1, so by Markov's
  inequality P(LR ≥ T) ≤ 1/T and a search of N unrelated profiles expects at most N/T hits
  above T. The calibration (``bench/kinship_calibration.py``) shows how far below the bound the
  real rate is for each mode.
- ``posterior``: Slooten & Meester's database posterior. With π0 the prior that the person
  sought is not in the database and π_i = (1 − π0)/N for each of the N stored profiles,
  P(i | data) = π_i·LR_i / (π0 + Σ_j π_j·LR_j). An LR may be the DNA LR times an attribute
  Bayes factor: both are likelihood ratios of the same two hypotheses.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def expected_false_hits(n_searched: int, threshold_lr: float) -> float:
    """The bound N/T on the expected number of unrelated profiles reaching ``threshold_lr``."""
    if n_searched < 0:
        raise ValueError("n_searched must be ≥ 0")
    if not threshold_lr > 0:
        raise ValueError("threshold_lr must be positive")
    return n_searched / threshold_lr


def posterior(lrs: Sequence[float], *, prior_in_database: float, n_database: int | None = None) -> list[float]:
    """P(candidate i is the person sought | all the comparisons), one per LR, in order.

    ``prior_in_database`` is 1 − π0. By default the LRs are the whole database (N = len(lrs)).
    When they are only the candidates above a threshold, pass ``n_database``: the N − len(lrs)
    profiles not listed are counted at LR 1 each, their expectation when unrelated (a
    conservative choice: below the threshold their LRs are mostly far smaller).
    """
    if not 0 <= prior_in_database <= 1:
        raise ValueError("prior_in_database must be between 0 and 1")
    n = len(lrs) if n_database is None else n_database
    if n < len(lrs):
        raise ValueError("n_database is smaller than the number of LRs")
    if not lrs:
        return []
    if any(not (lr >= 0) for lr in lrs):
        raise ValueError("likelihood ratios must be ≥ 0")
    if prior_in_database == 0:
        return [0.0 for _ in lrs]
    # Work in logs: a trio LR of 10^20 times a small prior must not overflow or vanish.
    log_pi = math.log(prior_in_database) - math.log(n)
    terms = [log_pi + math.log(lr) if lr > 0 else -math.inf for lr in lrs]
    rest = []
    if prior_in_database < 1:
        rest.append(math.log1p(-prior_in_database))
    if n > len(lrs):
        rest.append(log_pi + math.log(n - len(lrs)))
    everything = [t for t in [*terms, *rest] if t != -math.inf]
    if not everything:
        return [0.0 for _ in lrs]
    top = max(everything)
    if top == math.inf:
        infinite = sum(1 for t in terms if t == math.inf)
        return [1.0 / infinite if t == math.inf else 0.0 for t in terms]
    log_denominator = top + math.log(sum(math.exp(t - top) for t in everything))
    return [math.exp(t - log_denominator) if t != -math.inf else 0.0 for t in terms]
