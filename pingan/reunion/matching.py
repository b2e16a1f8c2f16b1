"""Attribute matching between missing-person records and found / seeker records: a
Fellegi–Sunter scorer of our own (numpy), the online candidate search, and the writes on
the candidates it proposes. docs/reunion-matching.md explains the model, the figures and
why it is not Splink.

    from pingan.reunion import matching
    matching.attribute_log10_bf(missing, found)        # -> 2.7  (log10 Bayes factor)
    matching.explain(missing, found)                   # -> [Reason("birth_year", "exact", 1.23, "出生年份吻合…"), …]
    matching.candidates_search(record, limit=50)       # -> [Candidate(missing_id, found_id, log10_bf, reasons)]
    matching.candidates_refresh(record)                # writes AttributeCandidate rows (never revives an excluded pair)
    matching.posterior_probability(2.7, prior=matching.prior_for(100_000))

**The model.** Each comparison of a pair puts it in one *level* (e.g. birth years agree
within a narrow estimate); each level has ``m`` = P(level | same person) and ``u`` =
P(level | different people), and contributes the weight log10(m/u). The sum over the
seven comparisons is the log10 Bayes factor of "same person" against "different people"
from the attributes alone: it combines with a DNA likelihood ratio by adding log10 LRs,
and with an explicit prior into a posterior (:func:`posterior_probability`). A comparison
that cannot be made (a value missing on either side) is the level ``na`` with weight 0.

**Blocking.** Three comparisons are also blocking rules, applied before any scoring (in SQL,
or on a large side's in-memory snapshot, see :class:`Snapshot`):
sex (unknown is compatible with both), birth-year ranges that overlap within
``BLOCK_YEARS``, and the event order (a found person cannot have been found before the
missing person went missing; a seeker registers at any date). A pair outside the block has
a blocking level (``disagree``, ``far``, ``before``) and is never proposed. The ``u`` of the
other comparisons are estimated on pairs *inside* the block, so that, for example, height
agreement between two children of the same age is not counted as if they were random
people of any age (conditional independence within the block).

**The probabilities** (``PROBABILITIES``) were estimated by counting on simulated pairs
(:func:`simulate_pairs`, which writes down our assumptions: age-estimate errors, growth,
lost marks, far-away finds, dialects) with ``python -m bench.reunion_match fit``; the
calibration on a fresh simulation is in the docs and checked by a test. On real data,
``u`` should be re-estimated from random pairs of the database and ``m`` from confirmed
reunions.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import re
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db import connection, connections, transaction
from django.db.models import CharField, Q, QuerySet, TextField
from django.db.models.functions import Cast, Length
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pingan.core import access, timeline
from pingan.core.geo import EARTH_RADIUS_KM
from pingan.reunion.models import FOUND_SIDE, AttributeCandidate, CandidateStatus, Kind, PersonRecord

# --- Comparisons and their probabilities ----------------------------------------------

BLOCK_YEARS = 3  # birth-year ranges must overlap within this many years
MATCHED_STATE = "active"  # only verified records are proposed (reported ones are not yet checked)
REVIEW_ROLES = frozenset({"investigator", "station_chief", "bureau_leader"})
DEFAULT_LIMIT = 50

# Levels of each comparison, in index order; "na" (not comparable) always weighs 0.
LEVELS: dict[str, tuple[str, ...]] = {
    "sex": ("na", "agree", "disagree"),
    "birth_year": ("exact", "narrow", "wide", "off_1", "off_2_3", "far"),
    "event_gap": ("na", "within_30d", "within_1y", "within_10y", "over_10y", "before"),
    "place": (
        "na",
        "km_10",
        "km_50",
        "km_200",
        "km_1000",
        "km_far",
        "same_county",
        "same_prefecture",
        "same_province",
        "other_province",
    ),
    "height": ("na", "same_close", "same_near", "same_far", "grown_close", "grown_near", "grown_far"),
    "marks": ("na", "tags_strong", "tags_some", "tags_none", "text_similar", "text_some", "text_different"),
    "dialect": ("na", "agree", "disagree"),
}
COMPARISONS = tuple(LEVELS)
# Levels measured in different ways: m and u are estimated within each group, because which
# group applies depends on what was recorded (coordinates or only a county code; tags or only
# words) or on the ages (a child grew or not), not on whether the pair is the same person —
# and the ages are already weighed by the birth year and the time gap.
GROUPS: dict[str, dict[str, tuple[str, ...]]] = {
    "place": {
        "distance": ("km_10", "km_50", "km_200", "km_1000", "km_far"),
        "division": ("same_county", "same_prefecture", "same_province", "other_province"),
    },
    "height": {"same": ("same_close", "same_near", "same_far"), "grown": ("grown_close", "grown_near", "grown_far")},
    "marks": {
        "tags": ("tags_strong", "tags_some", "tags_none"),
        "text": ("text_similar", "text_some", "text_different"),
    },
}
PROBABILITY_FLOOR = 1e-4  # no level is impossible: a blocked level still has m >= 1e-4
# A pair with one of these levels is outside the block: never searched, never proposed.
BLOCKING_LEVELS = {"sex": "disagree", "birth_year": "far", "event_gap": "before"}

# (m, u) per level, conditional on the level's group (GROUPS) and on the comparison being
# possible (level != "na"). Estimated on 100,000 simulated true pairs and 4,000,000 random
# pairs (seed 1) by `python -m bench.reunion_match fit --people 100000 --random 40` (which
# prints this table); see fit_probabilities for which pairs each level is counted on.
PROBABILITIES: dict[str, dict[str, tuple[float, float]]] = {
    "sex": {
        "agree": (0.9948, 0.5049),
        "disagree": (0.005161, 0.4951),
    },
    "birth_year": {
        "exact": (0.02387, 0.0007421),
        "narrow": (0.4857, 0.02834),
        "wide": (0.2587, 0.02196),
        "off_1": (0.1319, 0.02146),
        "off_2_3": (0.0712, 0.04251),
        "far": (0.02863, 0.885),
    },
    "event_gap": {
        "within_30d": (0.3961, 0.003096),
        "within_1y": (0.3052, 0.03429),
        "within_10y": (0.2149, 0.2926),
        "over_10y": (0.08389, 0.315),
        "before": (0.0001, 0.355),
    },
    "place": {
        "km_10": (0.1954, 0.001369),
        "km_50": (0.2084, 0.01883),
        "km_200": (0.1811, 0.03986),
        "km_1000": (0.2393, 0.4516),
        "km_far": (0.1757, 0.4883),
        "same_county": (0.2015, 0.002242),
        "same_prefecture": (0.1557, 0.01718),
        "same_province": (0.1689, 0.04358),
        "other_province": (0.4739, 0.937),
    },
    "height": {
        "same_close": (0.7806, 0.2833),
        "same_near": (0.2016, 0.2358),
        "same_far": (0.01787, 0.481),
        "grown_close": (0.6792, 0.3764),
        "grown_near": (0.2631, 0.2789),
        "grown_far": (0.05771, 0.3448),
    },
    "marks": {
        "tags_strong": (0.9194, 0.1002),
        "tags_some": (0.04217, 0.07086),
        "tags_none": (0.03844, 0.829),
        "text_similar": (0.3478, 0.04938),
        "text_some": (0.1383, 0.07263),
        "text_different": (0.5139, 0.878),
    },
    "dialect": {
        "agree": (0.636, 0.07854),
        "disagree": (0.364, 0.9215),
    },
}


def level_weight(comparison: str, level: str) -> float:
    """log10(m/u) of one level (0 for ``na``)."""
    if level == "na":
        return 0.0
    m, u = PROBABILITIES[comparison][level]
    return math.log10(m / u)


def _weight_vectors() -> dict[str, np.ndarray]:
    return {name: np.array([level_weight(name, level) for level in levels]) for name, levels in LEVELS.items()}


WEIGHTS = _weight_vectors()


def _index(comparison: str, level: str) -> int:
    return LEVELS[comparison].index(level)


def weight_bounds(comparison: str) -> tuple[float, float]:
    """The lowest and highest weight a comparison can give (0 included: ``na``)."""
    weights = WEIGHTS[comparison]
    return float(min(weights.min(), 0.0)), float(max(weights.max(), 0.0))


# --- Growth -------------------------------------------------------------------------------

# Median height (cm) by completed year of age 0..18. Ages 0–6: 卫生部《中国7岁以下儿童生长发育
# 参照标准》(2009), table 1/2 median; 7–18: 李辉等《中国0～18岁儿童、青少年身高、体重的标准化
# 生长曲线》(中华儿科杂志 2009), 50th centile, as remembered and rounded. The matcher uses only
# the ratio of two medians (a child keeps its centile roughly), so 1 cm here matters little.
MEDIAN_HEIGHT_CM = {
    "M": (50.4, 76.5, 88.5, 96.8, 104.1, 111.3, 117.7, 124.0, 130.0, 135.4, 140.2, 145.3, 151.9, 159.5, 165.9,
          169.8, 171.6, 172.3, 172.7),
    "F": (49.7, 75.0, 87.2, 95.6, 103.1, 110.2, 116.6, 122.5, 128.5, 134.1, 140.1, 146.6, 152.4, 156.3, 158.6,
          159.8, 160.1, 160.3, 160.6),
}  # fmt: skip
_AGES = np.arange(19, dtype=float)
_MEDIAN_M = np.array(MEDIAN_HEIGHT_CM["M"])
_MEDIAN_F = np.array(MEDIAN_HEIGHT_CM["F"])
GROWN_CM = 3.0  # expected growth from which the "grown" levels apply
HEIGHT_TOLERANCE_CM = 4.0  # "close" without growth; "near" is twice the tolerance
GROWTH_TOLERANCE = 0.08  # extra tolerance per cm of expected growth (centile drift, reporting error)


def median_height(sex: np.ndarray, age: np.ndarray) -> np.ndarray:
    """Median height at ``age`` (years, clipped to 0..18); sex unknown: the mean of both."""
    age = np.clip(age, 0.0, 18.0)
    boys, girls = np.interp(age, _AGES, _MEDIAN_M), np.interp(age, _AGES, _MEDIAN_F)
    return np.where(sex == "M", boys, np.where(sex == "F", girls, (boys + girls) / 2))


# --- Text helpers -------------------------------------------------------------------------

_DIALECT_SUFFIXES = ("口音", "方言", "话", "腔", "音", "省", "市", "县", "人")
_PUNCTUATION = re.compile(r"[\s\W_]+", re.UNICODE)


def normalise_dialect(value: str) -> str:
    """``"四川话"``, ``"四川口音"`` and ``" 四川省 "`` all become ``"四川"``."""
    text = _PUNCTUATION.sub("", value or "")
    changed = True
    while changed and text:
        changed = False
        for suffix in _DIALECT_SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix):
                text, changed = text[: -len(suffix)], True
    return text


_DIALECT_CODES: dict[str, int] = {"": 0}
DIALECT_NAMES: list[str] = [""]  # code -> normalised dialect; 0: not recorded
_dialect_of_raw: dict[str, int] = {}


def dialect_code(value: str | None) -> int:
    """A small integer per normalised dialect (0: none), shared by every record in the
    process, so dialects compare as integers."""
    raw = value or ""
    code = _dialect_of_raw.get(raw)
    if code is None:
        normal = normalise_dialect(raw)
        code = _DIALECT_CODES.get(normal)
        if code is None:
            code = _DIALECT_CODES[normal] = len(DIALECT_NAMES)
            DIALECT_NAMES.append(normal)
        if len(_dialect_of_raw) < 100_000:
            _dialect_of_raw[raw] = code
    return code


def division_code(value: str | None) -> int:
    """A county code as an integer (its prefecture is ``// 100``, its province ``// 10000``);
    a 2- or 4-digit code stands for its province or prefecture; -1 when none or malformed."""
    text = (value or "").strip()
    if not text.isdigit() or len(text) not in (2, 4, 6):
        return -1
    return int(text) * 10 ** (6 - len(text))


def normalise_tags(tags: Any) -> frozenset[str]:
    if not isinstance(tags, (list, tuple, set, frozenset)):
        return frozenset()
    return frozenset(str(tag).strip().lower() for tag in tags if str(tag).strip())


def bigrams(text: str) -> frozenset[str]:
    """Character bigrams of a description without spaces and punctuation (Chinese has no
    word boundaries; bigrams are the usual unit)."""
    clean = _PUNCTUATION.sub("", (text or "").lower())
    if len(clean) < 2:
        return frozenset(clean)
    return frozenset(clean[i : i + 2] for i in range(len(clean) - 1))


def text_similarity(a: str, b: str) -> float:
    """Dice coefficient of character bigrams, 0..1."""
    x, y = bigrams(a), bigrams(b)
    if not x or not y:
        return 0.0
    return 2 * len(x & y) / (len(x) + len(y))


# --- Columns: records as numpy arrays --------------------------------------------------------

EPOCH = dt.date(1970, 1, 1)
DAYS_PER_YEAR = 365.2425


@dataclass(slots=True)
class Columns:
    """The compared attributes of n records, one numpy array per attribute (n == 1 for one
    record: numpy broadcasting then compares it against every row of the other side)."""

    sex: np.ndarray  # "M" / "F" / "U"
    by_min: np.ndarray  # int
    by_max: np.ndarray
    event_day: np.ndarray  # days since 1970-01-01
    seeker: np.ndarray  # bool
    height: np.ndarray  # float, nan when unknown
    lat: np.ndarray  # float, nan when unknown
    lon: np.ndarray
    division: np.ndarray  # int county code (division_code), -1 when unknown
    dialect: np.ndarray  # int (dialect_code), 0 when unknown
    has_tags: np.ndarray  # bool
    has_text: np.ndarray  # bool
    tags: list[frozenset[str]] | None = None  # loaded only where the marks are compared
    marks: list[str] | None = None

    def __len__(self) -> int:
        return len(self.by_min)

    @classmethod
    def from_records(cls, records: Sequence[PersonRecord]) -> Columns:
        tags = [normalise_tags(r.mark_tags) for r in records]
        marks = [r.marks or "" for r in records]
        return cls(
            sex=np.array([r.sex or "U" for r in records], dtype="<U1"),
            by_min=np.array([r.birth_year_min for r in records], dtype=np.int64),
            by_max=np.array([r.birth_year_max for r in records], dtype=np.int64),
            event_day=np.array([(r.event_date - EPOCH).days for r in records], dtype=np.int64),
            seeker=np.array([r.kind == Kind.SEEKER for r in records], dtype=bool),
            height=np.array([r.height_cm for r in records], dtype=float),
            lat=np.array([r.latitude for r in records], dtype=float),
            lon=np.array([r.longitude for r in records], dtype=float),
            division=np.array([division_code(r.division_code) for r in records], dtype=np.int64),
            dialect=np.array([dialect_code(r.dialect) for r in records], dtype=np.int64),
            has_tags=np.array([bool(t) for t in tags], dtype=bool),
            has_text=np.array([bool(bigrams(m)) for m in marks], dtype=bool),
            tags=tags,
            marks=marks,
        )

    def take(self, index: np.ndarray) -> Columns:
        """The rows at ``index`` (copies)."""
        tags = [self.tags[i] for i in index] if self.tags is not None else None
        marks = [self.marks[i] for i in index] if self.marks is not None else None
        return Columns(
            self.sex[index], self.by_min[index], self.by_max[index], self.event_day[index], self.seeker[index],
            self.height[index], self.lat[index], self.lon[index], self.division[index], self.dialect[index],
            self.has_tags[index], self.has_text[index], tags, marks,
        )  # fmt: skip


def haversine_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> np.ndarray:
    """Great-circle distance, vectorised (the formula of ``pingan.core.geo.distance_km``)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dlat, dlon = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    h = np.sin(dlat / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h)))


