"""The grouped-query building blocks, the foundation's registered queries on real rows,
and which units a user may ask about."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Avg, Count, Sum

from pingan.accounts import actions as accounts
from pingan.accounts.indicators import citizens_registered, staff_in_post
from pingan.accounts.models import CitizenProfile, Post
from pingan.core import registry
from pingan.indicators import engine, queries
from pingan.indicators.declarations import indicators
from pingan.indicators.periods import BEGINNING, ZONE, parse
from pingan.orgs.models import OrgUnit
from pingan.testing import factories

pytestmark = pytest.mark.django_db


def unit(code: str) -> OrgUnit:
    return OrgUnit.objects.get(code=code)


def registered_at(user, moment: dt.datetime) -> None:
    """Back-date a registration (``created_at`` is set on insert; tests need past years)."""
    CitizenProfile.objects.filter(user=user).update(created_at=moment)


def at(year: int, month: int = 6, day: int = 1, hour: int = 12) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=ZONE)


# --- unit_key / aggregate_by_unit ---------------------------------------------------------


@pytest.fixture
def spread_staff():
    """Staff at a station, a county bureau, a city department and in another city."""
    return {
        "station": factories.staff("370102001"),  # 历下区 解放路派出所
        "county": factories.staff("370102"),
        "department": factories.staff("3701-criminal"),
        "qingdao": factories.staff("370202"),
        "province": factories.staff("37"),
    }


def test_unit_key_groups_rows_by_their_ancestor_at_any_depth(spread_staff):
    posts = Post.objects.filter(user__in=spread_staff.values())
    province = unit("37")
    by_city = queries.aggregate_by_unit(
        posts, path_field="org__path", under=province, group_by_depth=1, value=Count("user", distinct=True)
    )
    assert by_city == {"37/3701/": 3, "37/3702/": 1}
    by_county = queries.aggregate_by_unit(
        posts, path_field="org__path", under=province, group_by_depth=2, value=Count("user", distinct=True)
    )
    # The department (37/3701/3701-criminal/) is its own key; the province post has none.
    assert by_county == {"37/3701/370102/": 2, "37/3701/3701-criminal/": 1, "37/3702/370202/": 1}
    by_station = queries.aggregate_by_unit(
        posts, path_field="org__path", under=province, group_by_depth=3, value=Count("user", distinct=True)
    )
    assert by_station == {"37/3701/370102/370102001/": 1}


def test_aggregate_for_the_unit_itself(spread_staff):
    posts = Post.objects.filter(user__in=spread_staff.values())
    total = queries.aggregate_by_unit(
        posts, path_field="org__path", under=unit("3701"), group_by_depth=None, value=Count("user", distinct=True)
    )
    assert total == {"37/3701/": 3}
    nothing = queries.aggregate_by_unit(
        posts.none(), path_field="org__path", under=unit("3703"), group_by_depth=None, value=Count("pk")
    )
    assert nothing == {"37/3703/": 0}


def test_unit_key_refuses_a_depth_not_below_the_unit():
    with pytest.raises(ValueError, match="not below"):
        queries.unit_key("org__path", under=unit("3701"), depth=1)


# --- accounts.staff_in_post -----------------------------------------------------------------


def test_staff_in_post_counts_each_person_once_per_unit():
    both = factories.staff("370102001")
    accounts.post_add(user=both, org=unit("370103"), role="investigator")  # another county of Jinan
    factories.staff("370103")
    window = {"start": BEGINNING, "end": parse("2030").end}
    assert staff_in_post(under=unit("3701"), group_by_depth=None, **window) == {"37/3701/": 2}
    by_county = staff_in_post(under=unit("3701"), group_by_depth=2, **window)
    assert by_county == {"37/3701/370102/": 1, "37/3701/370103/": 2}


def test_staff_in_post_leaves_out_ended_posts_inactive_accounts_and_citizens():
    ended = factories.staff("370102001")
    accounts.post_end(post=ended.posts.get())
    gone = factories.staff("370102001")
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    kept = factories.staff("370102001")
    factories.citizen("370102")
    assert staff_in_post(under=unit("370102"), start=BEGINNING, end=parse("2030").end, group_by_depth=None) == {
        "37/3701/370102/": 1
    }
    assert kept.posts.get().is_active


def test_staff_in_post_counts_from_the_posts_start_date():
    officer = factories.staff("370102001")
    Post.objects.filter(user=officer).update(started_on=dt.date(2022, 3, 1))
    factories.staff("370102001")  # no start date: held since the beginning
    lixia = unit("370102")
    assert staff_in_post(under=lixia, start=BEGINNING, end=parse("2021").end, group_by_depth=None) == {lixia.path: 1}
    assert staff_in_post(under=lixia, start=BEGINNING, end=parse("2022").end, group_by_depth=None) == {lixia.path: 2}
    # Counted as a flow: posts taken up during the window only.
    taken_up = staff_in_post(under=lixia, start=parse("2022").start, end=parse("2022").end, group_by_depth=None)
    assert taken_up == {lixia.path: 1}


# --- accounts.citizens_registered -------------------------------------------------------------


def test_citizens_registered_in_a_period_by_home_bureau():
    early = factories.citizen("370102")
    late = factories.citizen("370102")
    other = factories.citizen("370103")
    qingdao = factories.citizen("370202")
    registered_at(early, at(2020, 12, 31, 23))
    registered_at(late, at(2021, 1, 1, 0))  # midnight Beijing time belongs to 2021
    registered_at(other, at(2021, 7, 15))
    registered_at(qingdao, at(2021, 3, 3))
    year = parse("2021")
    jinan = unit("3701")
    assert citizens_registered(under=jinan, start=year.start, end=year.end, group_by_depth=None) == {jinan.path: 2}
    assert citizens_registered(under=jinan, start=year.start, end=year.end, group_by_depth=2) == {
        "37/3701/370102/": 1,
        "37/3701/370103/": 1,
    }
    assert citizens_registered(under=jinan, start=BEGINNING, end=year.end, group_by_depth=None) == {jinan.path: 3}
    province = unit("37")
    assert citizens_registered(under=province, start=year.start, end=year.end, group_by_depth=1) == {
        "37/3701/": 2,
        "37/3702/": 1,
    }


def test_the_shipped_indicators_on_real_rows():
    for _ in range(3):
        registered_at(factories.citizen("370102"), at(2021, 5, 5))
    registered_at(factories.citizen("370102"), at(2020, 5, 5))
    for _ in range(2):
        factories.staff("370102001")
    declared = indicators()
    jinan = unit("3701")
    cache = engine.QueryCache()
    year = parse("2021")
    registered = engine.compute(declared["citizens_registered"], org=jinan, period=year, cache=cache)
    assert (registered.value, registered.last_year.value) == (3, 1)
    assert registered.year_change.percent == 200
    total = engine.compute(declared["citizens_total"], org=jinan, period=year, cache=cache)
    assert (total.value, total.last_year.value) == (4, 1)
    staff = engine.compute(declared["staff_count"], org=jinan, period=year, cache=cache)
    assert staff.value == 2
    density = engine.compute(declared["staff_per_100k"], org=jinan, period=year, cache=cache)
    assert density.value == 2 * 100_000 / engine.Decimal(9_202_432)
    ranking = engine.ranking(declared["citizens_registered"], parent=jinan, period=year, cache=cache)
    assert (ranking[0].unit.code, ranking[0].value, ranking[0].rank) == ("370102", 3, 1)
    assert all(entry.rank == 2 for entry in ranking[1:])


def test_the_foundation_queries_are_registered():
    assert "accounts.staff_in_post" in registry.indicator_queries
    assert "accounts.citizens_registered" in registry.indicator_queries
    assert registry.indicator_queries.frozen


# --- Which units a user may ask about -------------------------------------------------------------


def test_a_station_officer_sees_the_station_and_its_grids_only():
    officer = factories.staff("370102001")
    assert [root.code for root in queries.jurisdiction_roots_for(officer)] == ["370102001"]
    assert queries.unit_for(officer, "370102001").code == "370102001"
    assert queries.unit_for(officer, "37010200101").code == "37010200101"
    for code in ["370102", "3701", "370102002", "nonexistent"]:
        with pytest.raises(OrgUnit.DoesNotExist):
            queries.unit_for(officer, code)


def test_a_department_post_covers_its_bureau():
    officer = factories.staff("3701-criminal", roles=["investigator"])
    assert [root.code for root in queries.jurisdiction_roots_for(officer)] == ["3701"]
    assert queries.unit_for(officer, "370102").code == "370102"


def test_an_officer_with_several_posts_has_several_roots():
    officer = factories.staff("3701")
    accounts.post_add(user=officer, org=unit("370202"), role="investigator")
    assert [root.code for root in queries.jurisdiction_roots_for(officer)] == ["3701", "370202"]
    assert queries.unit_for(officer, "370202001").code == "370202001"
    with pytest.raises(OrgUnit.DoesNotExist):
        queries.unit_for(officer, "370203")


def test_a_provincial_administrator_sees_everything():
    admin = factories.staff("37", roles=["administrator"])
    assert [root.code for root in queries.jurisdiction_roots_for(admin)] == ["37"]
    assert queries.unit_for(admin, "3717").code == "3717"


def test_citizens_and_anonymous_users_see_no_unit():
    from django.contrib.auth.models import AnonymousUser

    citizen = factories.citizen("370102")
    for user in [citizen, AnonymousUser()]:
        assert queries.jurisdiction_roots_for(user) == []
        with pytest.raises(OrgUnit.DoesNotExist):
            queries.unit_for(user, "370102")


# --- The two ways of grouping agree ------------------------------------------------------------


def test_rolled_up_counts_equal_counts_grouped_in_sql():
    """Counts are taken per unit and rolled up in Python; distinct counts are grouped by each
    row's ancestor in SQL. On the same rows both give the same figures."""
    for county in ["370102", "370102", "370103", "370202", "371302"]:
        factories.citizen(county)
    citizens = CitizenProfile.objects.all()
    for under, depth in [(unit("37"), 1), (unit("37"), 2), (unit("3701"), 2)]:
        rolled_up = queries.aggregate_by_unit(
            citizens, path_field="home_org__path", under=under, group_by_depth=depth, value=Count("pk")
        )
        in_sql = queries.aggregate_by_unit(
            citizens, path_field="home_org__path", under=under, group_by_depth=depth, value=Count("pk", distinct=True)
        )
        assert rolled_up == in_sql
        assert sum(rolled_up.values()) == citizens.filter(home_org__path__startswith=under.path).count()
    assert queries.aggregate_by_unit(
        citizens, path_field="home_org__path", under=unit("37"), group_by_depth=1, value=Count("pk")
    ) == {"37/3701/": 3, "37/3702/": 1, "37/3713/": 1}


