"""The alert scheme (catalog/alerts.yaml): the shipped radius schedule, and every error an
official could make named by file and line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pingan.alerts import schedule
from pingan.core.catalog import CatalogError

H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)


def test_the_shipped_schedule_is_the_tuanyuan_one():
    plan = schedule.scheme()
    assert plan.radii == (100, 200, 300, 500)
    assert plan.publisher_levels == {"province", "city", "county"}
    assert plan.publisher_roles == {"investigator", "bureau_leader"}


@pytest.mark.parametrize(
    ("elapsed", "radius"),
    [
        (dt.timedelta(0), 100),
        (59 * M, 100),
        (H, 100),
        (H + M, 200),
        (2 * H, 200),
        (2 * H + M, 300),
        (3 * H, 300),
        (3 * H + dt.timedelta(seconds=1), 500),
        (dt.timedelta(days=12), 500),
    ],
)
def test_radius_by_time_since_the_disappearance(elapsed, radius):
    assert schedule.scheme().radius_for(elapsed) == radius


def test_next_change():
    plan = schedule.scheme()
    assert plan.next_change(10 * M) == H
    assert plan.next_change(150 * M) == 3 * H
    assert plan.next_change(4 * H) is None


GOOD = """\
radius_schedule:
  - {within_hours: 1, radius_km: 100}
  - {radius_km: 500}
publish_within_days: 30
publishers:
  levels: [county]
  roles: [investigator]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "alerts.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_minimal_file_loads(tmp_path):
    plan = schedule.load(write(tmp_path, GOOD))
    assert plan.radii == (100, 500)
    assert plan.radius_for(2 * H) == 500


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("roles: [investigator]", "roles: [investigator, tea_maker]", 7, "unknown role 'tea_maker'"),
        ("roles: [investigator]", "roles: [auditor]", 7, "read-only"),
        ("levels: [county]", "levels: [county, village]", 6, "unknown level 'village'"),
        ("- {radius_km: 500}", "- {radius_km: 80}", 3, "radius_km must grow"),
        ("- {radius_km: 500}", "- {within_hours: 5, radius_km: 500}", 3, "last band must have no within_hours"),
        ("- {within_hours: 1, radius_km: 100}", "- {radius_km: 100}", 2, "needs within_hours"),
        ("radius_km: 100}", "radius_km: -5}", 2, "minimum"),
        ("publish_within_days: 30\n", "", None, "publish_within_days"),
    ],
)
def test_errors_name_the_line(tmp_path, old, new, line, message):
    with pytest.raises(CatalogError) as caught:
        schedule.load(write(tmp_path, GOOD.replace(old, new)))
    assert message in str(caught.value)
    if line is not None:
        assert caught.value.line == line


def test_hours_must_grow(tmp_path):
    text = GOOD.replace("- {radius_km: 500}", "- {within_hours: 1, radius_km: 200}\n  - {radius_km: 500}")
    with pytest.raises(CatalogError, match="within_hours must grow") as caught:
        schedule.load(write(tmp_path, text))
    assert caught.value.line == 3


def test_the_system_checks_pass_on_the_shipped_scheme():
    from pingan.alerts import checks

    assert checks.alert_scheme_check() == []


def test_a_broken_scheme_fails_the_check(tmp_path, settings):
    from pingan.alerts import checks

    (tmp_path / "alerts.yaml").write_text(GOOD.replace("radius_km: 500", "radius_km: 5"), encoding="utf-8")
    settings.CATALOG_DIR = tmp_path
    try:
        [error] = checks.alert_scheme_check()
        assert error.id == "alerts.E001"
        assert "alerts.yaml:3" in error.msg
    finally:
        settings.CATALOG_DIR = settings.BASE_DIR / "catalog"
        schedule.reload()
