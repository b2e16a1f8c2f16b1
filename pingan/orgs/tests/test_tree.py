from __future__ import annotations

import pytest

from pingan.orgs import actions, queries
from pingan.orgs.models import Kind, Level, OrgUnit

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree() -> None:
    """The session loads the tree once (conftest.py)."""


def test_tree_has_the_real_divisions(tree):
    assert OrgUnit.objects.get(code="37").name == "山东省公安厅"
    assert OrgUnit.objects.filter(level=Level.CITY, kind=Kind.BUREAU).count() == 16
    counties = OrgUnit.objects.filter(level=Level.COUNTY).exclude(kind=Kind.DEPARTMENT)
    assert counties.count() == 151
    assert counties.filter(is_development_zone=True, kind=Kind.BRANCH).count() == 15
    assert counties.filter(is_development_zone=False, kind=Kind.BUREAU).count() == 136
    assert OrgUnit.objects.filter(level=Level.STATION).count() == 1853
    grids = OrgUnit.objects.filter(level=Level.GRID)
    per_station = {station.code: station.children.count() for station in OrgUnit.objects.filter(level=Level.STATION)}
    assert grids.count() == sum(per_station.values())
    assert min(per_station.values()) >= 3
    assert max(per_station.values()) <= 12


def test_reloading_with_other_grid_counts_updates_in_place(tree):
    station = OrgUnit.objects.get(code="370102001")
    before = station.pk
    result = actions.tree_load(grids_per_station=lambda code: 12)
    assert result["updated"] == 0
    assert OrgUnit.objects.get(code="370102001").pk == before
    assert OrgUnit.objects.get(code="37010200112").parent_id == before


def test_names_follow_police_usage(tree):
    assert OrgUnit.objects.get(code="3701").name == "济南市公安局"
    assert OrgUnit.objects.get(code="370102").name == "历下区公安分局"
    assert OrgUnit.objects.get(code="370124").name == "平阴县公安局"
    assert OrgUnit.objects.get(code="370102001").name == "解放路派出所"
    assert OrgUnit.objects.get(code="3701-criminal").name == "济南市公安局刑事侦查支队"


def test_subtree_is_everything_under_a_unit_and_nothing_else(tree):
    jinan = queries.unit_get("3701")
    under = queries.subtree(jinan)
    codes = set(under.values_list("code", flat=True))
    assert {"370102001", "3701-criminal", "3701"} <= codes
    assert not any(code.startswith("3702") for code in codes)
    assert under.count() == OrgUnit.objects.filter(path__startswith="37/3701/").count()
    assert "3701" not in set(queries.subtree(jinan, include_self=False).values_list("code", flat=True))


def test_department_post_covers_its_bureau(tree):
    department = OrgUnit.objects.get(code="3701-traffic")
    assert department.jurisdiction_path == "37/3701/"
    station = OrgUnit.objects.get(code="370102001")
    assert station.jurisdiction_path == station.path


def test_coordinates_are_deterministic_and_in_shandong(tree):
    first = {unit.code: (unit.latitude, unit.longitude) for unit in OrgUnit.objects.all()}
    from conftest import grids_for_tests

    again = actions.tree_load(grids_per_station=grids_for_tests)
    assert (again["created"], again["updated"]) == (0, 0)
    assert first == {unit.code: (unit.latitude, unit.longitude) for unit in OrgUnit.objects.all()}
    for lat, lon in first.values():
        assert 34.0 < lat < 38.6
        assert 114.5 < lon < 123.0
