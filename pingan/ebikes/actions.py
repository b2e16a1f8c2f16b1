"""Writes to the e-bike register: pre-registration, inspection, registration with a plate
and the e-certificate, transfer of ownership, theft and recovery, cancellation, dealers
and their batch imports. Every state change goes through the ``ebike`` workflow
(``workflows/ebike.yaml``) and lands on the timeline; refusals are ``ValidationError``
(bad input, by field), ``access.AccessDenied`` (who / where) or ``workflow.WorkflowError``
(wrong state, stale version).
"""

from __future__ import annotations

import hashlib
import itertools
import logging
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, OperationalError, connection, models, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from pingan.accounts import queries as accounts_queries
from pingan.accounts.models import PartnerKind, PartnerProfile, User
from pingan.core import access, bulk, context, events, timeline, workflow
from pingan.core.identity import parse_resident_id
from pingan.ebikes import certificates, imports, rules
from pingan.ebikes import events as ebike_events
from pingan.ebikes.models import (
    Dealer,
    EBike,
    ImportBatch,
    ImportRow,
    Inspection,
    Plate,
    PlateCounter,
    PlateStatus,
    RowOutcome,
    Source,
    Transfer,
    TransferState,
)
from pingan.orgs.models import Kind as OrgKind
from pingan.orgs.models import Level, OrgUnit

T = TypeVar("T")
log = logging.getLogger(__name__)

# Staff who handle the register at a counter; theft is also police work on the street.
COUNTER_ROLES = ("counter_officer", "station_chief")
THEFT_ROLES = ("counter_officer", "station_chief", "community_officer", "investigator")
DEALER_MANAGERS = ("station_chief", "bureau_leader", "counter_officer")


# --- Units ----------------------------------------------------------------------------------


def city_of(unit: OrgUnit) -> OrgUnit:
    """The city bureau above (or at) ``unit``; ``ValidationError`` for the province itself."""
    codes = unit.ancestor_codes
    if len(codes) < 2:
        raise ValidationError({"org": [_("请选择具体的市、县公安机关或派出所，省厅不受理电动自行车登记。")]})
    return OrgUnit.objects.get(code=codes[1])


def handling_unit(unit: OrgUnit) -> OrgUnit:
    """Where a bicycle's file is kept: a grid's police station, otherwise the unit itself."""
    if unit.kind == OrgKind.GRID and unit.parent_id is not None:
        return OrgUnit.objects.get(pk=unit.parent_id)
    return unit


def citizen_by_id(number: str) -> User | None:
    return accounts_queries.citizen_account_for_id_number(number)


def _refuse(actor: Any, subject: Any, reason: str, *, status: int = 403, action: str = "act") -> None:
    decision = access.Decision(False, reason, status=status)
    access.log_denial(actor, action, subject, decision)
    raise access.AccessDenied(decision)


def _require_unit(actor: Any, unit: OrgUnit, roles: tuple[str, ...], reason: str) -> None:
    """The actor must hold one of ``roles`` in a post whose jurisdiction covers ``unit``."""
    if not any(post.role in roles and unit.path.startswith(post.jurisdiction_path) for post in access.posts_of(actor)):
        _refuse(actor, unit, reason)


def _step_roles(action: str) -> list[str]:
    for t in EBike.workflow().transitions:
        if t.action == action:
            return [role for role in t.roles if role != "system"]
    raise LookupError(action)


def _require(actor: Any, ebike: EBike, action: str) -> None:
    """Check (and log a refusal) before the transaction opens, so the denial stays recorded."""
    access.require(actor, "act", ebike, role=_step_roles(action))


def _lock(ebike: EBike) -> EBike:
    return (
        EBike.objects.select_for_update(of=("self",)).select_related("org", "city", "plate", "owner").get(pk=ebike.pk)
    )


def _refreshed(ebike: EBike) -> EBike:
    """The caller's instance, with what the action committed."""
    ebike.refresh_from_db()
    return ebike


# --- Dealers ----------------------------------------------------------------------------------


def dealer_authorise(*, partner: User, actor: Any = None) -> Dealer:
    """Authorise a dealer partner account (staff with a counter or leader post over the
    partner's supervising unit; ``None``: the system, e.g. the seed). Idempotent."""
    profile = PartnerProfile.objects.select_related("org").filter(user=partner).first()
    if profile is None or profile.partner_kind != PartnerKind.DEALER:
        raise ValidationError({"partner": [_("只有类型为“授权经销商”的合作单位账号可以授权。")]})
    if actor is not None:
        _require_unit(actor, profile.org, DEALER_MANAGERS, _("该经销商不在您的管辖范围内，或您的岗位不能授权。"))
    with transaction.atomic():
        return _authorise(partner, profile, actor)


