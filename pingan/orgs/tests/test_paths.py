"""The ``under`` lookup: subtree filters on materialised paths, index-served on both databases."""

from __future__ import annotations

import pytest
from django.db import connection

from pingan.core.models import TimelineEvent
from pingan.orgs.models import OrgUnit

pytestmark = pytest.mark.django_db


def test_under_matches_prefix_only():
    codes = set(OrgUnit.objects.filter(path__under="37/3701/370102/").values_list("code", flat=True))
    assert "370102001" in codes
    assert "370102" in codes
    assert not any(code.startswith("370103") for code in codes)
    assert OrgUnit.objects.filter(path__under="37/3701/3701").count() > 0  # a raw prefix, not a segment


def test_under_escapes_like_wildcards():
    assert OrgUnit.objects.filter(path__under="37/%").count() == 0
    assert OrgUnit.objects.filter(path__under="37/_701/").count() == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="collations are a PostgreSQL matter")
def test_path_columns_use_the_c_collation_on_postgresql():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name, collation_name FROM information_schema.columns "
            "WHERE (table_name, column_name) IN (('orgs_orgunit', 'path'), ('core_timelineevent', 'org_path'), "
            "('core_clock', 'org_path'))"
        )
        rows = cursor.fetchall()
    assert sorted(rows) == [
        ("core_clock", "org_path", "C"),
        ("core_timelineevent", "org_path", "C"),
        ("orgs_orgunit", "path", "C"),
    ]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="plans differ by database")
def test_subtree_page_in_path_order_is_one_index_range_on_postgresql():
    # Whether an index *can* serve the query, whatever the small test tables' statistics say.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
    query = OrgUnit.objects.filter(path__under="37/3717/371728/").order_by("path")[:50]
    plan = query.explain()
    assert "Index" in plan
    assert "Sort" not in plan.split("\n")[0]
    events = TimelineEvent.objects.filter(org_path__under="37/3701/370102/370102001/")
    assert "Seq Scan" not in events.explain()
