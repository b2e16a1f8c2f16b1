"""The migrated database holds every constraint and index the models declare.

Django's AlterField can drop more than it should (on PostgreSQL, turning ``db_index`` off
drops every index on the column, a partial unique one included): this catches a migration
that left the schema short of the models, on each backend the suite runs on.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection

pytestmark = pytest.mark.django_db


def test_every_declared_constraint_and_index_exists():
    missing = []
    with connection.cursor() as cursor:
        for model in apps.get_models():
            meta = model._meta
            if not meta.managed or meta.proxy:
                continue
            declared = [c.name for c in meta.constraints] + [index.name for index in meta.indexes]
            if not declared:
                continue
            present = connection.introspection.get_constraints(cursor, meta.db_table)
            missing += [f"{meta.db_table}.{name}" for name in declared if name not in present]
    assert missing == []
