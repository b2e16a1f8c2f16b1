"""PostgreSQL: the materialised-path columns compare byte by byte (collation "C").

With any other collation (even C.UTF-8) PostgreSQL can serve ``LIKE 'prefix%'`` only from
a pattern-ops index, which cannot give ``ORDER BY path`` and which the timeline's
``(org_path, id)`` index is not: subtree pages and timeline counts then scan. In "C" the
ordinary b-tree index serves both (docs/benchmarks.md, "subtree"). Paths are ASCII, so
the order is the same. SQLite compares bytes already (BINARY). A later AlterField on these
columns must keep the collation: repeat this operation after it.
"""

from django.db import migrations

COLUMNS = [("core_timelineevent", "org_path"), ("core_clock", "org_path")]


def collate_c(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table, column in COLUMNS:
            schema_editor.execute(f'ALTER TABLE {table} ALTER COLUMN {column} TYPE varchar(255) COLLATE "C"')


def collate_default(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table, column in COLUMNS:
            schema_editor.execute(f'ALTER TABLE {table} ALTER COLUMN {column} TYPE varchar(255) COLLATE "default"')


class Migration(migrations.Migration):
    dependencies = [("core", "0004_clock")]

    operations = [migrations.RunPython(collate_c, collate_default)]
