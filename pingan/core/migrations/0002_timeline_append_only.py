"""The timeline refuses UPDATE and DELETE at the database, not only in the ORM, and
every chain starts with a head row (seq 0, the genesis hash)."""

from django.db import migrations

MAX_CHAINS = 64

POSTGRES_UP = """
CREATE OR REPLACE FUNCTION core_timeline_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'core_timelineevent is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER core_timeline_no_update BEFORE UPDATE ON core_timelineevent
    FOR EACH ROW EXECUTE FUNCTION core_timeline_append_only();
CREATE TRIGGER core_timeline_no_delete BEFORE DELETE ON core_timelineevent
    FOR EACH ROW EXECUTE FUNCTION core_timeline_append_only();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS core_timeline_no_update ON core_timelineevent;
DROP TRIGGER IF EXISTS core_timeline_no_delete ON core_timelineevent;
DROP FUNCTION IF EXISTS core_timeline_append_only();
"""
SQLITE_UP = [
    "CREATE TRIGGER core_timeline_no_update BEFORE UPDATE ON core_timelineevent "
    "BEGIN SELECT RAISE(ABORT, 'core_timelineevent is append-only (UPDATE refused)'); END;",
    "CREATE TRIGGER core_timeline_no_delete BEFORE DELETE ON core_timelineevent "
    "BEGIN SELECT RAISE(ABORT, 'core_timelineevent is append-only (DELETE refused)'); END;",
]
SQLITE_DOWN = ["DROP TRIGGER IF EXISTS core_timeline_no_update;", "DROP TRIGGER IF EXISTS core_timeline_no_delete;"]


def install_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # params=None: the SQL holds a literal % (RAISE format), not a placeholder.
        schema_editor.execute(POSTGRES_UP, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_UP:
            schema_editor.execute(statement)


def remove_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_DOWN:
            schema_editor.execute(statement)


def create_heads(apps, schema_editor):
    head = apps.get_model("core", "TimelineHead")
    head.objects.using(schema_editor.connection.alias).bulk_create(
        [head(chain=chain, seq=0, hash="0" * 64) for chain in range(MAX_CHAINS)], ignore_conflicts=True
    )


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        migrations.RunPython(install_triggers, remove_triggers),
        migrations.RunPython(create_heads, migrations.RunPython.noop),
    ]
