"""Profiles at the edge: markers, microvariants, homozygotes and every kind of bad input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from pingan.dna.kinship import Profile, ProfileError, default_table, parse_profile
from pingan.dna.kinship.frequencies import FrequencyTable, normalise_allele


def test_microvariant_is_kept_as_written() -> None:
    profile = parse_profile({"TH01": [9.3, "9"], "D21S11": ["30.2", 31]})
    assert profile["TH01"] == ("9", "9.3")
    assert profile["D21S11"] == ("30.2", "31")
    assert profile.to_json() == {"TH01": ["9", "9.3"], "D21S11": ["30.2", "31"]}


@pytest.mark.parametrize("alleles", [[12], [12, 12], ["12"], [12.0, "12"]])
def test_homozygote_spellings(alleles: list) -> None:
    assert parse_profile({"TPOX": alleles})["TPOX"] == ("12", "12")


def test_marker_names_are_matched_loosely() -> None:
    profile = parse_profile({"VWA": [14, 17], "penta_d": [9, 13], "PentaE": [11, 11], "th01": [6, 9]})
    assert set(profile) == {"vWA", "Penta D", "Penta E", "TH01"}


def test_profile_is_immutable_and_hashable() -> None:
    profile = parse_profile({"TPOX": [11, 8]})
    assert profile == Profile({"TPOX": ("8", "11")})
    assert hash(profile) == hash(Profile({"TPOX": ("11", "8")}))
    with pytest.raises(TypeError):
        profile["TPOX"] = ("8", "8")  # type: ignore[index]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"XYZ123": [1, 2]}, "XYZ123"),
        ({"AMEL": ["X", "Y"]}, "AMEL"),
        ({"TPOX": [8, 11, 12]}, "3 个"),
        ({"TPOX": []}, "0 个"),
        ({"TPOX": ["abc", 8]}, "abc"),
        ({"TPOX": ["9.3.1"]}, "9.3.1"),
        ({"TPOX": ["9.33"]}, "9.33"),
        ({"TPOX": [-8]}, "-8"),
        ({"TPOX": [0]}, "0"),
        ({"TPOX": [True]}, "True"),
        ({"TPOX": "8,11"}, "列表"),
        ({"TPOX": None}, "列表"),
        ({"TPOX": [None]}, "None"),
        ({"TPOX": [float("nan")]}, "nan"),
        ({"TPOX": ["８"]}, "８"),
        ({}, "没有任何位点"),
    ],
)
def test_bad_profiles_are_refused_naming_the_marker(data: dict, message: str) -> None:
    with pytest.raises(ProfileError) as caught:
        parse_profile(data)
    assert message in str(caught.value)
    assert caught.value.errors
    assert isinstance(caught.value, ValueError)


def test_every_problem_is_listed_at_once() -> None:
    with pytest.raises(ProfileError) as caught:
        parse_profile({"XYZ": [1], "TPOX": [1, 2, 3], "FGA": ["x"], "vWA": [14, 17], "VWA": [14, 14]})
    assert len(caught.value.errors) == 4
    assert any("FGA" in error for error in caught.value.errors)
    assert any("vWA" in error and "重复" in error for error in caught.value.errors)


def test_not_a_mapping() -> None:
    with pytest.raises(ProfileError):
        parse_profile([["TPOX", 8]])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(9, "9"), ("9", "9"), (9.0, "9"), ("9.0", "9"), (9.3, "9.3"), ("09.3", "9.3"), (" 12 ", "12"), ("100", "100")],
)
def test_allele_normalisation(value: object, expected: str) -> None:
    assert normalise_allele(value) == expected


@hypothesis_settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=8), st.integers(), st.floats(), st.booleans(), st.none()))
def test_normalise_never_raises_and_is_idempotent(value: object) -> None:
    allele = normalise_allele(value)
    if allele is not None:
        assert normalise_allele(allele) == allele
        assert float(allele) > 0


@hypothesis_settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(default_table().markers),
        st.lists(st.integers(1, 60).map(str) | st.sampled_from(["9.3", "30.2", "17.4"]), min_size=1, max_size=2),
        min_size=1,
    )
)
def test_parse_round_trips_through_json(data: dict) -> None:
    profile = parse_profile(data)
    assert parse_profile(profile.to_json()) == profile


def test_csv_table_errors_name_the_line(tmp_path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("marker,allele,frequency\nTPOX,8,0.5\nTPOX,x,0.5\n", encoding="utf-8")
    with pytest.raises(ValueError, match=":3"):
        FrequencyTable.from_csv(bad)
    header = tmp_path / "header.csv"
    header.write_text("locus,allele,p\n", encoding="utf-8")
    with pytest.raises(ValueError, match="header"):
        FrequencyTable.from_csv(header)
