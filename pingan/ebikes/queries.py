"""Reads of the e-bike register, scoped by jurisdiction (``pingan.core.access``): staff see
their units' files, citizens their own bicycles, dealers what they sold. The public plate
check is the one unscoped read, and it returns no personal data at all."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from pingan.core import access, timeline
from pingan.ebikes import rules
from pingan.ebikes.models import (
    EBike,
    ImportBatch,
    ImportRow,
    Plate,
    PlateStatus,
    RowOutcome,
    Transfer,
    TransferState,
)
from pingan.orgs.models import OrgUnit

COUNTER_ROLES = ("counter_officer", "station_chief")


def ebikes_for(
    user: Any, *, state: str | None = None, search: str = "", under: OrgUnit | None = None
) -> QuerySet[EBike]:
    """The bicycles ``user`` may see, newest first; ``search``: a plate or frame number."""
    query = access.scope(user, EBike.objects.select_related("org", "city", "plate", "owner", "dealer__partner"))
    if state:
        query = query.filter(state=state)
    if under is not None:
        query = query.filter(org__path__under=under.path)
    search = (search or "").strip()
    if search:
        plate = rules.normalise_plate(search)
        frame = rules.normalise_frame(search)
        query = query.filter(Q(plate__number=plate) | Q(frame_number=frame))
    return query.order_by("-created_at", "-id")


def ebike_get(user: Any, pk: int) -> EBike:
    """The bicycle if ``user`` may see it (``EBike.DoesNotExist`` otherwise, as if absent)."""
    return ebikes_for(user).get(pk=pk)


def ebike_for_counter(user: Any, frame_number: str) -> EBike | None:
    """A bicycle brought to a counter: found by its exact frame number by a counter officer
    or station chief anywhere in its city (the citizen may go to any station of the city),
    even if another unit holds its file. The look-up is logged; nothing is listed."""
    frame = rules.normalise_frame(frame_number)
    if not frame or access.user_kind(user) != "staff":
        return None
    visible = ebikes_for(user).filter(frame_number=frame).first()
    if visible is not None:
        return visible
    ebike = EBike.objects.select_related("org", "city", "plate", "owner").filter(frame_number=frame).first()
    if ebike is None:
        return None
    if not any(
        post.role in COUNTER_ROLES and post.jurisdiction_path.startswith(ebike.city.path)
        for post in access.posts_of(user)
    ):
        return None
    timeline.record_read(ebike, fields=["frame_number"], actor=user, purpose="counter_lookup")
    return ebike


def transfers_incoming(user: Any) -> QuerySet[Transfer]:
    """Transfers waiting for ``user`` (the named new owner) to confirm."""
    return access.scope(
        user, Transfer.objects.select_related("ebike__plate", "from_owner").filter(state=TransferState.PENDING)
    ).filter(to_owner=user)


def pending_transfer(ebike: EBike) -> Transfer | None:
    return ebike.transfers.filter(state=TransferState.PENDING).select_related("to_owner").first()


def batches_for(user: Any) -> QuerySet[ImportBatch]:
    return access.scope(user, ImportBatch.objects.select_related("dealer__partner", "uploaded_by"))


def batch_get(user: Any, pk: int) -> ImportBatch:
    return batches_for(user).get(pk=pk)


def batch_rows(batch: ImportBatch, *, failed_only: bool = False) -> list[ImportRow]:
    """The rows of a batch the caller already got through :func:`batch_get`, in file
    order: those that registered nothing as stored, and one (unsaved) row for each bicycle
    the file registered, which knows its row."""
    kept = batch.rows.select_related("ebike")
    if failed_only:
        return list(kept.filter(outcome=RowOutcome.FAILED))
    created = [
        ImportRow(
            batch=batch,
            row_number=ebike.import_row,
            outcome=RowOutcome.CREATED,
            frame_number=ebike.frame_number,
            ebike=ebike,
            errors=[],
        )
        for ebike in EBike.objects.filter(import_batch=batch).only("pk", "frame_number", "import_row")
    ]
    return sorted([*kept, *created], key=lambda row: row.row_number)


# --- The public plate check ----------------------------------------------------------------------


@dataclass(frozen=True)
class PlateCheck:
    """What anyone may learn about a plate: whether it is valid, and whether the bicycle
    carrying it is reported stolen. No owner, no frame number, no history."""

    number: str
    status: str  # valid | stolen | retired | unknown | malformed

    @property
    def message(self) -> str:
        return {
            "valid": _("号牌有效：该号牌已依法登记，车辆状态正常。"),
            "stolen": _("该号牌对应的车辆已报失窃。如发现该车，请拨打110或联系就近派出所。"),
            "retired": _("该号牌已注销，不再有效。悬挂此号牌的车辆属于未登记车辆。"),
            "unknown": _("未查到该号牌：不是本省已发放的电动自行车号牌，请核对后再查。"),
            "malformed": _("号牌格式不正确，应为城市简称加一位字母和六位数字，例如“济南A000123”。"),
        }[self.status]


def plate_check(value: str) -> PlateCheck:
    number = rules.normalise_plate(value)
    if not rules.plate_well_formed(number):
        return PlateCheck(number=number[:20], status="malformed")
    plate = Plate.objects.filter(number=number).select_related("ebike").first()
    if plate is None:
        return PlateCheck(number=number, status="unknown")
    if plate.status == PlateStatus.RETIRED:
        return PlateCheck(number=number, status="retired")
    ebike = getattr(plate, "ebike", None)
    if ebike is not None and ebike.state == "stolen":
        return PlateCheck(number=number, status="stolen")
    return PlateCheck(number=number, status="valid")