def _authorise(partner: User, profile: PartnerProfile, actor: Any) -> Dealer:
    dealer = Dealer.objects.select_for_update().filter(partner=partner).first()
    if dealer is not None:
        if not dealer.is_active:
            dealer.is_active = True
            dealer.save(update_fields=["is_active"])
            timeline.record(dealer, "ebikes.dealer_reauthorised", actor=actor)
        return dealer
    dealer = Dealer.objects.create(partner=partner, org=profile.org, city=city_of(profile.org))
    timeline.record(dealer, "ebikes.dealer_authorised", actor=actor, data={"org": profile.org.code})
    return dealer


def dealer_of(user: Any) -> Dealer | None:
    """The active dealer record of a partner account (``None`` for anyone else)."""
    if access.user_kind(user) != "partner":
        return None
    return Dealer.objects.select_related("org", "city").filter(partner=user, is_active=True).first()


# --- Plates -------------------------------------------------------------------------------------


def plate_allocate(*, city: OrgUnit) -> Plate:
    """The next plate of ``city``. Runs inside the caller's transaction: the city's counter
    row stays locked until it commits, so concurrent allocations queue one behind the other.

    The unique constraint on (city, number) is the last line of defence: should the counter
    ever lag behind the plates (restored from an old backup, edited by hand), the allocation
    moves the counter past the highest plate of the city and tries again, and never hands out
    a number twice.
    """
    if city.level != Level.CITY:
        raise ValueError(f"plates are allocated per city bureau, not {city.code}")
    counter = PlateCounter.objects.select_for_update().filter(city=city).first()
    if counter is None:
        # Two first allocations at once: one insert wins, both then lock the same row.
        PlateCounter.objects.bulk_create(
            [PlateCounter(city=city, prefix=rules.city_prefix(city.name), last_serial=0)], ignore_conflicts=True
        )
        counter = PlateCounter.objects.select_for_update().get(city=city)
    now = context.now()
    for _attempt in range(3):
        counter.last_serial += 1
        number = rules.plate_number(counter.prefix, counter.last_serial)
        try:
            with transaction.atomic():
                plate = Plate.objects.create(
                    city=city, serial=counter.last_serial, number=number, status=PlateStatus.ISSUED, issued_at=now
                )
        except IntegrityError:
            highest = Plate.objects.filter(city=city).aggregate(top=Max("serial"))["top"] or 0
            timeline.record(
                counter,
                "ebikes.plate_counter_behind",
                data={"counter": counter.last_serial, "highest": highest},
                org_path=city.path,
            )
            counter.last_serial = max(counter.last_serial, highest)
            continue
        counter.save(update_fields=["last_serial"])
        return plate
    raise RuntimeError(f"could not allocate a plate in {city.code}")


# --- Pre-registration ------------------------------------------------------------------------------


class Buyer(NamedTuple):  # immutable; per row of a file (see rules.BikeData)
    """Who a pre-registration belongs to: a citizen account (``owner_id``), or (a dealer's
    sale to someone without one yet) an ID number and mobile to bind it to later; either
    way the keyed hash of their ID number (``id_hash``), which finds them."""

    owner_id: int | None
    id_hash: str
    id_number: str = ""
    phone: str = ""

    @classmethod
    def account(cls, owner: User) -> Buyer:
        return cls(owner_id=owner.pk, id_hash=owner.citizen.id_number_hash)


def _live() -> models.QuerySet[EBike]:
    """Records that hold their frame number (see the ``ebike_frame_unique`` constraint)."""
    return EBike.objects.exclude(state="cancelled", plate__isnull=True)


def frame_holder(frame: str) -> EBike | None:
    """The live record of a frame number."""
    return _live().filter(frame_number=frame).first()


def _frame_free(frame: str) -> None:
    if frame_holder(frame) is not None:
        raise ValidationError({"frame_number": [rules.frame_taken_message(frame)]})


def _ebike_fields(
    *,
    bike: rules.BikeData,
    buyer: Buyer,
    org: OrgUnit,
    city: OrgUnit,
    source: str,
    dealer: Dealer | None = None,
    application_reference: str = "",
) -> dict[str, Any]:
    """A pre-registration's fields (``org``: the handling unit, ``city`` its city), related
    rows by key: one bicycle is ``EBike(**fields)``, a dealer's file ``bulk.insert_rows``."""
    unbound = buyer.owner_id is None
    return {
        "state": EBike.initial_state(),
        "owner_id": buyer.owner_id,
        "buyer_id_hash": buyer.id_hash,
        "buyer_id_number": buyer.id_number if unbound else "",
        "buyer_phone": buyer.phone if unbound else "",
        "city_id": city.pk,
        "org_id": org.pk,
        "dealer_id": dealer.pk if dealer is not None else None,
        "product_id": bike.product.pk,
        "brand": bike.brand,
        "model": bike.model,
        "colour": bike.colour,
        "frame_number": bike.frame_number,
        "motor_number": bike.motor_number,
        "purchase_date": bike.purchase_date,
        "invoice_number": bike.invoice_number,
        "source": source,
        "application_reference": application_reference,
    }


