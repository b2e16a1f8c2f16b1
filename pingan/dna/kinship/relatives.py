"""Which relative of a missing person to sample next.

Each relative can be compared with a found person by one of the modes: father or mother by a
duo (both of them: a trio), a full sibling by the sibling index, a half sibling, grandparent or
uncle/aunt by the second-degree index. For each mode the expected log10 LR when the found person
*is* the missing one is simulated from the frequency table (fixed seed, mutation at the
settings' rates), on the loci the family is typed on.

The evidence of a set of relatives is taken as that of its strongest test (a trio when both
parents are typed): the engine compares pairs and trios, not whole pedigrees, so evidence from
two relatives is not added as if it were independent. A suggestion's ``expected_log10_lr`` is
that strongest test once the relative is typed, and ``gain`` what it adds to the strongest test
already possible; ties go to the relative whose own test is stronger.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from .engine import KinshipSettings
from .frequencies import CODIS_CORE, FrequencyTable, default_table
from .profile import Profile, _
from .simulate import simulate_log10_lrs

RELATIVES = ("father", "mother", "full_sibling", "half_sibling", "grandparent", "uncle_aunt")
#: The simulated relationship behind each relative's own test.
_RELATION = {
    "father": "parent-child",
    "mother": "parent-child",
    "full_sibling": "full-sibling",
    "half_sibling": "half-sibling",
    "grandparent": "grandparent",
    "uncle_aunt": "uncle",
}
_NAMES = {
    "father": "父亲",
    "mother": "母亲",
    "full_sibling": "全同胞兄弟姐妹",
    "half_sibling": "半同胞兄弟姐妹",
    "grandparent": "祖父母或外祖父母",
    "uncle_aunt": "伯叔姑舅姨",
}


@dataclass(frozen=True)
class Suggestion:
    relation: str
    expected_log10_lr: float
    note: str
    gain: float = 0.0


@lru_cache(maxsize=64)
def expected_log10_lr(
    relation: str, markers: tuple[str, ...], table: FrequencyTable, settings: KinshipSettings, n: int, seed: int
) -> float:
    """Mean log10 LR of true relatives of this kind (``relation`` a RELATIONS key)."""
    scores, _ = simulate_log10_lrs(relation, n, table=table, markers=markers, settings=settings, seed=seed)
    return float(scores.mean())


def suggest_next_relative(
    available: Mapping[str, Profile | None],
    *,
    table: FrequencyTable | None = None,
    settings: KinshipSettings | None = None,
    markers: Sequence[str] | None = None,
    n: int = 400,
    seed: int = 20211,
) -> list[Suggestion]:
    """Rank the relatives to sample next, best first.

    ``available``: relative → their profile if typed, None if they could be sampled. When no
    relative is marked None, every kind not yet typed is a candidate. Keys are RELATIVES.
    """
    unknown = [key for key in available if key not in RELATIVES]
    if unknown:
        raise ValueError(f"unknown relatives: {', '.join(unknown)}; use {', '.join(RELATIVES)}")
    table = table or default_table()
    settings = settings or KinshipSettings()
    typed = {key for key, profile in available.items() if profile is not None}
    candidates = [key for key in RELATIVES if key in available and available[key] is None]
    if not candidates:
        candidates = [key for key in RELATIVES if key not in typed]
    if markers is None:
        typed_markers = {m for key in typed for m in available[key] or {}}  # type: ignore[union-attr]
        markers = [m for m in table.markers if m in typed_markers] or list(CODIS_CORE)
    loci = tuple(markers)

    def own(relative: str) -> float:
        return expected_log10_lr(_RELATION[relative], loci, table, settings, n, seed)

    def strongest(relatives: set[str]) -> tuple[float, str]:
        options = [(own(r), _NAMES[r]) for r in relatives]
        if {"father", "mother"} <= relatives:
            options.append((expected_log10_lr("trio", loci, table, settings, n, seed), "父母双亲（三联体）"))
        return max(options, default=(0.0, ""))

    now, _now_label = strongest(typed)
    suggestions = []
    for relative in candidates:
        value, label = strongest(typed | {relative})
        gain = value - now
        note = _("采集{relative}后，最强比对为{test}，真亲属预期 log10 LR ≈ {value:.1f}（增加 {gain:.1f}）").format(
            relative=_NAMES[relative], test=label, value=value, gain=gain
        )
        suggestions.append(Suggestion(relative, value, note, gain))
    suggestions.sort(key=lambda s: (-s.gain, -own(s.relation), RELATIVES.index(s.relation)))
    return suggestions
