"""PostgreSQL: ``reunion_personrecord.org_path`` compares byte by byte (collation "C"), so
the subtree filters of the queue, the cold-case list and the inbox use the
(org_path, state, kind) index — see ``core/migrations/0005_org_path_collation_c.py``.
SQLite compares bytes already. A later AlterField on this column must repeat this."""

from django.db import migrations


def collate_c(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('ALTER TABLE reunion_personrecord ALTER COLUMN org_path TYPE varchar(255) COLLATE "C"')


def collate_default(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            'ALTER TABLE reunion_personrecord ALTER COLUMN org_path TYPE varchar(255) COLLATE "default"'
        )


class Migration(migrations.Migration):
    dependencies = [("reunion", "0001_initial")]

    operations = [migrations.RunPython(collate_c, collate_default)]