def _create(
    *,
    bike: rules.BikeData,
    buyer: Buyer,
    org: OrgUnit,
    source: str,
    dealer: Dealer | None = None,
    application_reference: str = "",
) -> EBike:
    _frame_free(bike.frame_number)
    org = handling_unit(org)
    fields = _ebike_fields(
        bike=bike,
        buyer=buyer,
        org=org,
        city=city_of(org),
        source=source,
        dealer=dealer,
        application_reference=application_reference,
    )
    return _saved_new(EBike(**fields))


def _saved_new(ebike: EBike) -> EBike:
    try:
        with transaction.atomic():
            ebike.save(force_insert=True)
    except IntegrityError:
        # Another pre-registration of this frame committed between the check and the insert.
        raise ValidationError({"frame_number": [rules.frame_taken_message(ebike.frame_number)]}) from None
    return ebike


def ebike_preregister(
    *,
    actor: Any,
    data: Mapping[str, Any],
    owner: User | None = None,
    org: OrgUnit | None = None,
    application_reference: str = "",
    invoice_required: bool = True,
) -> EBike:
    """Pre-register a bicycle (``data``: the form fields in ``rules.FORM_FIELDS``).

    - a citizen, online, for themselves (``owner`` defaults to them; ``org`` to the unit
      serving them, or one they choose);
    - a counter officer for a citizen (``owner``), at a unit in their jurisdiction;
    - the system (``actor=None``) for an e-services application (``org`` = its handling unit).
    """
    kind = access.user_kind(actor) if actor is not None else "system"
    if kind == "citizen":
        if owner is not None and owner.pk != actor.pk:
            _refuse(actor, ("ebikes.ebike", "new"), _("只能为本人预登记电动自行车。"))
        owner = actor
        source = Source.ONLINE
    elif kind == "staff":
        if org is None:
            raise ValidationError({"org": [_("请选择办理单位。")]})
        _require_unit(actor, org, COUNTER_ROLES, _("办理单位不在您的管辖范围内，或您的岗位不能办理登记。"))
        source = Source.COUNTER
    elif kind == "system":
        source = Source.SERVICE if application_reference else Source.SEED
    else:
        _refuse(actor, ("ebikes.ebike", "new"), _("经销商请通过批量导入录入销售的车辆。"))
    if owner is None or access.user_kind(owner) != "citizen" or not hasattr(owner, "citizen"):
        raise ValidationError({"owner": [_("车主必须是实名注册的群众账号。")]})
    if org is None:
        org = owner.citizen.home_org
    bike, errors = rules.clean_bike(data, invoice_required=invoice_required)
    if errors:
        raise ValidationError(errors)
    assert bike is not None
    with transaction.atomic():
        ebike = _create(
            bike=bike,
            buyer=Buyer.account(owner),
            org=org,
            source=source,
            application_reference=application_reference,
        )
        timeline.record(
            ebike,
            "ebikes.pre_registered",
            actor=actor,
            data={
                "source": source,
                "product": bike.product.ccc_certificate,
                "application": application_reference or None,
            },
        )
    return ebike


# --- Inspection ----------------------------------------------------------------------------------


def _station_for(actor: Any, ebike: EBike) -> OrgUnit | None:
    """The unit a counter officer inspects at, if it is in the bicycle's city: the deepest of
    their counter posts there. (A citizen may bring the bicycle to any station of the city.)"""
    paths = [
        post.jurisdiction_path
        for post in access.posts_of(actor)
        if post.role in COUNTER_ROLES and post.jurisdiction_path.startswith(ebike.city.path)
    ]
    if not paths:
        return None
    return OrgUnit.objects.get(path=max(paths, key=len))


def _take_over(actor: Any, ebike: EBike) -> None:
    """A counter officer in the bicycle's city inspects it at their station: the station
    becomes the handling unit (recorded), so its staff see and finish the file."""
    if access.user_kind(actor) != "staff" or access.check(actor, "act", ebike, role=COUNTER_ROLES):
        return
    station = _station_for(actor, ebike)
    if station is None:
        return  # the workflow's own check refuses, saying why
    with transaction.atomic():
        locked = _lock(ebike)
        previous = locked.org
        EBike.objects.filter(pk=locked.pk).update(org=station)
        locked.org = station
        timeline.record(
            locked,
            "ebikes.handling_unit_changed",
            actor=actor,
            data={"from": previous.code, "to": station.code, "why": "inspected at the counter"},
        )
    ebike.org = station