def test_ancestor_path_cuts_a_path_at_a_depth():
    assert queries.ancestor_path("37/3701/370102/370102001/", 1) == "37/3701/"
    assert queries.ancestor_path("37/3701/370102/370102001/", 3) == "37/3701/370102/370102001/"
    assert queries.ancestor_path("37/3701/", 2) is None
    assert queries.ancestor_path("37/3701/3701-criminal/", 2) == "37/3701/3701-criminal/"


def test_additive_aggregates():
    assert queries.additive(Count("pk"))
    assert queries.additive(Sum("pk"))
    assert not queries.additive(Count("user", distinct=True))
    assert not queries.additive(Avg("pk"))


def test_the_root_total_counts_everything_without_a_path_filter():
    officer = factories.staff("370102001")
    accounts.post_add(user=officer, org=unit("3702"), role="investigator")
    factories.staff("37")
    factories.staff("3701-criminal")
    root = unit("37")
    window = {"start": BEGINNING, "end": parse("2030").end}
    total = staff_in_post(under=root, group_by_depth=None, **window)
    by_city = staff_in_post(under=root, group_by_depth=1, **window)
    assert total == {"37/": 3}
    # The officer posted in two cities counts in each city and once in the province.
    assert by_city == {"37/3701/": 2, "37/3702/": 1}