@dataclass(slots=True)
class Compared:
    """Levels (index arrays) and the values behind them, for n pairs."""

    levels: dict[str, np.ndarray]
    details: dict[str, Any] = field(default_factory=dict)

    def score(self) -> np.ndarray:
        return sum((WEIGHTS[name][self.levels[name]] for name in self.levels), start=np.zeros(self.size))

    @property
    def size(self) -> int:
        return max(len(np.atleast_1d(v)) for v in self.levels.values())


def _select(conditions: list[np.ndarray], choices: list[int], default: int) -> np.ndarray:
    return np.select(conditions, choices, default).astype(np.int64)


def compare(m: Columns, o: Columns, *, marks: bool = True) -> Compared:
    """Compare missing records ``m`` with found/seeker records ``o`` pairwise (either side
    may be a single record). ``marks=False`` leaves the marks at ``na`` (the search scores
    them in a second pass, for the rows that can still reach the top)."""
    n = max(len(m), len(o))
    idx = _index
    levels: dict[str, np.ndarray] = {}
    details: dict[str, Any] = {}

    unknown = (m.sex == "U") | (o.sex == "U")
    levels["sex"] = np.broadcast_to(
        np.where(unknown, idx("sex", "na"), np.where(m.sex == o.sex, idx("sex", "agree"), idx("sex", "disagree"))),
        (n,),
    ).astype(np.int64)

    gap = np.maximum(0, np.maximum(o.by_min - m.by_max, m.by_min - o.by_max))
    width = (m.by_max - m.by_min) + (o.by_max - o.by_min)
    levels["birth_year"] = np.broadcast_to(
        _select(
            [(gap == 0) & (width <= 1), (gap == 0) & (width <= 4), gap == 0, gap == 1, gap <= BLOCK_YEARS],
            [idx("birth_year", x) for x in ("exact", "narrow", "wide", "off_1", "off_2_3")],
            idx("birth_year", "far"),
        ),
        (n,),
    )
    details["birth_gap"] = np.broadcast_to(gap, (n,))

    days = o.event_day - m.event_day
    levels["event_gap"] = np.broadcast_to(
        _select(
            [o.seeker, days < 0, days <= 30, days <= 365, days <= 3652],
            [idx("event_gap", x) for x in ("na", "before", "within_30d", "within_1y", "within_10y")],
            idx("event_gap", "over_10y"),
        ),
        (n,),
    )
    details["days"] = np.broadcast_to(days, (n,))

    located = ~np.isnan(m.lat) & ~np.isnan(m.lon) & ~np.isnan(o.lat) & ~np.isnan(o.lon)
    with np.errstate(invalid="ignore"):
        km = haversine_km(m.lat, m.lon, o.lat, o.lon)
    km_level = _select(
        [km <= 10, km <= 50, km <= 200, km <= 1000],
        [idx("place", x) for x in ("km_10", "km_50", "km_200", "km_1000")],
        idx("place", "km_far"),
    )
    coded = (m.division >= 0) & (o.division >= 0)
    division_level = _select(
        [m.division == o.division, m.division // 100 == o.division // 100, m.division // 10000 == o.division // 10000],
        [idx("place", x) for x in ("same_county", "same_prefecture", "same_province")],
        idx("place", "other_province"),
    )  # fmt: skip
    levels["place"] = np.broadcast_to(
        np.where(located, km_level, np.where(coded, division_level, idx("place", "na"))), (n,)
    ).astype(np.int64)
    details["km"] = np.broadcast_to(km, (n,))

    measured = ~np.isnan(m.height) & ~np.isnan(o.height)
    sex = np.where(m.sex != "U", m.sex, o.sex)
    born = (m.by_min + m.by_max) / 2 + 0.5
    age_then = m.event_day / DAYS_PER_YEAR + 1970 - born
    age_now = o.event_day / DAYS_PER_YEAR + 1970 - born
    predicted = m.height * median_height(sex, age_now) / median_height(sex, age_then)
    growth = np.abs(predicted - m.height)
    grown = growth >= GROWN_CM
    tolerance = HEIGHT_TOLERANCE_CM + np.where(grown, GROWTH_TOLERANCE * growth, 0.0)
    with np.errstate(invalid="ignore"):
        off = np.abs(o.height - predicted)
        close, near = off <= tolerance, off <= 2 * tolerance
    same_level = _select(
        [close, near], [idx("height", "same_close"), idx("height", "same_near")], idx("height", "same_far")
    )
    grown_level = _select(
        [close, near], [idx("height", "grown_close"), idx("height", "grown_near")], idx("height", "grown_far")
    )
    levels["height"] = np.broadcast_to(
        np.where(measured, np.where(grown, grown_level, same_level), idx("height", "na")), (n,)
    ).astype(np.int64)
    details["predicted_height"] = np.broadcast_to(predicted, (n,))

    if marks:
        levels["marks"], details["shared_tags"], details["text_similarity"] = _compare_marks(m, o, n)
    else:
        levels["marks"] = np.zeros(n, dtype=np.int64)

    spoken = (m.dialect > 0) & (o.dialect > 0)
    levels["dialect"] = np.broadcast_to(
        np.where(spoken, np.where(m.dialect == o.dialect, idx("dialect", "agree"), idx("dialect", "disagree")), 0),
        (n,),
    ).astype(np.int64)
    return Compared(levels, details)


def _pick(values: list[Any], i: int) -> Any:
    return values[0] if len(values) == 1 else values[i]


def _compare_marks(m: Columns, o: Columns, n: int) -> tuple[np.ndarray, list[list[str]], np.ndarray]:
    """Tags when both sides have tags (Jaccard), else the free text when both have it."""
    if m.tags is None or o.tags is None or m.marks is None or o.marks is None:
        raise ValueError("the marks of both sides are needed")
    level = np.zeros(n, dtype=np.int64)
    similarity = np.zeros(n)
    shared: list[list[str]] = [[] for _ in range(n)]
    idx = _index
    m_grams = [bigrams(text) for text in m.marks] if len(m) == 1 else None
    o_grams = [bigrams(text) for text in o.marks] if len(o) == 1 else None
    for i in range(n):
        a, b = _pick(m.tags, i), _pick(o.tags, i)
        if a and b:
            common = a & b
            jaccard = len(common) / len(a | b)
            similarity[i] = jaccard
            shared[i] = sorted(common)
            level[i] = idx("marks", "tags_strong" if jaccard >= 0.5 else "tags_some" if common else "tags_none")
            continue
        x = m_grams[0] if m_grams is not None else bigrams(m.marks[i])
        y = o_grams[0] if o_grams is not None else bigrams(o.marks[i])
        if x and y:
            dice = 2 * len(x & y) / (len(x) + len(y))
            similarity[i] = dice
            named = "text_similar" if dice >= 0.5 else "text_some" if dice >= 0.25 else "text_different"
            level[i] = idx("marks", named)
    return level, shared, similarity


# --- Reasons ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reason:
    """One comparison of a pair: its level, its weight (log10 m/u) and a sentence for
    officers (Chinese), e.g. ``出生年份吻合：2015 与 2014–2016（+1.3）``."""

    comparison: str
    level: str
    weight: float
    text: str

    def as_json(self) -> dict[str, Any]:
        return {"comparison": self.comparison, "level": self.level, "weight": round(self.weight, 3), "text": self.text}


def _years(lo: int, hi: int) -> str:
    return str(lo) if lo == hi else f"{lo}–{hi}"


# The sentence of each level (placeholders filled from the pair's values).
TEXTS: dict[tuple[str, str], Any] = {
    ("sex", "na"): gettext_lazy("一方性别不详，未比较性别"),
    ("sex", "agree"): gettext_lazy("性别相同（%(sex)s）"),
    ("sex", "disagree"): gettext_lazy("性别不同"),
    ("birth_year", "exact"): gettext_lazy("出生年份吻合：%(m)s 与 %(o)s"),
    ("birth_year", "narrow"): gettext_lazy("出生年份在估计范围内：%(m)s 与 %(o)s"),
    ("birth_year", "wide"): gettext_lazy("出生年份在较宽的估计范围内：%(m)s 与 %(o)s"),
    ("birth_year", "off_1"): gettext_lazy("出生年份相差 1 年：%(m)s 与 %(o)s"),
    ("birth_year", "off_2_3"): gettext_lazy("出生年份相差 %(gap)s 年：%(m)s 与 %(o)s"),
    ("birth_year", "far"): gettext_lazy("出生年份相差 %(gap)s 年，超出容差：%(m)s 与 %(o)s"),
    ("event_gap", "na"): gettext_lazy("自主寻亲登记，不比较时间先后"),
    ("event_gap", "before"): gettext_lazy("发现日期早于失踪日期 %(days)s 天"),
    ("event_gap", "within_30d"): gettext_lazy("失踪后 %(days)s 天被发现"),
    ("event_gap", "within_1y"): gettext_lazy("失踪后约 %(months)s 个月被发现"),
    ("event_gap", "within_10y"): gettext_lazy("失踪约 %(years)s 年后被发现"),
    ("event_gap", "over_10y"): gettext_lazy("失踪约 %(years)s 年后被发现"),
    ("place", "na"): gettext_lazy("缺少地点，未比较"),
    ("place", "km"): gettext_lazy("失踪地与发现地相距 %(km)s 公里"),
    ("place", "same_county"): gettext_lazy("失踪地与发现地在同一县（区）"),
    ("place", "same_prefecture"): gettext_lazy("失踪地与发现地在同一地级市"),
    ("place", "same_province"): gettext_lazy("失踪地与发现地在同一省份"),
    ("place", "other_province"): gettext_lazy("失踪地与发现地不在同一省份"),
    ("height", "na"): gettext_lazy("缺少身高，未比较"),
    ("height", "same_close"): gettext_lazy("身高相符：%(then)s 厘米与 %(now)s 厘米"),
    ("height", "same_near"): gettext_lazy("身高略有差异：%(then)s 厘米与 %(now)s 厘米"),
    ("height", "same_far"): gettext_lazy("身高差异较大：%(then)s 厘米与 %(now)s 厘米"),
    ("height", "grown_close"): gettext_lazy(
        "身高相符：失踪时 %(then)s 厘米，按生长推算约 %(predicted)s 厘米，登记 %(now)s 厘米"
    ),
    ("height", "grown_near"): gettext_lazy(
        "身高略有差异：失踪时 %(then)s 厘米，按生长推算约 %(predicted)s 厘米，登记 %(now)s 厘米"
    ),
    ("height", "grown_far"): gettext_lazy(
        "身高差异较大：失踪时 %(then)s 厘米，按生长推算约 %(predicted)s 厘米，登记 %(now)s 厘米"
    ),
    ("marks", "na"): gettext_lazy("缺少体表特征，未比较"),
    ("marks", "tags_strong"): gettext_lazy("体表特征相符：%(shared)s"),
    ("marks", "tags_some"): gettext_lazy("部分体表特征相符：%(shared)s"),
    ("marks", "tags_none"): gettext_lazy("体表特征无重合"),
    ("marks", "text_similar"): gettext_lazy("体表特征描述相似（相似度 %(similarity).2f）"),
    ("marks", "text_some"): gettext_lazy("体表特征描述部分相似（相似度 %(similarity).2f）"),
    ("marks", "text_different"): gettext_lazy("体表特征描述不同（相似度 %(similarity).2f）"),
    ("dialect", "na"): gettext_lazy("缺少口音信息，未比较"),
    ("dialect", "agree"): gettext_lazy("口音相同：%(a)s"),
    ("dialect", "disagree"): gettext_lazy("口音不同：%(a)s／%(b)s"),
}
SEX_NAMES = {"M": gettext_lazy("男"), "F": gettext_lazy("女")}
_translated: dict[tuple[str | None, Any], str] = {}


def _text(key: Any, language: str | None = None) -> str:
    """The sentence in the active language (translations looked up once per language)."""
    language = language or translation.get_language()
    text = _translated.get((language, key))
    if text is None:
        lazy = TEXTS[key] if isinstance(key, tuple) else key
        text = _translated[(language, key)] = str(lazy)
    return text


def _values(name: str, level: str, m: Columns, o: Columns, c: Compared, i: int, language: str) -> dict[str, Any]:
    """The values a level's sentence shows, for pair ``i``."""
    mi = 0 if len(m) == 1 else i
    oi = 0 if len(o) == 1 else i
    if name == "sex":
        return {"sex": _text(SEX_NAMES[str(m.sex[mi])], language) if level == "agree" else ""}
    if name == "birth_year":
        return {
            "m": _years(int(m.by_min[mi]), int(m.by_max[mi])),
            "o": _years(int(o.by_min[oi]), int(o.by_max[oi])),
            "gap": int(c.details["birth_gap"][i]),
        }
    if name == "event_gap":
        days = int(c.details["days"][i])
        return {"days": abs(days), "months": max(1, round(days / 30.44)), "years": max(1, round(days / DAYS_PER_YEAR))}
    if name == "place":
        km = float(c.details["km"][i]) if level.startswith("km") else 0.0
        return {"km": f"{km:.1f}" if km < 10 else f"{km:,.0f}"}
    if name == "height":
        if level == "na":
            return {}
        return {
            "then": round(float(m.height[mi])),
            "now": round(float(o.height[oi])),
            "predicted": round(float(c.details["predicted_height"][i])),
        }
    if name == "marks":
        if level == "na":
            return {}
        return {"shared": "、".join(c.details["shared_tags"][i]), "similarity": float(c.details["text_similarity"][i])}
    if name == "dialect":
        return {"a": DIALECT_NAMES[int(m.dialect[mi])], "b": DIALECT_NAMES[int(o.dialect[oi])]}
    raise KeyError(name)


def reasons_at(m: Columns, o: Columns, c: Compared, i: int) -> list[Reason]:
    """The reasons of pair ``i`` of a comparison, one per comparison, in a fixed order."""
    reasons = []
    language = translation.get_language()
    for name in COMPARISONS:
        level = LEVELS[name][int(c.levels[name][i])]
        weight = level_weight(name, level)
        key = (name, "km") if name == "place" and level.startswith("km") else (name, level)
        sentence = _text(key, language) % _values(name, level, m, o, c, i, language)
        reasons.append(Reason(name, level, weight, f"{sentence}（{weight:+.1f}）"))
    return reasons


# --- One pair -------------------------------------------------------------------------------


def _pair(missing: PersonRecord, found: PersonRecord) -> tuple[Columns, Columns, Compared]:
    if missing.kind != Kind.MISSING or found.kind not in FOUND_SIDE:
        raise ValueError("compare a missing record with a found or seeker record")
    m, o = Columns.from_records([missing]), Columns.from_records([found])
    return m, o, compare(m, o)


def explain(missing: PersonRecord, found: PersonRecord) -> list[Reason]:
    """Every comparison of the pair, with its level, weight and sentence."""
    m, o, compared = _pair(missing, found)
    return reasons_at(m, o, compared, 0)


def attribute_log10_bf(missing: PersonRecord, found: PersonRecord) -> float:
    """The log10 Bayes factor of "same person" from the attributes (sum of the weights)."""
    return float(_pair(missing, found)[2].score()[0])


def is_blocked(levels: dict[str, np.ndarray], i: int = 0) -> bool:
    return any(LEVELS[name][int(levels[name][i])] == level for name, level in BLOCKING_LEVELS.items())


def posterior_probability(log10_bf: float, *, prior: float) -> float:
    """P(same person | evidence) from a log10 Bayes factor and an explicit prior
    probability for the pair (before any attribute is compared). Add a DNA log10 LR to
    ``log10_bf`` to combine both kinds of evidence (they are independent given the truth).
    See :func:`prior_for` for a reasoned prior."""
    if not 0.0 < prior < 1.0:
        raise ValueError("the prior must be strictly between 0 and 1")
    log_odds = math.log10(prior) - math.log10(1.0 - prior) + log10_bf
    if log_odds > 300:
        return 1.0
    return 1.0 / (1.0 + 10.0 ** (-log_odds))


def prior_for(database_size: int, *, present: float = 0.5) -> float:
    """A prior for one pair: the chance ``present`` that the person is in the searched
    database at all, spread evenly over its ``database_size`` records (the default 0.5 is
    an assumption to state, not a fact: lower it for old cases in a small database)."""
    if database_size < 1 or not 0.0 < present <= 1.0:
        raise ValueError("database_size must be ≥ 1 and present in (0, 1]")
    return min(present / database_size, 0.5)


# --- The online search ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Candidate:
    """A proposed pair from :func:`candidates_search`."""

    missing_id: int
    found_id: int
    log10_bf: float
    reasons: tuple[Reason, ...]

    def reasons_json(self) -> list[dict[str, Any]]:
        return [reason.as_json() for reason in self.reasons]


_ROW_FIELDS = (
    "id", "kind", "sex", "birth_year_min", "birth_year_max", "event_text", "height_cm",
    "latitude", "longitude", "division_code", "dialect", "tags_length", "marks_length",
)  # fmt: skip


def blocked_queryset(record: PersonRecord) -> QuerySet[PersonRecord]:
    """The other side's active records that can be the same person as ``record`` (SQL
    blocking on ``record_blocking_idx``), less the pairs already excluded by a reviewer."""
    lo, hi = record.birth_year_min - BLOCK_YEARS, record.birth_year_max + BLOCK_YEARS
    qs = PersonRecord.objects.filter(state=MATCHED_STATE, birth_year_min__lte=hi, birth_year_max__gte=lo)
    sex = record.sex or "U"
    if sex != "U":
        qs = qs.filter(sex__in=[sex, "U"])
    if record.kind == Kind.MISSING:
        qs = qs.filter(kind__in=list(FOUND_SIDE)).filter(Q(kind=Kind.SEEKER) | Q(event_date__gte=record.event_date))
        excluded = AttributeCandidate.objects.filter(missing=record, status=CandidateStatus.EXCLUDED)
        return qs.exclude(pk__in=excluded.values("found_id"))
    qs = qs.filter(kind=Kind.MISSING)
    if record.kind != Kind.SEEKER:
        qs = qs.filter(event_date__lte=record.event_date)
    excluded = AttributeCandidate.objects.filter(found=record, status=CandidateStatus.EXCLUDED)
    return qs.exclude(pk__in=excluded.values("missing_id"))


def _rows_as_columns(rows: list[tuple[Any, ...]]) -> tuple[np.ndarray, Columns]:
    (ids, kinds, sexes, by_min, by_max, events, heights, lats, lons, divisions, dialects, tags_len, marks_len) = zip(
        *rows, strict=True
    )
    columns = Columns(
        sex=np.array(sexes, dtype="<U1"),
        by_min=np.array(by_min, dtype=np.int64),
        by_max=np.array(by_max, dtype=np.int64),
        event_day=np.array(events, dtype="datetime64[D]").astype(np.int64),
        seeker=np.array(kinds, dtype="<U7") == Kind.SEEKER.value,
        height=np.array(heights, dtype=float),
        lat=np.array(lats, dtype=float),
        lon=np.array(lons, dtype=float),
        division=np.array([division_code(d) for d in divisions], dtype=np.int64),
        dialect=np.array([dialect_code(d) for d in dialects], dtype=np.int64),
        # "[]" is an empty list whatever the backend's JSON spacing.
        has_tags=np.array(tags_len, dtype=np.int64) > 2,
        has_text=np.array(marks_len, dtype=np.int64) > 0,
    )
    return np.array(ids, dtype=np.int64), columns


def _annotated(qs: QuerySet[PersonRecord]) -> QuerySet[PersonRecord]:
    return qs.annotate(
        # Text on both backends (ISO dates): numpy parses them in one call.
        event_text=Cast("event_date", output_field=CharField()),
        tags_length=Length(Cast("mark_tags", output_field=TextField())),
        marks_length=Length("marks"),
    ).order_by()


def _fetch(qs: QuerySet[PersonRecord], *extra: str) -> list[tuple[Any, ...]]:
    """The compared columns of ``qs``'s rows (and ``extra`` plain columns after them),
    straight from the driver: Django's per-row iteration would cost more than the scoring."""
    values = _annotated(qs).values_list(*_ROW_FIELDS, *extra)
    sql, params = values.query.get_compiler(using=values.db).as_sql()
    with connections[values.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _fetch_current(ids: list[int]) -> dict[int, tuple[Any, ...]]:
    """The current compared columns, tags and marks of the active records among ``ids``."""
    rows: dict[int, tuple[Any, ...]] = {}
    batch = connection.features.max_query_params or 20_000
    for start in range(0, len(ids), batch):
        qs = PersonRecord.objects.filter(pk__in=ids[start : start + batch], state=MATCHED_STATE)
        for row in _fetch(qs, "mark_tags", "marks"):
            tags = row[-2]
            if isinstance(tags, str):  # SQLite hands JSON over as text
                tags = json.loads(tags) if row[11] > 2 else []
            rows[row[0]] = (*row[:-2], tags, row[-1])
    return rows


def _block_mask(record: PersonRecord, c: Columns) -> np.ndarray:
    """:func:`blocked_queryset`'s rules on columns (not the state and exclusions)."""
    lo, hi = record.birth_year_min - BLOCK_YEARS, record.birth_year_max + BLOCK_YEARS
    mask = (c.by_min <= hi) & (c.by_max >= lo)
    if (record.sex or "U") != "U":
        mask &= (c.sex == record.sex) | (c.sex == "U")
    day = (record.event_date - EPOCH).days
    if record.kind == Kind.MISSING:
        mask &= c.seeker | (c.event_day >= day)
    elif record.kind != Kind.SEEKER:
        mask &= c.event_day <= day
    return mask


# --- In-memory snapshots of a side (large databases) ------------------------------------------
#
# At a million records, fetching the blocked rows (~40,000 of them) costs a second on this
# hardware: the table rows are read one by one. A process that finds a side that large keeps
# its compared columns in memory (~60 bytes a record), re-reads the newest ids at each search,
# and reloads the whole side every SNAPSHOT_MAX_AGE seconds. The snapshot only chooses which
# rows to look at: every candidate is re-read from the database (state, attributes, marks) and
# scored on those current values, so a stale snapshot can cost a missed candidate (a record
# edited in another process since the last reload, until the next one), never a wrong score,
# an inactive record or a revived exclusion. candidates_refresh runs on every change of a
# record from that record's side, where the record itself is read fresh.

SNAPSHOT_FROM_ROWS = 20_000  # a side whose block returned this many rows is kept in memory
SNAPSHOT_MAX_AGE = 600.0  # seconds
SNAPSHOT_ID_OVERLAP = 200  # the newest ids re-read at each search (commits out of id order)
FINAL_STATES = ("reunited", "closed")  # a record in these states never becomes active again
REREAD_FIRST = 400  # rows re-read in the first round (each further round reads 4 times more)
_COLUMN_NAMES = ("sex", "by_min", "by_max", "event_day", "seeker", "height", "lat", "lon", "division", "dialect",
                 "has_tags", "has_text")  # fmt: skip
# Compact storage (~52 bytes a record): years, days, codes and whole centimetres fit.
_STORAGE = {"by_min": np.int16, "by_max": np.int16, "event_day": np.int32, "height": np.float32,
            "division": np.int32, "dialect": np.int32}  # fmt: skip


class Snapshot:
    """The compared columns of the records of one side (missing, or found and seeker) that
    are not in a final state, in id order, for one database."""

    def __init__(self, alias: str, kinds: tuple[str, ...]) -> None:
        self.alias, self.kinds = alias, kinds
        self.lock = threading.Lock()
        self.size = 0
        self.max_id = 0
        self.loaded_at = -math.inf
        self.ids = np.zeros(0, dtype=np.int64)
        self.live = np.zeros(0, dtype=bool)
        self.arrays: dict[str, np.ndarray] = {}

    def _rows(self, qs: QuerySet[PersonRecord]) -> list[tuple[Any, ...]]:
        return _fetch(qs.using(self.alias).filter(kind__in=self.kinds).order_by(), "state")

    def sync(self) -> None:
        """Reload when old, else take in the newest rows (one query)."""
        with self.lock:
            if time.monotonic() - self.loaded_at > SNAPSHOT_MAX_AGE:
                rows = self._rows(PersonRecord.objects.exclude(state__in=FINAL_STATES))
                self.size, self.max_id, self.loaded_at = 0, 0, time.monotonic()
                self.ids, self.live, self.arrays = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool), {}
                self._take(rows)
                return
            self._take(self._rows(PersonRecord.objects.filter(pk__gt=self.max_id - SNAPSHOT_ID_OVERLAP)))

    def _take(self, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        rows.sort(key=lambda row: row[0])
        ids, columns = _rows_as_columns([row[:-1] for row in rows])
        live = np.array([row[-1] not in FINAL_STATES for row in rows], dtype=bool)
        where = np.searchsorted(self.ids[: self.size], ids)
        known = (where < self.size) & (self.ids[np.minimum(where, max(self.size - 1, 0))] == ids) if self.size else None
        if known is not None and known.any():
            at = where[known]
            self.live[at] = live[known]
            for name in _COLUMN_NAMES:
                self.arrays[name][at] = getattr(columns, name)[known]
        new = ~known if known is not None else np.ones(len(ids), dtype=bool)
        if not new.any():
            return
        self._append(ids[new], live[new], {name: getattr(columns, name)[new] for name in _COLUMN_NAMES})

    def _append(self, ids: np.ndarray, live: np.ndarray, values: dict[str, np.ndarray]) -> None:
        end = self.size + len(ids)
        if end > len(self.ids):  # grow by half again: appends stay cheap
            capacity = max(end, int(len(self.ids) * 1.5), 1024)
            self.ids = np.resize(self.ids, capacity)
            self.live = np.resize(self.live, capacity)
            for name, column in values.items():
                old = self.arrays.get(name, np.zeros(0, dtype=_STORAGE.get(name, column.dtype)))
                self.arrays[name] = np.resize(old, capacity)
        self.ids[self.size : end] = ids
        self.live[self.size : end] = live
        for name, column in values.items():
            self.arrays[name][self.size : end] = column
        if self.size and ids[0] < self.ids[self.size - 1]:  # a late commit below the newest id: re-sort
            order = np.argsort(self.ids[:end], kind="stable")
            self.ids[:end], self.live[:end] = self.ids[:end][order], self.live[:end][order]
            for name in self.arrays:
                self.arrays[name][:end] = self.arrays[name][:end][order]
        self.size = end
        self.max_id = int(self.ids[end - 1])

    def view(self) -> tuple[np.ndarray, np.ndarray, Columns]:
        """(ids, live, columns) of the snapshot as it is now (views, not copies)."""
        n = self.size
        return self.ids[:n], self.live[:n], Columns(**{name: self.arrays[name][:n] for name in _COLUMN_NAMES})


_snapshots: dict[tuple[str, tuple[str, ...]], Snapshot] = {}
_large_sides: set[tuple[str, tuple[str, ...]]] = set()


def _other_kinds(record: PersonRecord) -> tuple[str, ...]:
    return tuple(str(k) for k in FOUND_SIDE) if record.kind == Kind.MISSING else (Kind.MISSING.value,)


def snapshots_clear() -> None:
    """Forget every snapshot (tests; a database restored from a backup)."""
    _snapshots.clear()
    _large_sides.clear()


# --- The online search ----------------------------------------------------------------------


def candidates_search(
    record: PersonRecord, *, limit: int = DEFAULT_LIMIT, min_log10_bf: float = 0.0
) -> list[Candidate]:
    """The best ``limit`` records of the other side for ``record`` (a missing record: found
    and seeker records; a found or seeker record: missing records), highest log10 Bayes
    factor first (ties: lowest id), at least ``min_log10_bf``. Only active records are
    proposed; excluded pairs never come back; every score is computed on the records'
    current values. See :func:`search_with_stats` for how."""
    return search_with_stats(record, limit=limit, min_log10_bf=min_log10_bf)[0]


def search_with_stats(
    record: PersonRecord, *, limit: int = DEFAULT_LIMIT, min_log10_bf: float = 0.0
) -> tuple[list[Candidate], dict[str, int]]:
    """:func:`candidates_search`, with how much work it did (for the benchmark).

    1. The rows in the block: by SQL on ``record_blocking_idx`` (the compared columns only),
       or, for a side found large, from its in-memory :class:`Snapshot`.
    2. Their scores without the marks, vectorised; with the marks' lowest and highest
       weight that gives each row an interval for its final score.
    3. The rows are re-read from the database best upper bound first, in growing chunks, and
       scored exactly (marks included) until no row left unread can still reach the top
       ``limit`` (its upper bound is below the ``limit``-th exact score and ``min_log10_bf``).
    """
    stats = {"rows_scored": 0, "marks_compared": 0, "rows_reread": 0, "snapshot": 0}
    if limit < 1:
        return [], stats
    alias = PersonRecord.objects.db
    key = (alias, _other_kinds(record))
    if key in _large_sides:
        snapshot = _snapshots.get(key)
        if snapshot is None:
            snapshot = _snapshots[key] = Snapshot(alias, key[1])
        snapshot.sync()
        ids, live, columns = snapshot.view()
        excluded = _excluded_ids(record)
        mask = live & _block_mask(record, columns)
        if excluded:
            mask &= ~np.isin(ids, list(excluded))
        rows = np.flatnonzero(mask)
        ids, other = ids[rows], columns.take(rows)
        stats["snapshot"] = 1
    else:
        fetched = _fetch(blocked_queryset(record))
        if len(fetched) >= SNAPSHOT_FROM_ROWS:
            _large_sides.add(key)
        if not fetched:
            return [], stats
        ids, other = _rows_as_columns(fetched)
    stats["rows_scored"] = len(ids)
    if not len(ids):
        return [], stats

    this = Columns.from_records([record])
    m, o = (this, other) if record.kind == Kind.MISSING else (other, this)
    score = compare(m, o, marks=False).score()
    high = weight_bounds("marks")[1]  # the marks are scored on the rows re-read
    comparable = (m.has_tags & o.has_tags) | (m.has_text & o.has_text)
    upper = score + np.where(comparable, high, 0.0)
    order = np.lexsort((ids, -upper))

    found_ids: list[np.ndarray] = []
    found_scores: list[np.ndarray] = []
    current: dict[int, tuple[Any, ...]] = {}
    read, step = 0, max(REREAD_FIRST, 2 * limit)
    while read < len(order):
        chunk = order[read : read + step]
        read += len(chunk)
        fresh = _fetch_current(ids[chunk].tolist())
        current.update(fresh)
        chunk_ids, chunk_scores, _compared, _m, _o = _exact(record, this, list(fresh.values()))
        found_ids.append(chunk_ids)
        found_scores.append(chunk_scores)
        best = np.concatenate(found_scores)
        kth = np.partition(best, len(best) - limit)[len(best) - limit] if len(best) >= limit else -math.inf
        if read >= len(order) or upper[order[read]] < max(kth, min_log10_bf):
            break
        step *= 4
    stats["rows_reread"] = read
    stats["marks_compared"] = sum(1 for row in current.values() if row[11] > 2 or row[12] > 0)

    all_ids, all_scores = np.concatenate(found_ids), np.concatenate(found_scores)
    top = np.lexsort((all_ids, -all_scores))[:limit]
    top = top[all_scores[top] >= min_log10_bf]
    kept, scores, compared, sm, so = _exact(record, this, [current[int(pk)] for pk in all_ids[top]])
    results = []
    for j in np.lexsort((kept, -scores)):
        other_id = int(kept[j])
        pair = (record.pk, other_id) if record.kind == Kind.MISSING else (other_id, record.pk)
        results.append(Candidate(pair[0], pair[1], float(scores[j]), tuple(reasons_at(sm, so, compared, int(j)))))
    return results, stats


def _excluded_ids(record: PersonRecord) -> set[int]:
    if record.kind == Kind.MISSING:
        pairs = AttributeCandidate.objects.filter(missing=record, status=CandidateStatus.EXCLUDED)
        return set(pairs.values_list("found_id", flat=True))
    pairs = AttributeCandidate.objects.filter(found=record, status=CandidateStatus.EXCLUDED)
    return set(pairs.values_list("missing_id", flat=True))


def _exact(record: PersonRecord, this: Columns, rows: list[tuple[Any, ...]]) -> tuple[Any, ...]:
    """Exact scores of re-read rows (compared columns, tags, marks) still in the block:
    (ids, scores, comparison, missing side, found side)."""
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0), None, this, this
    ids, other = _rows_as_columns([row[: len(_ROW_FIELDS)] for row in rows])
    other.tags = [normalise_tags(row[-2]) for row in rows]
    other.marks = [row[-1] or "" for row in rows]
    inside = np.flatnonzero(_block_mask(record, other))  # edited since the snapshot: block again
    ids, other = ids[inside], other.take(inside)
    m, o = (this, other) if record.kind == Kind.MISSING else (other, this)
    compared = compare(m, o)
    return ids, compared.score(), compared, m, o


# --- Writes -------------------------------------------------------------------------------------


class CandidateRefused(Exception):
    """A review step that may not be taken; ``message`` is for the officer, ``status`` for HTTP."""

    def __init__(self, message: str, *, status: int = 409) -> None:
        self.message = message
        self.status = status
        super().__init__(message)


def _sides(record: PersonRecord) -> tuple[str, str]:
    """(this record's field, the other record's field) on AttributeCandidate."""
    return ("missing", "found") if record.kind == Kind.MISSING else ("found", "missing")


def _score_pairs(
    missing: list[PersonRecord], found: list[PersonRecord]
) -> tuple[np.ndarray, list[bool], list[list[Reason]]]:
    m, o = Columns.from_records(missing), Columns.from_records(found)
    compared = compare(m, o)
    blocked = [is_blocked(compared.levels, i) for i in range(len(missing))]
    return compared.score(), blocked, [reasons_at(m, o, compared, i) for i in range(len(missing))]


@transaction.atomic
def candidates_refresh(
    record: PersonRecord, *, limit: int = DEFAULT_LIMIT, min_log10_bf: float = 0.0, actor: Any = None
) -> list[AttributeCandidate]:
    """Bring ``record``'s candidates up to date: add the best ``limit`` pairs from
    :func:`candidates_search`, re-score the open and pursued pairs it already has, and drop
    the open ones that fell out of the block, below ``min_log10_bf`` or whose other record
    is no longer active. Excluded pairs are never touched nor revived; pursued pairs are
    never dropped. A record that is not active keeps no open candidates. Idempotent: a
    second run changes nothing. Returns the record's open and pursued candidates, best first."""
    locked = PersonRecord.objects.select_for_update().get(pk=record.pk)
    this, other = _sides(locked)
    other_id = f"{other}_id"
    existing = {
        getattr(c, other_id): c for c in AttributeCandidate.objects.select_for_update().filter(**{this: locked})
    }
    now = timezone.now()
    fresh: dict[int, Candidate] = {}
    if locked.state == MATCHED_STATE:
        fresh = {
            (c.found_id if this == "missing" else c.missing_id): c
            for c in candidates_search(locked, limit=limit, min_log10_bf=min_log10_bf)
        }
    removed: list[int] = []
    changed: list[AttributeCandidate] = []
    leftovers = [
        c for pk, c in existing.items() if c.status != CandidateStatus.EXCLUDED and pk not in fresh
    ]  # fmt: skip
    if leftovers and locked.state == MATCHED_STATE:
        others = PersonRecord.objects.in_bulk([getattr(c, other_id) for c in leftovers])
        keep = [c for c in leftovers if getattr(c, other_id) in others]
        pairs = [(locked, others[getattr(c, other_id)]) for c in keep]
        if this == "found":
            pairs = [(b, a) for a, b in pairs]
        scores, blocked, reasons = _score_pairs([p[0] for p in pairs], [p[1] for p in pairs]) if pairs else ([], [], [])
        for c, score, out, why in zip(keep, scores, blocked, reasons, strict=True):
            alive = others[getattr(c, other_id)].state == MATCHED_STATE and not out and score >= min_log10_bf
            if not alive and c.status == CandidateStatus.OPEN:
                removed.append(c.pk)
            elif _rescored(c, float(score), why, now):
                changed.append(c)
        removed += [c.pk for c in leftovers if getattr(c, other_id) not in others and c.status == CandidateStatus.OPEN]
    elif leftovers:
        removed = [c.pk for c in leftovers if c.status == CandidateStatus.OPEN]
    added = []
    for pk, candidate in fresh.items():
        current = existing.get(pk)
        if current is None:
            added.append(
                AttributeCandidate(
                    missing_id=candidate.missing_id,
                    found_id=candidate.found_id,
                    log10_bf=candidate.log10_bf,
                    reasons=candidate.reasons_json(),
                    status=CandidateStatus.OPEN,
                )
            )
        elif _rescored(current, candidate.log10_bf, list(candidate.reasons), now):
            changed.append(current)
    if removed:
        AttributeCandidate.objects.filter(pk__in=removed, status=CandidateStatus.OPEN).delete()
    if added:
        # A pair written meanwhile by the other side's refresh is left as it is (never revived).
        AttributeCandidate.objects.bulk_create(added, ignore_conflicts=True)
    if changed:
        AttributeCandidate.objects.bulk_update(changed, ["log10_bf", "reasons", "updated_at"])
    if added or removed or changed:
        timeline.record(
            locked,
            "reunion.candidates.refresh",
            actor=actor,
            data={
                "added": sorted(getattr(c, other_id) for c in added),
                "removed": len(removed),
                "rescored": len(changed),
                "best_log10_bf": round(max((c.log10_bf for c in fresh.values()), default=0.0), 3),
            },
        )
    return list(
        AttributeCandidate.objects.filter(**{this: locked})
        .exclude(status=CandidateStatus.EXCLUDED)
        .order_by("-log10_bf", "id")
    )


def _rescored(candidate: AttributeCandidate, score: float, reasons: list[Reason], now: dt.datetime) -> bool:
    as_json = [reason.as_json() for reason in reasons]
    if abs(candidate.log10_bf - score) < 1e-9 and candidate.reasons == as_json:
        return False
    candidate.log10_bf, candidate.reasons, candidate.updated_at = score, as_json, now
    return True


def candidates_for(
    *, user: Any, record: PersonRecord, statuses: Iterable[str] = (CandidateStatus.OPEN, CandidateStatus.PURSUED)
) -> QuerySet[AttributeCandidate]:
    """The candidates of ``record`` that ``user`` may see: all of them if the user may view
    the record (the other side's record is shown whatever its unit: matching across units is
    the point), none otherwise. Best first."""
    if not access.check(user, "view", record):
        return AttributeCandidate.objects.none()
    this, _other = _sides(record)
    return (
        AttributeCandidate.objects.filter(**{this: record}, status__in=list(statuses))
        .select_related("missing", "found")
        .order_by("-log10_bf", "id")
    )


def _require_reviewer(candidate: AttributeCandidate, actor: Any) -> None:
    """Outside the write's transaction, so that a refusal stays on the timeline."""
    missing = PersonRecord.objects.get(pk=candidate.missing_id)
    access.require(actor, "act", missing, role=REVIEW_ROLES)


def _review(locked: AttributeCandidate, actor: Any, action: str, data: dict[str, Any], before: str) -> None:
    after = {"status": locked.status}
    payload = {"found": locked.found.reference, "log10_bf": round(locked.log10_bf, 3), **data}
    timeline.record(locked.missing, action, actor=actor, data=payload, before={"status": before}, after=after)
    payload = {"missing": locked.missing.reference, "log10_bf": round(locked.log10_bf, 3), **data}
    timeline.record(locked.found, action, actor=actor, data=payload, before={"status": before}, after=after)


def _locked(candidate: AttributeCandidate) -> AttributeCandidate:
    return AttributeCandidate.objects.select_for_update().select_related("missing", "found").get(pk=candidate.pk)


def candidate_exclude(*, candidate: AttributeCandidate, actor: Any, reason: str) -> AttributeCandidate:
    """Exclude a pair with a reason: it is never proposed again (the search leaves it out).
    Open and pursued pairs may be excluded. Needs an investigating role (REVIEW_ROLES) over
    the missing record; on both records' timelines."""
    text = reason.strip() if isinstance(reason, str) else ""
    if not 2 <= len(text) <= 500:
        raise CandidateRefused(_("请填写排除理由（2至500字）。"), status=400)
    _require_reviewer(candidate, actor)
    with transaction.atomic():
        locked = _locked(candidate)
        if locked.status == CandidateStatus.EXCLUDED:
            raise CandidateRefused(_("该候选已排除。"))
        before = locked.status
        locked.status = CandidateStatus.EXCLUDED
        locked.exclusion_reason = text
        locked.reviewed_by = actor
        locked.reviewed_at = timezone.now()
        locked.save(update_fields=["status", "exclusion_reason", "reviewed_by", "reviewed_at", "updated_at"])
        _review(locked, actor, "reunion.candidate.exclude", {"reason": text}, before)
    return locked


def candidate_pursue(*, candidate: AttributeCandidate, actor: Any) -> AttributeCandidate:
    """Mark an open pair for checking (核查: a visit, photos, DNA sampling of the relatives).
    Both records must still be active. Same role as :func:`candidate_exclude`; on both
    records' timelines."""
    _require_reviewer(candidate, actor)
    with transaction.atomic():
        locked = _locked(candidate)
        if locked.status == CandidateStatus.EXCLUDED:
            raise CandidateRefused(_("该候选已排除，不能安排核查。"))
        if locked.status != CandidateStatus.OPEN:
            raise CandidateRefused(_("该候选已安排核查。"))
        if locked.missing.state != MATCHED_STATE or locked.found.state != MATCHED_STATE:
            raise CandidateRefused(_("记录已不在查找中，不能安排核查。"))
        locked.status = CandidateStatus.PURSUED
        locked.reviewed_by = actor
        locked.reviewed_at = timezone.now()
        locked.save(update_fields=["status", "reviewed_by", "reviewed_at", "updated_at"])
        _review(locked, actor, "reunion.candidate.pursue", {}, CandidateStatus.OPEN)
    return locked


# --- Simulation: the assumptions behind PROBABILITIES, the calibration and the benchmark -------
#
# People go missing (children mostly, some teenagers, adults and elderly people), and each is
# later found somewhere (or, taken young, registers as an adult seeker). A family's report and
# a found person's record describe the same person with the noise listed below; a random pair
# of records describes two people. Nothing here is real data.

CITIES: tuple[tuple[str, float, float, float, str], ...] = (
    # name, latitude, longitude, weight, dialect
    ("济南", 36.67, 117.00, 3, "山东话"), ("青岛", 36.07, 120.38, 3, "山东话"), ("聊城", 36.46, 115.99, 2, "山东话"),
    ("临沂", 35.10, 118.36, 2, "山东话"), ("北京", 39.90, 116.40, 2, "北京话"), ("上海", 31.23, 121.47, 2, "上海话"),
    ("广州", 23.13, 113.26, 2, "粤语"), ("深圳", 22.54, 114.06, 2, "粤语"), ("成都", 30.66, 104.07, 2, "四川话"),
    ("重庆", 29.56, 106.55, 2, "四川话"), ("武汉", 30.59, 114.31, 2, "湖北话"), ("西安", 34.34, 108.94, 1, "陕西话"),
    ("郑州", 34.75, 113.63, 2, "河南话"), ("南京", 32.06, 118.80, 1, "江苏话"), ("杭州", 30.27, 120.16, 1, "浙江话"),
    ("长沙", 28.23, 112.94, 1, "湖南话"), ("南昌", 28.68, 115.86, 1, "江西话"), ("合肥", 31.82, 117.23, 1, "安徽话"),
    ("福州", 26.07, 119.30, 1, "福建话"), ("昆明", 25.04, 102.71, 1, "云南话"), ("贵阳", 26.65, 106.63, 1, "贵州话"),
    ("南宁", 22.82, 108.37, 1, "广西话"), ("哈尔滨", 45.80, 126.53, 1, "东北话"), ("沈阳", 41.81, 123.43, 1, "东北话"),
    ("石家庄", 38.04, 114.51, 1, "河北话"), ("太原", 37.87, 112.55, 1, "山西话"), ("兰州", 36.06, 103.83, 1, "甘肃话"),
)  # fmt: skip
DIALECTS = tuple(sorted({city[4] for city in CITIES}))
MARK_TAGS: tuple[tuple[str, float, tuple[str, ...]], ...] = (
    ("痣-面部", 10, ("脸上有痣", "面部有一颗黑痣", "脸颊有颗痣")),
    ("痣-颈部", 5, ("脖子上有痣", "颈部有黑痣", "颈后一颗痣")),
    ("胎记-躯干", 6, ("背部有胎记", "后背一块青色胎记", "腰部有胎记")),
    ("胎记-四肢", 5, ("左臂有胎记", "腿上有块红色胎记", "手臂胎记")),
    ("胎记-头面部", 3, ("额头有胎记", "脸上有红色胎记", "头皮有胎记")),
    ("疤痕-头部", 5, ("头上有疤", "头顶有伤疤", "后脑勺有疤痕")),
    ("疤痕-面部", 4, ("脸上有疤", "眉毛上方有疤痕", "下巴有伤疤")),
    ("疤痕-四肢", 5, ("手上有疤", "膝盖有伤疤", "小腿有烫伤疤痕")),
    ("头顶双旋", 6, ("头顶两个旋", "头发有双旋", "头上两个旋")),
    ("耳前瘘管", 2, ("耳朵前有小孔", "耳前有小洞", "耳前瘘管")),
    ("六指", 0.5, ("右手六指", "右手六个手指", "多一根手指")),
    ("唇裂", 0.5, ("唇裂", "兔唇", "上唇有唇裂手术疤痕")),
    ("斜视", 1, ("斜眼", "眼睛斜视", "一只眼睛斜视")),
    ("跛行", 1, ("走路跛", "腿有残疾走路跛", "跛脚")),
    ("缺牙", 2, ("门牙缺一颗", "缺了颗牙", "牙齿缺损")),
    ("智力障碍", 2, ("智力障碍", "反应迟钝", "智力低下")),
    ("聋哑", 1, ("聋哑", "不会说话", "听力障碍")),
    ("文身", 2, ("手臂有文身", "有纹身", "背部文身")),
)
SIMULATION_START = dt.date(1985, 1, 1)
SIMULATION_END = dt.date(2026, 10, 31)


@dataclass(slots=True)
class SimulatedRecords:
    """Raw field values of n records, as a form would store them (the benchmark inserts
    them as PersonRecord rows; :meth:`columns` is what the scorer compares)."""

    kind: np.ndarray
    sex: np.ndarray
    birth_year_min: np.ndarray
    birth_year_max: np.ndarray
    event_day: np.ndarray  # days since 1970-01-01
    height_cm: np.ndarray  # float, nan = not recorded
    latitude: np.ndarray
    longitude: np.ndarray
    division_code: np.ndarray
    dialect: np.ndarray  # object, "" = not recorded
    mark_tags: list[list[str]]
    marks: list[str]

    def __len__(self) -> int:
        return len(self.kind)

    def columns(self) -> Columns:
        tags = [normalise_tags(t) for t in self.mark_tags]
        return Columns(
            sex=self.sex.astype("<U1"),
            by_min=self.birth_year_min.astype(np.int64),
            by_max=self.birth_year_max.astype(np.int64),
            event_day=self.event_day.astype(np.int64),
            seeker=self.kind == Kind.SEEKER.value,
            height=self.height_cm.astype(float),
            lat=self.latitude.astype(float),
            lon=self.longitude.astype(float),
            division=np.array([division_code(d) for d in self.division_code], dtype=np.int64),
            dialect=np.array([dialect_code(d) for d in self.dialect], dtype=np.int64),
            has_tags=np.array([bool(t) for t in tags], dtype=bool),
            has_text=np.array([bool(bigrams(m)) for m in self.marks], dtype=bool),
            tags=tags,
            marks=list(self.marks),
        )


def _true_height(sex: np.ndarray, age: np.ndarray, z: np.ndarray) -> np.ndarray:
    return median_height(sex, age) * (1 + 0.045 * z)


def _destination(
    rng: np.random.Generator, lat: np.ndarray, lon: np.ndarray, km: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The point ``km`` away in a random direction (spherical)."""
    bearing = rng.uniform(0, 2 * np.pi, len(lat))
    d = km / EARTH_RADIUS_KM
    p1, l1 = np.radians(lat), np.radians(lon)
    p2 = np.arcsin(np.sin(p1) * np.cos(d) + np.cos(p1) * np.sin(d) * np.cos(bearing))
    l2 = l1 + np.arctan2(np.sin(bearing) * np.sin(d) * np.cos(p1), np.cos(d) - np.sin(p1) * np.sin(p2))
    return np.degrees(p2), (np.degrees(l2) + 540) % 360 - 180


def synthetic_division(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """A made-up 6-digit code with the real hierarchy: 4° cells (province), 1° (prefecture),
    0.25° (county), so shared prefixes mean nearby places."""
    province = (np.floor(lat / 4).astype(int) * 7 + np.floor(lon / 4).astype(int)) % 90 + 10
    prefecture = (np.floor(lat) % 4 * 4 + np.floor(lon) % 4).astype(int)
    county = (np.floor(lat * 4) % 4 * 4 + np.floor(lon * 4) % 4).astype(int)
    return np.char.zfill((province * 10000 + prefecture * 100 + county).astype("<U6"), 6)


def _mark_text(rng: np.random.Generator, tags: list[str]) -> str:
    phrases = {tag: variants for tag, _weight, variants in MARK_TAGS}
    return "，".join(str(rng.choice(phrases[tag])) for tag in tags)


def _record_marks(
    rng: np.random.Generator, true_marks: list[list[str]], keep: float, spurious: float, coded: float
) -> tuple[list[list[str]], list[str]]:
    names = [tag for tag, _w, _v in MARK_TAGS]
    weights = np.array([w for _t, w, _v in MARK_TAGS]) / sum(w for _t, w, _v in MARK_TAGS)
    tags_out, text_out = [], []
    for marks in true_marks:
        seen = [tag for tag in marks if rng.random() < keep]
        if rng.random() < spurious:
            seen.append(str(rng.choice(names, p=weights)))
        seen = sorted(set(seen))
        if not seen:
            tags_out.append([])
            text_out.append("")
        elif rng.random() < coded:
            tags_out.append(seen)
            text_out.append(_mark_text(rng, seen))
        else:  # described in words only, not coded as tags
            tags_out.append([])
            text_out.append(_mark_text(rng, seen))
    return tags_out, text_out


def _dialect_names(rng: np.random.Generator, dialects: np.ndarray) -> np.ndarray:
    """Dialects as people write them: 四川话 / 四川口音 / 四川方言."""
    stems = np.array([d[:-1] if d.endswith("话") else d for d in dialects], dtype=object)
    suffix = rng.choice(np.array(["话", "口音", "方言"], dtype=object), len(dialects), p=[0.6, 0.3, 0.1])
    named = np.where(stems == "粤语", "粤语", stems + suffix)
    return np.where(dialects == "", "", named).astype(object)


def simulate_people(n: int, *, seed: int, seeker_share: float = 0.15) -> tuple[SimulatedRecords, SimulatedRecords]:
    """``n`` people: for each, the family's missing report and the record made when found
    (or, for some taken young, their registration as an adult seeker). Row i of both is the
    same person; row i against row j != i is two different people."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(np.array(["M", "F"]), n, p=[0.55, 0.45])
    # Age when missing: young children most, then older children, runaway teenagers,
    # adults, and elderly people who wander off.
    band = rng.choice(5, n, p=[0.35, 0.2, 0.15, 0.1, 0.2])
    lows, highs = np.array([0, 6, 14, 18, 60]), np.array([6, 14, 18, 60, 90])
    age_missing = rng.uniform(lows[band], highs[band])
    seeker = (age_missing < 10) & (rng.random(n) < seeker_share / 0.45)
    # The gap to the finding (or to the seeker's registration).
    gap_kind = rng.choice(3, n, p=[0.4, 0.3, 0.3])
    gap_days = np.select(
        [gap_kind == 0, gap_kind == 1],
        [rng.exponential(7, n), rng.uniform(30, 365, n)],
        np.exp(rng.uniform(np.log(365), np.log(25 * 365), n)),
    )
    gap_days = np.where(seeker, rng.uniform(15, 40, n) * DAYS_PER_YEAR, gap_days)
    start, end = (SIMULATION_START - EPOCH).days, (SIMULATION_END - EPOCH).days
    found_day = rng.integers(start, end, n)
    missing_day = (found_day - np.round(gap_days)).astype(np.int64)
    birth_day = missing_day - np.round(age_missing * DAYS_PER_YEAR).astype(np.int64)
    birth_year = (birth_day / DAYS_PER_YEAR + 1970).astype(int)
    age_found = (found_day - birth_day) / DAYS_PER_YEAR

    weights = np.array([c[3] for c in CITIES]) / sum(c[3] for c in CITIES)
    home = rng.choice(len(CITIES), n, p=weights)
    home_lat = np.array([CITIES[c][1] for c in home]) + rng.normal(0, 0.25, n)
    home_lon = np.array([CITIES[c][2] for c in home]) + rng.normal(0, 0.25, n)
    true_dialect = np.array([CITIES[c][4] for c in home], dtype=object)

    z1 = rng.normal(0, 1, n)
    growth_years = np.minimum(age_found, 18) - np.minimum(age_missing, 18)
    rho = np.exp(-np.maximum(growth_years, 0) / 30)
    z2 = rho * z1 + np.sqrt(1 - rho**2) * rng.normal(0, 1, n)
    names = [tag for tag, _w, _v in MARK_TAGS]
    tag_p = np.array([w for _t, w, _v in MARK_TAGS]) / sum(w for _t, w, _v in MARK_TAGS)
    true_marks = [sorted(set(rng.choice(names, k, p=tag_p).tolist())) for k in rng.poisson(1.0, n)]

    # The family's report.
    unsure = rng.random(n) < 0.1
    h1 = np.round(_true_height(sex, age_missing, z1) + rng.normal(0, 3, n))
    lat1 = np.where(rng.random(n) < 0.85, home_lat, np.nan)
    lon1 = np.where(np.isnan(lat1), np.nan, home_lon)
    tags1, text1 = _record_marks(rng, true_marks, keep=0.9, spurious=0.02, coded=0.7)
    missing = SimulatedRecords(
        kind=np.full(n, Kind.MISSING.value, dtype=object),
        sex=sex,
        birth_year_min=birth_year - unsure,
        birth_year_max=birth_year + unsure,
        event_day=missing_day,
        height_cm=np.where(rng.random(n) < 0.75, h1, np.nan),
        latitude=lat1,
        longitude=lon1,
        division_code=np.where(rng.random(n) < 0.95, synthetic_division(home_lat, home_lon), ""),
        dialect=_dialect_names(rng, np.where(rng.random(n) < 0.6, true_dialect, "")),
        mark_tags=tags1,
        marks=text1,
    )

    # The record made when the person is found: an officer's estimates.
    roll = rng.random(n)
    wrong = np.where(sex == "M", "F", "M")
    sex2 = np.where(roll < 0.97, sex, np.where(roll < 0.995, "U", wrong))
    sigma = np.where(seeker, 1.0, np.minimum(0.5 + 0.08 * age_found, 5.0))
    estimate = age_found + rng.normal(0, sigma)
    half = np.maximum(1, np.round(rng.uniform(0.5, 1.5, n) * sigma)).astype(int)
    half = np.where(seeker & (rng.random(n) < 0.5), 0, half)
    found_year = (found_day / DAYS_PER_YEAR + 1970).astype(int)
    h2 = np.round(_true_height(sex, age_found, z2) + rng.normal(0, 1.5, n))
    move = rng.choice(3, n, p=[0.45, 0.25, 0.3])
    move = np.where(seeker, rng.choice(3, n, p=[0.15, 0.15, 0.7]), move)
    km = np.where(move == 0, rng.exponential(15, n), rng.lognormal(np.log(150), 0.6, n))
    lat2, lon2 = _destination(rng, home_lat, home_lon, km)
    far_city = rng.choice(len(CITIES), n, p=weights)
    lat2 = np.where(move == 2, np.array([CITIES[c][1] for c in far_city]) + rng.normal(0, 0.25, n), lat2)
    lon2 = np.where(move == 2, np.array([CITIES[c][2] for c in far_city]) + rng.normal(0, 0.25, n), lon2)
    recorded = rng.random(n) < 0.85
    same_dialect = rng.random(n) < np.where(seeker, 0.2, np.where(gap_days < 2 * 365, 0.8, 0.4))
    spoken = np.where(same_dialect, true_dialect, np.array(DIALECTS, dtype=object)[rng.integers(0, len(DIALECTS), n)])
    has_dialect = (age_found >= 3) & (rng.random(n) < 0.5)
    tags2, text2 = _record_marks(rng, true_marks, keep=np.where(seeker, 0.85, 0.7).mean(), spurious=0.1, coded=0.7)
    found = SimulatedRecords(
        kind=np.where(seeker, Kind.SEEKER.value, Kind.FOUND.value).astype(object),
        sex=sex2,
        birth_year_min=found_year - np.round(estimate + half).astype(int),
        birth_year_max=found_year - np.round(estimate - half).astype(int),
        event_day=found_day,
        height_cm=np.where(rng.random(n) < np.where(seeker, 0.9, 0.85), h2, np.nan),
        latitude=np.where(recorded, lat2, np.nan),
        longitude=np.where(recorded, lon2, np.nan),
        division_code=np.where(rng.random(n) < 0.95, synthetic_division(lat2, lon2), ""),
        dialect=_dialect_names(rng, np.where(has_dialect, spoken, "")),
        mark_tags=tags2,
        marks=text2,
    )
    return missing, found


def simulate_pairs(n: int, *, seed: int, random_per_person: int = 20) -> tuple[Columns, Columns, np.ndarray]:
    """Pairs for fitting and calibration: the n true pairs, then ``random_per_person`` × n
    random pairs (a missing report against another person's record). Columns of equal
    length, row k of each side forming pair k, and the truth."""
    missing, found = simulate_people(n, seed=seed)
    m, o = missing.columns(), found.columns()
    rng = np.random.default_rng(seed + 1_000_003)
    left = np.concatenate([np.arange(n)] + [np.arange(n)] * random_per_person)
    right = np.concatenate([np.arange(n)] + [(np.arange(n) + rng.integers(1, n)) % n for _ in range(random_per_person)])
    truth = np.zeros(len(left), dtype=bool)
    truth[:n] = True
    return m.take(left), o.take(right), truth


def score_pairs(m: Columns, o: Columns) -> tuple[np.ndarray, np.ndarray, Compared]:
    """Pairwise scores of equal-length sides as the search would give them: (scores of the
    pairs inside the block, their row numbers, the full comparison of those rows)."""
    quick = compare(m, o, marks=False)
    inside = np.ones(len(m), dtype=bool)
    for name, level in BLOCKING_LEVELS.items():
        inside &= quick.levels[name] != _index(name, level)
    rows = np.flatnonzero(inside)
    full = compare(m.take(rows), o.take(rows))
    return full.score(), rows, full


def fit_probabilities(m: Columns, o: Columns, truth: np.ndarray) -> dict[str, dict[str, tuple[float, float]]]:
    """m and u per level by counting on labelled pairs: each blocking comparison among the
    pairs that pass the blocking comparisons before it (chain rule: sex, birth year, event
    order), the others among the pairs inside the block; always conditional on the level's
    group (:data:`GROUPS`) and never ``na``; floored at :data:`PROBABILITY_FLOOR`."""
    compared = compare(m, o)
    passing = np.ones(len(truth), dtype=bool)
    fitted: dict[str, dict[str, tuple[float, float]]] = {}
    for name in COMPARISONS:  # the blocking comparisons come first
        levels = compared.levels[name]
        groups = GROUPS.get(name, {"all": tuple(level for level in LEVELS[name] if level != "na")})
        fitted[name] = {}
        for members in groups.values():
            usable = passing & np.isin(levels, [_index(name, level) for level in members])
            for level in members:
                hit = usable & (levels == _index(name, level))
                m_p = (hit & truth).sum() / max(1, (usable & truth).sum())
                u_p = (hit & ~truth).sum() / max(1, (usable & ~truth).sum())
                fitted[name][level] = (max(float(m_p), PROBABILITY_FLOOR), max(float(u_p), PROBABILITY_FLOOR))
        if name in BLOCKING_LEVELS:
            passing = passing & (levels != _index(name, BLOCKING_LEVELS[name]))
    return fitted


@dataclass(frozen=True, slots=True)
class CalibrationBin:
    low: float
    high: float
    pairs: int
    predicted: float  # mean predicted probability in the bin
    observed: float  # share of true pairs in the bin
    true_pairs: int


def calibration(
    scores: np.ndarray, truth: np.ndarray, *, prior: float, edges: Sequence[float] = (0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0)
) -> list[CalibrationBin]:
    """Predicted posterior (with ``prior``) against the observed share of true pairs, per bin."""
    log_odds = math.log10(prior / (1 - prior)) + scores
    predicted = 1 / (1 + 10.0 ** (-np.clip(log_odds, -300, 300)))
    bins = []
    for low, high in itertools.pairwise(edges):
        inside = (predicted >= low) & ((predicted < high) | (high >= 1.0))
        count = int(inside.sum())
        if count:
            bins.append(
                CalibrationBin(low, high, count, float(predicted[inside].mean()), float(truth[inside].mean()),
                               int(truth[inside].sum()))
            )  # fmt: skip
    return bins