def ebike_inspect(
    *,
    ebike: EBike,
    actor: Any,
    inspector: User | None = None,
    passed: bool = True,
    note: str = "",
    frame_seen: str = "",
    motor_seen: str = "",
    expected_version: int | None = None,
) -> Inspection:
    """Record an inspection. ``frame_seen``/``motor_seen``: what the inspector read off the
    bicycle; a mismatch with the pre-registration fails the inspection. A failed inspection
    is recorded and leaves the bicycle pre-registered; a passed one moves it to ``inspected``.

    Staff inspect at a counter of the bicycle's city; a dealer only bicycles it sold
    (the workflow's ``partner`` role is the bicycle's dealer); ``actor=None``: the system,
    for an e-services application's inspect step (``inspector``: who did it there).
    """
    kind = access.user_kind(actor) if actor is not None else "system"
    dealer = dealer_of(actor) if kind == "partner" else None
    if kind == "partner" and dealer is None:
        _refuse(actor, ebike, _("您的经销商授权已失效，不能查验。"))
    if kind == "staff" and ebike.state == "pre_registered":
        _take_over(actor, ebike)
    if actor is not None:
        _require(actor, ebike, "inspect")
    problems = []
    if frame_seen and rules.normalise_frame(frame_seen) != ebike.frame_number:
        problems.append(_("车架号与预登记信息不一致（实车：%(seen)s）") % {"seen": rules.normalise_frame(frame_seen)})
    if motor_seen and rules.normalise_motor(motor_seen) != ebike.motor_number:
        problems.append(_("电机号与预登记信息不一致（实车：%(seen)s）") % {"seen": rules.normalise_motor(motor_seen)})
    passed = bool(passed) and not problems
    note = "；".join([*problems, (note or "").strip()]).strip("；")[:500]
    if not passed and not note:
        raise ValidationError({"note": [_("查验不合格时请写明原因。")]})
    with transaction.atomic():
        locked = _lock(ebike)
        if locked.state != "pre_registered":
            raise workflow.IllegalTransition(_("当前状态「%(state)s」不能查验") % {"state": locked.state_name})
        if expected_version is not None and locked.version != expected_version:
            raise workflow.Conflict(_("此车辆信息已被他人更新，请刷新后重试"))
        inspection = Inspection.objects.create(
            ebike=locked,
            inspector=actor if actor is not None else inspector,
            dealer=dealer,
            org=dealer.org if dealer is not None else locked.org,
            passed=passed,
            note=note,
            inspected_at=context.now(),
        )
        if passed:
            workflow.transition(locked, action="inspect", actor=actor, data={"note": note} if note else {})
        else:
            timeline.record(locked, "ebikes.inspection_failed", actor=actor, data={"note": note})
    _refreshed(ebike)
    return inspection


def ebike_reinspect(*, ebike: EBike, actor: Any, reason: str) -> EBike:
    """Send an inspected bicycle back to be inspected again (staff, or the system for an
    application's ``reinspect`` step)."""
    if actor is not None:
        _require(actor, ebike, "reinspect")
    with transaction.atomic():
        locked = _lock(ebike)
        workflow.transition(locked, action="reinspect", actor=actor, data={"reason": (reason or "").strip()})
    return _refreshed(ebike)


# --- Registration ---------------------------------------------------------------------------------


def ebike_register(*, ebike: EBike, actor: Any, issue_certificate: bool = True) -> EBike:
    """Register an inspected bicycle: allocate the city's next plate and issue the
    e-certificate (unless an e-services application issues it: ``issue_certificate=False``).

    Staff with a counter post over the handling unit, or the system (``actor=None``).
    """
    if actor is not None:
        if ebike.state == "inspected":
            _take_over(actor, ebike)
        _require(actor, ebike, "register")
    return _retry_on_deadlock(lambda: _register(ebike, actor=actor, issue_certificate=issue_certificate))


def _register(ebike: EBike, *, actor: Any, issue_certificate: bool) -> EBike:
    with transaction.atomic():
        locked = _lock(ebike)
        if locked.state != "inspected":
            workflow.transition(locked, action="register", actor=actor)  # refuses, saying why
        if locked.owner_id is None:
            raise ValidationError(
                {"owner": [_("该车尚未绑定实名车主：请购车人用本人身份证号码注册账号后再办理上牌。")]}
            )
        # The plate first: the city's counter row is locked before this transaction appends
        # to any timeline chain, so registrations in one city queue on the counter alone
        # and never wait for each other's chain heads while holding it (a deadlock).
        plate = plate_allocate(city=locked.city)
        workflow.transition(locked, action="register", actor=actor)
        now = context.now()
        EBike.objects.filter(pk=locked.pk).update(plate=plate, registered_at=now)
        locked.plate, locked.registered_at = plate, now
        serial = certificates.issue(locked, actor=actor) if issue_certificate else ""
        if serial:
            EBike.objects.filter(pk=locked.pk).update(credential_id=serial)
        timeline.record(
            locked, "ebikes.plate_allocated", actor=actor, data={"plate": plate.number, "credential": serial or None}
        )
        events.on_commit(ebike_events.ebike_registered, sender=EBike, ebike=locked, actor=actor)
    return _refreshed(ebike)


DEADLOCK_CODES = ("40P01", "40001")  # deadlock detected, serialization failure


def _retry_on_deadlock(run: Callable[[], T], attempts: int = 3) -> T:
    """Run a whole transaction again when PostgreSQL aborted it to break a deadlock (two
    transactions appending to timeline chains in opposite orders can meet). Only at the
    outermost level: inside a caller's transaction the error goes to the caller."""
    for attempt in range(attempts):
        try:
            return run()
        except OperationalError as error:
            code = getattr(getattr(error, "__cause__", None), "sqlstate", None)
            if connection.in_atomic_block or code not in DEADLOCK_CODES or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


