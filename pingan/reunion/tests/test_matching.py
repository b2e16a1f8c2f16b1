"""The attribute scorer, comparison by comparison, on unsaved records (no database): each
level's inputs, its weight log10(m/u) and its sentence; the sum; the posterior."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pytest
from django.utils import translation

from pingan.core import geo
from pingan.reunion import matching
from pingan.reunion.models import PersonRecord

P = matching.PROBABILITIES


def w(comparison: str, level: str) -> float:
    m, u = P[comparison][level]
    return math.log10(m / u)


def record(kind: str = "missing", **fields: Any) -> PersonRecord:
    values: dict[str, Any] = {
        "kind": kind,
        "sex": "M",
        "birth_year_min": 2015,
        "birth_year_max": 2015,
        "event_date": dt.date(2020, 6, 1),
        "height_cm": None,
        "latitude": None,
        "longitude": None,
        "division_code": "",
        "dialect": "",
        "marks": "",
        "mark_tags": [],
    }
    values.update(fields)
    return PersonRecord(**values)


def found(**fields: Any) -> PersonRecord:
    fields.setdefault("event_date", dt.date(2020, 6, 11))
    return record("found", **fields)


def reason(missing: PersonRecord, other: PersonRecord, comparison: str) -> matching.Reason:
    with translation.override("zh-hans"):
        return next(r for r in matching.explain(missing, other) if r.comparison == comparison)


# --- sex -------------------------------------------------------------------------------------


def test_sex_agree_unknown_and_disagree():
    agree = reason(record(sex="F"), found(sex="F"), "sex")
    assert (agree.level, agree.weight) == ("agree", pytest.approx(w("sex", "agree")))
    assert agree.text.startswith("性别相同（女）")
    unknown = reason(record(sex="F"), found(sex="U"), "sex")
    assert (unknown.level, unknown.weight) == ("na", 0.0)
    disagree = reason(record(sex="F"), found(sex="M"), "sex")
    assert disagree.level == "disagree"
    assert disagree.weight == pytest.approx(w("sex", "disagree"))
    assert disagree.weight < -1.5  # a blocking level: as good as impossible


# --- birth year ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("missing_years", "found_years", "level", "text"),
    [
        ((2015, 2015), (2015, 2015), "exact", "出生年份吻合：2015 与 2015"),
        ((2015, 2015), (2014, 2015), "exact", "出生年份吻合：2015 与 2014–2015"),
        ((2015, 2015), (2014, 2016), "narrow", "出生年份在估计范围内：2015 与 2014–2016"),
        ((2014, 2016), (2013, 2016), "wide", "出生年份在较宽的估计范围内：2014–2016 与 2013–2016"),
        ((2015, 2015), (2016, 2018), "off_1", "出生年份相差 1 年：2015 与 2016–2018"),
        ((2015, 2015), (2011, 2012), "off_2_3", "出生年份相差 3 年：2015 与 2011–2012"),
        ((2015, 2015), (2019, 2020), "far", "出生年份相差 4 年，超出容差：2015 与 2019–2020"),
    ],
)
def test_birth_year_levels(missing_years, found_years, level, text):
    got = reason(
        record(birth_year_min=missing_years[0], birth_year_max=missing_years[1]),
        found(birth_year_min=found_years[0], birth_year_max=found_years[1]),
        "birth_year",
    )
    assert got.level == level
    assert got.weight == pytest.approx(w("birth_year", level))
    assert got.text == f"{text}（{got.weight:+.1f}）"


def test_a_precise_agreement_weighs_more_than_a_wide_one():
    assert w("birth_year", "exact") > w("birth_year", "narrow") > w("birth_year", "off_1") > 0
    assert w("birth_year", "far") < -1


# --- event order and gap ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "level", "text"),
    [
        (10, "within_30d", "失踪后 10 天被发现"),
        (0, "within_30d", "失踪后 0 天被发现"),
        (200, "within_1y", "失踪后约 7 个月被发现"),
        (3 * 365, "within_10y", "失踪约 3 年后被发现"),
        (20 * 365, "over_10y", "失踪约 20 年后被发现"),
        (-5, "before", "发现日期早于失踪日期 5 天"),
    ],
)
def test_event_gap_levels(days, level, text):
    missing = record(event_date=dt.date(2000, 6, 1))
    got = reason(missing, found(event_date=missing.event_date + dt.timedelta(days=days)), "event_gap")
    assert got.level == level
    assert got.weight == pytest.approx(w("event_gap", level))
    assert got.text.startswith(text)


def test_a_seeker_registers_at_any_date_and_the_date_is_not_compared():
    missing = record(event_date=dt.date(1997, 3, 1))
    seeker = record("seeker", event_date=dt.date(1990, 1, 1), birth_year_min=2014, birth_year_max=2016)
    got = reason(missing, seeker, "event_gap")
    assert (got.level, got.weight) == ("na", 0.0)


def test_found_soon_weighs_more_than_found_years_later():
    assert w("event_gap", "within_30d") > w("event_gap", "within_1y") > 0 > w("event_gap", "over_10y")


# --- place ------------------------------------------------------------------------------------

JINAN = (36.6512, 117.1201)


@pytest.mark.parametrize(
    ("km", "level"), [(3, "km_10"), (35, "km_50"), (150, "km_200"), (800, "km_1000"), (2000, "km_far")]
)
def test_place_distance_bands(km, level):
    # Due north: one degree of latitude is 111.195 km on the geo module's sphere.
    north = JINAN[0] + km / (geo.EARTH_RADIUS_KM * math.pi / 180)
    missing = record(latitude=JINAN[0], longitude=JINAN[1])
    other = found(latitude=north, longitude=JINAN[1])
    got = reason(missing, other, "place")
    assert got.level == level
    assert got.weight == pytest.approx(w("place", level))
    expected = f"{km:.1f}" if km < 10 else f"{km:,.0f}"
    assert got.text.startswith(f"失踪地与发现地相距 {expected} 公里")


def test_the_vectorised_distance_is_the_geo_module_distance():
    rng = np.random.default_rng(5)
    lat1, lat2 = rng.uniform(18, 53, 50), rng.uniform(18, 53, 50)
    lon1, lon2 = rng.uniform(73, 135, 50), rng.uniform(73, 135, 50)
    fast = matching.haversine_km(lat1, lon1, lat2, lon2)
    for i in range(50):
        exact = geo.distance_km(geo.Point(lat1[i], lon1[i]), geo.Point(lat2[i], lon2[i]))
        assert fast[i] == pytest.approx(exact, rel=1e-9)


@pytest.mark.parametrize(
    ("code", "level", "text"),
    [
        ("371502", "same_county", "失踪地与发现地在同一县（区）"),
        ("371503", "same_prefecture", "失踪地与发现地在同一地级市"),
        ("370102", "same_province", "失踪地与发现地在同一省份"),
        ("510104", "other_province", "失踪地与发现地不在同一省份"),
    ],
)
def test_place_by_county_code_when_there_are_no_coordinates(code, level, text):
    got = reason(record(division_code="371502"), found(division_code=code, latitude=36.4, longitude=116.0), "place")
    assert got.level == level
    assert got.weight == pytest.approx(w("place", level))
    assert got.text.startswith(text)


def test_no_place_is_not_compared():
    got = reason(record(), found(), "place")
    assert (got.level, got.weight, got.text) == ("na", 0.0, "缺少地点，未比较（+0.0）")


# --- height -----------------------------------------------------------------------------------


def test_adult_heights_compare_directly():
    adult = {"birth_year_min": 1980, "birth_year_max": 1980}
    missing = record(height_cm=170, **adult)
    assert reason(missing, found(height_cm=172, **adult), "height").level == "same_close"  # 2 ≤ 4 cm
    assert reason(missing, found(height_cm=177, **adult), "height").level == "same_near"  # 7 ≤ 8 cm
    far = reason(missing, found(height_cm=181, **adult), "height")
    assert far.level == "same_far"
    assert far.weight == pytest.approx(w("height", "same_far"))
    assert far.text.startswith("身高差异较大：170 厘米与 181 厘米")


def test_a_child_is_expected_to_grow_along_the_median_curve():
    # A boy born mid-2015 (5.0 years old on 2 July 2020) of 111 cm, found on 2 July 2025 at 10.0.
    missing = record(height_cm=111, event_date=dt.date(2020, 7, 2))
    later = {"event_date": dt.date(2025, 7, 2)}
    born = 2015.5
    age_then = (missing.event_date - matching.EPOCH).days / matching.DAYS_PER_YEAR + 1970 - born
    age_now = (later["event_date"] - matching.EPOCH).days / matching.DAYS_PER_YEAR + 1970 - born
    boys = matching.MEDIAN_HEIGHT_CM["M"]
    median = lambda age: np.interp(age, range(19), boys)  # noqa: E731
    predicted = 111 * median(age_now) / median(age_then)
    assert predicted == pytest.approx(111 * 140.2 / 111.3, abs=0.1)  # the medians at 10 and 5
    tolerance = matching.HEIGHT_TOLERANCE_CM + matching.GROWTH_TOLERANCE * (predicted - 111)
    close = reason(missing, found(height_cm=round(predicted + tolerance - 0.5), **later), "height")
    assert close.level == "grown_close"
    assert close.text.startswith(f"身高相符：失踪时 111 厘米，按生长推算约 {round(predicted)} 厘米")
    near = reason(missing, found(height_cm=round(predicted + 2 * tolerance - 0.5), **later), "height")
    assert near.level == "grown_near"
    far = reason(missing, found(height_cm=round(predicted + 2 * tolerance + 1), **later), "height")
    assert far.level == "grown_far"
    assert far.weight == pytest.approx(w("height", "grown_far"))
    # Without the growth allowance the same child would be "far" at its own earlier height.
    assert reason(missing, found(height_cm=111, **later), "height").level == "grown_far"


def test_girls_follow_the_girls_curve():
    missing = record(sex="F", height_cm=100)
    later = found(sex="F", height_cm=150, event_date=dt.date(2028, 6, 1))
    height = next(r for r in matching.explain(missing, later) if r.comparison == "height")
    ages = [
        (day - matching.EPOCH).days / matching.DAYS_PER_YEAR + 1970 - 2015.5
        for day in (missing.event_date, later.event_date)
    ]

    def grown(curve: str) -> int:
        table = matching.MEDIAN_HEIGHT_CM[curve]
        return round(100 * np.interp(ages[1], range(19), table) / np.interp(ages[0], range(19), table))

    assert grown("F") != grown("M")
    assert f"约 {grown('F')} 厘米" in height.text


def test_no_height_is_not_compared():
    assert reason(record(height_cm=120), found(), "height").level == "na"


# --- marks ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mine", "theirs", "level"),
    [
        (["胎记-四肢", "头顶双旋"], ["胎记-四肢"], "tags_strong"),  # Jaccard 1/2
        (["胎记-四肢", "头顶双旋", "缺牙"], [" 胎记-四肢 "], "tags_some"),  # 1/3, whitespace ignored
        (["胎记-四肢"], ["六指"], "tags_none"),
    ],
)
def test_mark_tags_overlap(mine, theirs, level):
    got = reason(record(mark_tags=mine), found(mark_tags=theirs), "marks")
    assert got.level == level
    assert got.weight == pytest.approx(w("marks", level))
    if level != "tags_none":
        assert "胎记-四肢" in got.text


def test_free_text_marks_when_tags_are_missing():
    similar = reason(record(marks="左臂有一块红色胎记"), found(marks="左臂有红色胎记"), "marks")
    assert similar.level == "text_similar"
    assert matching.text_similarity("左臂有一块红色胎记", "左臂有红色胎记") >= 0.5
    different = reason(record(marks="右手六指"), found(marks="后背有烫伤疤痕"), "marks")
    assert different.level == "text_different"
    assert different.weight == pytest.approx(w("marks", "text_different"))
    assert reason(record(marks="右手六指"), found(), "marks").level == "na"


# --- dialect ----------------------------------------------------------------------------------


def test_dialects_are_compared_after_normalising():
    assert matching.normalise_dialect(" 四川话 ") == matching.normalise_dialect("四川口音") == "四川"
    agree = reason(record(dialect="四川话"), found(dialect="四川口音"), "dialect")
    assert (agree.level, agree.text) == ("agree", f"口音相同：四川（{agree.weight:+.1f}）")
    disagree = reason(record(dialect="四川话"), found(dialect="河南话"), "dialect")
    assert disagree.level == "disagree"
    assert disagree.weight == pytest.approx(w("dialect", "disagree"))
    assert reason(record(dialect="四川话"), found(), "dialect").level == "na"


# --- the sum ------------------------------------------------------------------------------------


def test_the_bayes_factor_is_the_sum_of_the_weights_of_every_comparison():
    missing = record(
        sex="M", height_cm=105, latitude=36.45, longitude=115.98, dialect="山东话", mark_tags=["头顶双旋", "痣-面部"],
        birth_year_min=2016, birth_year_max=2016, event_date=dt.date(2021, 3, 1),
    )  # fmt: skip
    other = found(
        sex="M", height_cm=106, latitude=36.60, longitude=116.20, dialect="山东口音", mark_tags=["头顶双旋"],
        birth_year_min=2015, birth_year_max=2017, event_date=dt.date(2021, 3, 9),
    )  # fmt: skip
    reasons = matching.explain(missing, other)
    assert [r.comparison for r in reasons] == list(matching.COMPARISONS)
    levels = {r.comparison: r.level for r in reasons}
    assert levels == {
        "sex": "agree", "birth_year": "narrow", "event_gap": "within_30d", "place": "km_50",
        "height": "same_close", "marks": "tags_strong", "dialect": "agree",
    }  # fmt: skip
    by_hand = (
        w("sex", "agree") + w("birth_year", "narrow") + w("event_gap", "within_30d") + w("place", "km_50")
        + w("height", "same_close") + w("marks", "tags_strong") + w("dialect", "agree")
    )  # fmt: skip
    assert matching.attribute_log10_bf(missing, other) == pytest.approx(by_hand)
    assert sum(r.weight for r in reasons) == pytest.approx(by_hand)
    assert by_hand > 6  # a strong candidate
    assert all(r.text.endswith(f"（{r.weight:+.1f}）") for r in reasons)
    assert reasons[0].as_json() == {
        "comparison": "sex", "level": "agree", "weight": round(w("sex", "agree"), 3), "text": reasons[0].text,
    }  # fmt: skip


def test_explain_compares_a_missing_record_with_a_found_or_seeker_record_only():
    with pytest.raises(ValueError, match="missing record with a found or seeker"):
        matching.explain(found(), record())
    with pytest.raises(ValueError, match="missing record with a found or seeker"):
        matching.attribute_log10_bf(record(), record())


def test_every_level_has_probabilities_and_a_sentence():
    for name, levels in matching.LEVELS.items():
        for level in levels:
            key = (name, "km") if name == "place" and level.startswith("km") else (name, level)
            assert key in matching.TEXTS
            if level != "na":
                m, u = matching.PROBABILITIES[name][level]
                assert 0 < m <= 1
                assert 0 < u <= 1
        for group in matching.GROUPS.get(name, {"all": tuple(x for x in levels if x != "na")}).values():
            assert sum(matching.PROBABILITIES[name][x][0] for x in group) == pytest.approx(1, abs=0.01)
            assert sum(matching.PROBABILITIES[name][x][1] for x in group) == pytest.approx(1, abs=0.01)


# --- posterior ----------------------------------------------------------------------------------


def test_posterior_probability_from_a_bayes_factor_and_a_prior():
    assert matching.posterior_probability(0.0, prior=0.5) == pytest.approx(0.5)
    # prior odds 1:999, BF 10^3 -> posterior odds 1000:999
    assert matching.posterior_probability(3.0, prior=0.001) == pytest.approx(1000 / 1999)
    assert matching.posterior_probability(-3.0, prior=0.5) == pytest.approx(1 / 1001)
    assert matching.posterior_probability(400.0, prior=1e-6) == 1.0
    for bad in (0.0, 1.0, -0.1, 2.0):
        with pytest.raises(ValueError, match="prior"):
            matching.posterior_probability(1.0, prior=bad)


def test_prior_spreads_the_chance_of_being_in_the_database_over_its_records():
    assert matching.prior_for(1_000_000) == pytest.approx(5e-7)
    assert matching.prior_for(100, present=0.2) == pytest.approx(0.002)
    with pytest.raises(ValueError, match="database_size"):
        matching.prior_for(0)
