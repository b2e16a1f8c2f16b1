"""Who sees which ratings and rectifications."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from pingan.ratings import queries
from pingan.testing import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def spread(rate, resident):
    """Ratings at a Jinan station (two, one bad) and a Qingdao station (one bad)."""
    other = factories.citizen(name="周八")
    return {
        "good": rate(5),
        "bad": rate(2),
        "far": rate(1, owner=other, org="370202001"),  # a Qingdao station
        "other": other,
    }


def test_staff_see_their_jurisdiction_citizens_their_own(spread, resident, chief):
    province_admin = factories.staff("37", ["administrator"])
    jinan = factories.staff("3701", ["bureau_leader"])
    assert set(queries.ratings_for(chief)) == {spread["good"], spread["bad"]}
    assert set(queries.ratings_for(jinan)) == {spread["good"], spread["bad"]}
    assert set(queries.ratings_for(province_admin)) == {spread["good"], spread["bad"], spread["far"]}
    assert set(queries.ratings_for(resident)) == {spread["good"], spread["bad"]}
    assert set(queries.my_ratings(spread["other"])) == {spread["far"]}
    assert list(queries.my_ratings(chief)) == []
    assert list(queries.ratings_for(AnonymousUser())) == []
    assert list(queries.rectifications_for(chief)) == [spread["bad"].rectification]
    assert list(queries.rectifications_for(resident)) == [spread["bad"].rectification]
    assert set(queries.rectifications_for(province_admin)) == {spread["bad"].rectification, spread["far"].rectification}


def test_filters(spread, chief):
    assert list(queries.ratings_for(chief, bad=True)) == [spread["bad"]]
    assert list(queries.ratings_for(chief, level=5)) == [spread["good"]]
    reference = spread["bad"].rectification.reference
    assert [i.reference for i in queries.rectifications_for(chief, search=reference)] == [reference]
    assert [i.reference for i in queries.rectifications_for(chief, search="身份证")] == [reference]
    assert list(queries.rectifications_for(chief, state="closed")) == []
    assert list(queries.rectifications_for(chief, overdue=True)) == []
    assert queries.rating_of(spread["other"], "testing.service", spread["far"].subject_id) == spread["far"]
    assert queries.rating_of(spread["other"], "testing.service", spread["good"].subject_id) is None


def test_summary(spread, chief):
    summary = queries.summary_for(chief)
    assert (summary.total, summary.satisfied, summary.satisfaction_rate) == (2, 1, 50.0)
    assert summary.by_level == {5: 1, 4: 0, 3: 0, 2: 1, 1: 0}
    qingdao = queries.summary_for(factories.staff("3702", ["bureau_leader"]))
    assert (qingdao.total, qingdao.satisfaction_rate) == (1, 0.0)
    assert queries.summary_for(factories.staff("3703", ["bureau_leader"])).satisfaction_rate is None