@transaction.atomic
def ebike_credential_attach(*, serial: str, plate_number: str, holder: Any) -> EBike | None:
    """Remember the certificate an e-services application issued for a bicycle (the
    credentials app tells us on commit); a bicycle keeps the serial it already has."""
    ebike = (
        EBike.objects.select_for_update(of=("self",))
        .filter(plate__number=plate_number, owner=holder, credential_id="")
        .exclude(state="cancelled")
        .first()
    )
    if ebike is None:
        return None
    EBike.objects.filter(pk=ebike.pk).update(credential_id=serial)
    timeline.record(ebike, "ebikes.credential_attached", data={"credential": serial})
    ebike.credential_id = serial
    return ebike


# --- Transfer of ownership ---------------------------------------------------------------------------


def ebike_transfer_start(
    *, ebike: EBike, actor: Any, new_owner_id_number: str, expected_version: int | None = None
) -> Transfer:
    """The owner (or a counter officer) hands the bicycle to another citizen, named by ID
    number; the transfer waits for that citizen to confirm. The plate stays on the bicycle."""
    _require(actor, ebike, "transfer_start")
    try:
        number = parse_resident_id(new_owner_id_number).number
    except ValidationError as error:
        raise ValidationError({"new_owner_id_number": error.messages}) from None
    new_owner = citizen_by_id(number)
    if new_owner is None:
        raise ValidationError(
            {"new_owner_id_number": [_("该身份证号码尚未注册实名账号：请新车主先注册，再发起过户。")]}
        )
    with transaction.atomic():
        locked = _lock(ebike)
        if new_owner.pk == locked.owner_id:
            raise ValidationError({"new_owner_id_number": [_("新车主不能是现车主本人。")]})
        workflow.transition(locked, action="transfer_start", actor=actor, expected_version=expected_version)
        transfer = Transfer.objects.create(
            ebike=locked,
            from_owner_id=locked.owner_id,
            to_owner=new_owner,
            started_by=actor,
            started_at=context.now(),
            old_credential_id=locked.credential_id,
        )
        timeline.record(locked, "ebikes.transfer_started", actor=actor, data={"transfer": transfer.pk})
        events.on_commit(ebike_events.transfer_requested, sender=EBike, transfer=transfer, actor=actor)
    _refreshed(ebike)
    return transfer


def _pending(transfer: Transfer) -> Transfer:
    locked = Transfer.objects.select_for_update(of=("self",)).select_related("ebike").get(pk=transfer.pk)
    if locked.state != TransferState.PENDING:
        raise workflow.IllegalTransition(_("该过户已处理（%(state)s）。") % {"state": locked.get_state_display()})
    return locked


def ebike_transfer_confirm(*, transfer: Transfer, actor: Any) -> EBike:
    """The new owner confirms: the bicycle becomes theirs, the old certificate is revoked
    and a new one issued to them; the plate stays."""
    if access.user_kind(actor) != "citizen" or actor.pk != transfer.to_owner_id:
        _refuse(actor, transfer.ebike, _("只有新车主本人可以确认过户。"), status=404)
    with transaction.atomic():
        ebike = _lock(transfer.ebike)
        locked = _pending(transfer)
        workflow.transition(ebike, action="transfer_confirm", actor=None)
        now = context.now()
        old_serial = ebike.credential_id
        # ``buyer_id_hash`` keeps naming the first buyer: a dealer re-uploading its file
        # still finds the sale it imported.
        EBike.objects.filter(pk=ebike.pk).update(owner=actor, buyer_id_number="", buyer_phone="")
        ebike.owner = actor
        certificates.revoke(old_serial, reason=_("车辆已过户"))
        serial = certificates.issue(ebike, actor=None, registered_on=timezone.localdate(now))
        EBike.objects.filter(pk=ebike.pk).update(credential_id=serial)
        Transfer.objects.filter(pk=locked.pk).update(
            state=TransferState.CONFIRMED, decided_at=now, old_credential_id=old_serial, new_credential_id=serial
        )
        timeline.record(
            ebike,
            "ebikes.transfer_confirmed",
            actor=actor,
            data={"transfer": locked.pk, "from": locked.from_owner_id, "to": actor.pk, "credential": serial},
        )
    transfer.refresh_from_db()
    return _refreshed(transfer.ebike)


def ebike_transfer_decline(*, transfer: Transfer, actor: Any) -> EBike:
    """The named new owner declines: the bicycle stays with its owner."""
    if access.user_kind(actor) != "citizen" or actor.pk != transfer.to_owner_id:
        _refuse(actor, transfer.ebike, _("只有新车主本人可以拒绝过户。"), status=404)
    return _transfer_close(transfer, actor=actor, state=TransferState.DECLINED, engine_actor=None)


