"""ebikes/0003: a row of a dealer's file that registered a bicycle is now told by the
bicycle (``import_batch``, ``import_row``); what such rows said moves there, and back."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("ebikes", "0002_fewer_indexes")]
AFTER = [("ebikes", "0003_lighter_import_writes")]


def migrated(target: list[tuple[str, str]]) -> object:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    return executor.loader.project_state(target).apps


def test_created_rows_move_onto_their_bicycles_and_back(owner, dealer):
    from pingan.ebikes.tests.conftest import preregistered

    ebike = preregistered(owner)  # made by the current code, before migrating back
    try:
        apps = migrated(BEFORE)
        EBike = apps.get_model("ebikes", "EBike")
        ImportBatch = apps.get_model("ebikes", "ImportBatch")
        ImportRow = apps.get_model("ebikes", "ImportRow")
        batch = ImportBatch.objects.create(
            dealer_id=dealer.pk, uploaded_by_id=dealer.partner_id, file_name="old.csv", file_format="csv",
            sha256="0" * 64, uploaded_at=timezone.now(), rows_total=2, rows_created=1, rows_failed=1,
        )  # fmt: skip
        ImportRow.objects.create(batch=batch, row_number=2, outcome="created", frame_number="F", ebike_id=ebike.pk)
        ImportRow.objects.create(batch=batch, row_number=3, outcome="failed", errors=[{"column": "型号"}])

        apps = migrated(AFTER)
        moved = apps.get_model("ebikes", "EBike").objects.get(pk=ebike.pk)
        assert (moved.import_batch_id, moved.import_row) == (batch.pk, 2)
        rows = apps.get_model("ebikes", "ImportRow").objects.filter(batch_id=batch.pk)
        assert list(rows.values_list("row_number", "outcome")) == [(3, "failed")]

        apps = migrated(BEFORE)
        rows = apps.get_model("ebikes", "ImportRow").objects.filter(batch_id=batch.pk).order_by("row_number")
        back = [(2, "created", ebike.pk), (3, "failed", None)]
        assert list(rows.values_list("row_number", "outcome", "ebike_id")) == back
        assert EBike.objects.filter(pk=ebike.pk).exists()
    finally:
        migrated(AFTER)
