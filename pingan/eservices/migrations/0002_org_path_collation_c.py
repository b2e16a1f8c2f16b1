"""PostgreSQL: ``eservices_application.org_path`` compares byte by byte (collation "C"), so
the workbench's subtree filter uses the (org_path, due_at) index — see
``core/migrations/0005_org_path_collation_c.py``. SQLite compares bytes already."""

from django.db import migrations


def collate_c(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('ALTER TABLE eservices_application ALTER COLUMN org_path TYPE varchar(255) COLLATE "C"')


def collate_default(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            'ALTER TABLE eservices_application ALTER COLUMN org_path TYPE varchar(255) COLLATE "default"'
        )


class Migration(migrations.Migration):
    dependencies = [("eservices", "0001_initial")]

    operations = [migrations.RunPython(collate_c, collate_default)]