def ebike_transfer_cancel(*, transfer: Transfer, actor: Any) -> EBike:
    """The owner (or a counter officer) withdraws a transfer not yet confirmed."""
    _require(actor, transfer.ebike, "transfer_cancel")
    return _transfer_close(transfer, actor=actor, state=TransferState.CANCELLED, engine_actor=actor)


def _transfer_close(transfer: Transfer, *, actor: Any, state: str, engine_actor: Any) -> EBike:
    with transaction.atomic():
        ebike = _lock(transfer.ebike)
        locked = _pending(transfer)
        workflow.transition(ebike, action="transfer_cancel", actor=engine_actor)
        Transfer.objects.filter(pk=locked.pk).update(state=state, decided_at=context.now())
        timeline.record(ebike, f"ebikes.transfer_{state}", actor=actor, data={"transfer": locked.pk})
    transfer.refresh_from_db()
    return _refreshed(transfer.ebike)


# --- Theft, recovery, cancellation -----------------------------------------------------------------


def ebike_report_stolen(
    *, ebike: EBike, actor: Any, place: str = "", note: str = "", expected_version: int | None = None
) -> EBike:
    """Theft reported (by the owner or the police): anyone checking the plate sees it."""
    _require(actor, ebike, "report_stolen")
    data = {key: value.strip() for key, value in (("place", place), ("note", note)) if value and value.strip()}
    with transaction.atomic():
        locked = _lock(ebike)
        workflow.transition(locked, action="report_stolen", actor=actor, data=data, expected_version=expected_version)
        EBike.objects.filter(pk=locked.pk).update(stolen_at=context.now())
        events.on_commit(ebike_events.ebike_stolen, sender=EBike, ebike=locked, actor=actor)
    return _refreshed(ebike)


def ebike_recover(*, ebike: EBike, actor: Any, note: str = "", expected_version: int | None = None) -> EBike:
    """Recovered: back to registered, the plate valid again."""
    _require(actor, ebike, "recover")
    data = {"note": note.strip()} if note and note.strip() else {}
    with transaction.atomic():
        locked = _lock(ebike)
        workflow.transition(locked, action="recover", actor=actor, data=data, expected_version=expected_version)
        EBike.objects.filter(pk=locked.pk).update(stolen_at=None)
    return _refreshed(ebike)


def ebike_cancel(
    *, ebike: EBike, actor: Any, reason: str, note: str = "", expected_version: int | None = None
) -> EBike:
    """Cancel the registration: the plate is retired (never reissued) and the certificate
    revoked. ``actor=None``: the system, for a withdrawn or refused application."""
    if actor is not None:
        _require(actor, ebike, "cancel")
    data = {"reason": reason, **({"note": note.strip()} if note and note.strip() else {})}
    with transaction.atomic():
        locked = _lock(ebike)
        workflow.transition(locked, action="cancel", actor=actor, data=data, expected_version=expected_version)
        EBike.objects.filter(pk=locked.pk).update(cancelled_at=context.now())
        if locked.plate_id:
            Plate.objects.filter(pk=locked.plate_id).update(status=PlateStatus.RETIRED, retired_at=context.now())
        certificates.revoke(locked.credential_id, reason=_("登记已注销：%(reason)s") % {"reason": reason})
    return _refreshed(ebike)


# --- Claiming a dealer's sale ---------------------------------------------------------------------------


def ebikes_claim(*, citizen: User) -> int:
    """Bind to ``citizen`` the bicycles a dealer pre-registered under their ID number before
    they had an account. Runs when they open "my e-bikes" (and is harmless to repeat)."""
    profile = getattr(citizen, "citizen", None)
    if access.user_kind(citizen) != "citizen" or profile is None:
        return 0
    pending = list(
        EBike.objects.filter(owner__isnull=True, buyer_id_hash=profile.id_number_hash).values_list("pk", flat=True)
    )
    claimed = 0
    for pk in pending:
        with transaction.atomic():
            ebike = (
                EBike.objects.select_for_update(of=("self",))
                .select_related("org")
                .filter(pk=pk, owner__isnull=True)
                .first()
            )
            if ebike is None:
                continue  # claimed meanwhile (another tab)
            EBike.objects.filter(pk=pk).update(owner=citizen, buyer_id_number="", buyer_phone="")
            timeline.record(ebike, "ebikes.claimed", actor=citizen, data={"owner": citizen.pk})
            claimed += 1
    return claimed


# --- Dealers' batch imports -------------------------------------------------------------------------------


