"""PostgreSQL: ``orgs_orgunit.path`` compares byte by byte (collation "C"), so subtree
filters (``LIKE 'prefix%'``) and ``ORDER BY path`` use the same b-tree index. See
``core/migrations/0005_org_path_collation_c.py`` for why; SQLite compares bytes already."""

from django.db import migrations


def collate_c(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('ALTER TABLE orgs_orgunit ALTER COLUMN path TYPE varchar(255) COLLATE "C"')


def collate_default(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('ALTER TABLE orgs_orgunit ALTER COLUMN path TYPE varchar(255) COLLATE "default"')


class Migration(migrations.Migration):
    dependencies = [("orgs", "0001_initial")]

    operations = [migrations.RunPython(collate_c, collate_default)]