def import_batch(*, dealer: Dealer, actor: Any, file_name: str, content: bytes) -> ImportBatch:
    """Import a file of bicycles the dealer sold (CSV or .xlsx; ``imports.COLUMNS``).

    What the rows name (catalogue products, buyers' accounts) is looked up for the whole
    file first (``imports.look_up``). Then the whole file is written in one transaction:
    the batch, the new bicycles (each knowing its row), the outcome of every row that
    registers none and each bicycle's timeline event, in a handful of statements, each row
    checked as the bicycles stream to the database
    (``imports.checked_rows``). Should that fail (another upload registered one of the
    frames between the look-up and the insert, a database error), it is undone whole and
    the file is written again row by row, each row all or nothing on its own. Either way a
    bad row never blocks the good ones and no row is half-imported. Rows already imported
    (same frame number, dealer and buyer) are reported as such and not created again, so
    uploading the same file twice creates nothing new. A file that cannot be read at all
    (format, header) raises ``ValidationError`` and stores nothing.
    """
    if access.user_kind(actor) != "partner" or dealer.partner_id != actor.pk or not dealer.is_active:
        _refuse(actor, dealer, _("只有授权经销商本单位可以导入销售记录。"))
    with bulk.collection_paused():
        table = imports.read_table(file_name=file_name, content=content)
        lookups = imports.look_up(table.rows)
        org = handling_unit(dealer.org)
        sha256 = hashlib.sha256(content).hexdigest()
        sales = DealerFile(dealer, actor, file_name[:200], table.format, sha256, len(table.rows), org, dealer.city)
        try:
            with transaction.atomic():
                return _close_batch(sales, _write_together(sales, table.rows, lookups))
        except DatabaseError:
            if connection.in_atomic_block and connection.needs_rollback:
                raise  # the caller's transaction is broken: nothing more can be written in it
            log.warning("e-bike import by dealer %s: writing at once failed; row by row", dealer.pk, exc_info=True)
        checked = list(imports.checked_rows(table.rows, lookups))
        return _close_batch(sales, _write_row_by_row(sales, checked))


@dataclass(frozen=True)
class DealerFile:
    """What a dealer uploaded, once read: who, which file, how many rows, and where its
    bicycles are kept (``org``, the dealer's handling unit) and plated (``city``)."""

    dealer: Dealer
    actor: Any
    file_name: str
    file_format: str
    sha256: str
    rows: int
    org: OrgUnit
    city: OrgUnit

    def new_batch(self) -> ImportBatch:
        return ImportBatch.objects.create(
            dealer=self.dealer,
            uploaded_by=self.actor,
            file_name=self.file_name,
            file_format=self.file_format,
            sha256=self.sha256,
            uploaded_at=context.now(),
            rows_total=self.rows,
        )

    def bicycle(self, batch: ImportBatch, item: imports.CheckedRow) -> dict[str, Any]:
        """The fields of the bicycle a good row registers, which says which row it was."""
        assert item.bike is not None
        buyer = Buyer(owner_id=item.owner_id, id_hash=item.id_hash, id_number=item.id_number, phone=item.phone)
        fields = _ebike_fields(
            bike=item.bike, buyer=buyer, org=self.org, city=self.city, source=Source.DEALER, dealer=self.dealer
        )
        fields.update(import_batch_id=batch.pk, import_row=item.row.number)
        return fields

    def created_event(self, batch: ImportBatch, item: imports.CheckedRow, ebike_id: int) -> timeline.Entry:
        assert item.bike is not None
        data = {
            "source": Source.DEALER,
            "product": item.bike.product.ccc_certificate,
            "batch": batch.pk,
            "row": item.row.number,
            "bound": item.owner_id is not None,
        }
        return timeline.Entry(
            (EBike._meta.label_lower, ebike_id), "ebikes.pre_registered", data, org_path=self.org.path
        )


@dataclass(frozen=True)
class Holder:
    """Who holds a frame number already: enough to tell a re-upload from a clash."""

    pk: int
    dealer_id: int | None
    buyer_id_hash: str


def _live_holders(frames: list[str]) -> dict[str, Holder]:
    """The live records of these frame numbers (``frame_holder`` for many), by frame."""
    found: dict[str, Holder] = {}
    for start in range(0, len(frames), 10_000):  # SQLite takes at most 32,766 parameters
        live = _live().filter(frame_number__any=frames[start : start + 10_000])
        live = live.values_list("frame_number", "pk", "dealer_id", "buyer_id_hash")
        found.update((frame, Holder(*rest)) for frame, *rest in live)
    return found


def _imported_before(holder: EBike | Holder, sales: DealerFile, item: imports.CheckedRow) -> bool:
    return holder.dealer_id == sales.dealer.pk and holder.buyer_id_hash == item.id_hash


def _write_together(
    sales: DealerFile, rows: list[imports.Row], lookups: imports.FileLookups
) -> tuple[ImportBatch, Counter[str]]:
    """The whole file in the caller's transaction; raises on any database error."""
    batch = sales.new_batch()
    holders = _live_holders([frame for frame in lookups.frames if frame])
    reports: list[dict[str, Any]] = []  # the rows that register nothing
    new: list[imports.CheckedRow] = []

    def new_bicycles() -> Iterator[dict[str, Any]]:
        # Checked while the bicycles before them are on their way to the database.
        for item in imports.checked_rows(rows, lookups):
            holder = holders.get(item.frame) if item.ok else None
            if not item.ok:
                reports.append(_report(batch, item, RowOutcome.FAILED, errors=item.errors))
            elif holder is None:
                new.append(item)
                yield sales.bicycle(batch, item)
            elif _imported_before(holder, sales, item):
                reports.append(_report(batch, item, RowOutcome.EXISTING, ebike_id=holder.pk))
            else:
                reports.append(_report(batch, item, RowOutcome.FAILED, errors=[_frame_taken(item.frame)]))

    ids = _insert_all(EBike, new_bicycles(), at_most=len(rows))
    _insert_all(ImportRow, iter(reports), count=len(reports))
    entries = [sales.created_event(batch, item, pk) for item, pk in zip(new, ids, strict=True)]
    # Every write that references a bicycle's owner, unit and product is done: the database
    # checks those keys while the events are hashed, not after, at commit.
    timeline.record_many(entries, actor=sales.actor, while_hashing=bulk.keys_checked_meanwhile())
    outcomes = Counter(report["outcome"] for report in reports)
    outcomes[RowOutcome.CREATED] = len(ids)
    return batch, outcomes


def _insert_all(
    model: type[models.Model], rows: Iterator[dict[str, Any]], *, count: int | None = None, at_most: int | None = None
) -> list[int]:
    """Rows given as dicts of one shape (``_ebike_fields``, ``_report``), made as they are
    sent (``bulk.insert_rows``: ``count`` of them, or ``at_most``)."""
    first = next(rows, None)
    if first is None:
        return []
    every = itertools.chain([first], rows)
    return bulk.insert_rows(model, list(first), (list(row.values()) for row in every), count=count, at_most=at_most)


def _write_row_by_row(sales: DealerFile, checked: list[imports.CheckedRow]) -> tuple[ImportBatch, Counter[str]]:
    batch = sales.new_batch()
    return batch, Counter(_write_row(sales, batch, item) for item in checked)


def _write_row(sales: DealerFile, batch: ImportBatch, item: imports.CheckedRow) -> str:
    """One row, all of it or nothing (its own transaction, or a savepoint in the caller's)."""
    if not item.ok:
        return _saved(_report(batch, item, RowOutcome.FAILED, errors=item.errors))
    try:
        for _attempt in range(2):
            holder = frame_holder(item.frame)
            if holder is not None and _imported_before(holder, sales, item):
                return _saved(_report(batch, item, RowOutcome.EXISTING, ebike_id=holder.pk))
            if holder is not None:
                break
            try:
                with transaction.atomic():  # the row's savepoint: all of it or nothing
                    ebike = _saved_new(EBike(**sales.bicycle(batch, item)))
                    timeline.record_many([sales.created_event(batch, item, ebike.pk)], actor=sales.actor)
                    return RowOutcome.CREATED  # the bicycle says which row it came from
            except ValidationError:
                continue  # the same frame committed meanwhile (another upload): look again
    except DatabaseError:
        if connection.in_atomic_block and connection.needs_rollback:
            raise  # the caller's transaction is broken: nothing more can be written in it
        log.exception("e-bike import: batch %s row %s failed", batch.pk, item.row.number)
        failure = _("该行保存时发生系统错误，未导入，请稍后重新上传（已导入的行不会重复录入）。")
        return _saved(_report(batch, item, RowOutcome.FAILED, errors=[imports.RowError("", failure)]))
    return _saved(_report(batch, item, RowOutcome.FAILED, errors=[_frame_taken(item.frame)]))


def _frame_taken(frame: str) -> imports.RowError:
    return imports.RowError("frame_number", rules.frame_taken_message(frame))


def _report(
    batch: ImportBatch,
    item: imports.CheckedRow,
    outcome: str,
    *,
    ebike_id: int | None = None,
    errors: Any = (),
) -> dict[str, Any]:
    """The outcome of a row that registers nothing, as the fields of its ``ImportRow``."""
    return {
        "batch_id": batch.pk,
        "row_number": item.row.number,
        "outcome": outcome,
        "frame_number": item.frame[:40],
        "ebike_id": ebike_id,
        "errors": [{"field": e.field, "column": e.column, "message": e.message} for e in errors],
    }


def _saved(report: dict[str, Any]) -> str:
    ImportRow.objects.create(**report)
    return report["outcome"]


def _close_batch(sales: DealerFile, written: tuple[ImportBatch, Counter[str]]) -> ImportBatch:
    """Count the outcomes onto the batch and put the file on the timeline."""
    batch, outcomes = written
    batch.rows_created = outcomes[RowOutcome.CREATED]
    batch.rows_existing = outcomes[RowOutcome.EXISTING]
    batch.rows_failed = outcomes[RowOutcome.FAILED]
    batch.save(update_fields=["rows_created", "rows_existing", "rows_failed"])
    timeline.record(
        batch,
        "ebikes.import_batch",
        actor=sales.actor,
        org_path=sales.dealer.org.path,
        data={
            "file": batch.file_name,
            "sha256": batch.sha256,
            "rows": batch.rows_total,
            "created": batch.rows_created,
            "existing": batch.rows_existing,
            "failed": batch.rows_failed,
        },
    )
    return batch
