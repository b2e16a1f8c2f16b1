from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from pingan.core import access, timeline, workflow
from pingan.core.identity import make_resident_id
from pingan.credentials.models import Credential
from pingan.ebikes import actions, queries
from pingan.ebikes.models import CompliantModel, EBike, Inspection, Plate, PlateCounter, Transfer
from pingan.ebikes.tests.conftest import (
    OTHER_STATION_SAME_CITY,
    QINGDAO_STATION,
    STATION,
    bike_data,
    preregistered,
    registered,
    sold_by,
)
from pingan.testing import factories

pytestmark = pytest.mark.django_db


# --- Pre-registration --------------------------------------------------------------------------


def test_a_citizen_preregisters_online(owner):
    ebike = actions.ebike_preregister(actor=owner, data=bike_data(frame_number="ts21a 0000 999"))
    assert ebike.state == "pre_registered"
    assert ebike.owner == owner
    assert ebike.frame_number == "TS21A0000999"
    assert ebike.org.code == STATION
    assert ebike.city.code == "3701"
    assert ebike.source == "online"
    assert ebike.plate is None
    assert timeline.events_for(ebike).filter(action="ebikes.pre_registered").exists()


def test_preregistration_refuses_a_noncompliant_bicycle_with_the_reason(owner):
    with pytest.raises(ValidationError) as error:
        actions.ebike_preregister(actor=owner, data=bike_data(brand="齐风", model="TDR9002"))
    assert error.value.message_dict["model"] == ["该车型最高设计车速为32km/h，超过GB 17761-2018规定的25km/h。"]
    assert not EBike.objects.exists()


def test_a_frame_number_is_registered_once(owner, buyer):
    actions.ebike_preregister(actor=owner, data=bike_data(frame_number="TS21A7777777"))
    with pytest.raises(ValidationError) as error:
        actions.ebike_preregister(actor=buyer, data=bike_data(frame_number="ts21a7777777"))
    assert "已经登记" in error.value.message_dict["frame_number"][0]


def test_a_citizen_cannot_preregister_for_someone_else(owner, buyer):
    with pytest.raises(access.AccessDenied):
        actions.ebike_preregister(actor=owner, owner=buyer, data=bike_data())


def test_a_counter_officer_preregisters_for_a_citizen_in_jurisdiction(officer, owner):
    ebike = actions.ebike_preregister(actor=officer, owner=owner, org=factories.org(STATION), data=bike_data())
    assert ebike.source == "counter"
    with pytest.raises(access.AccessDenied):
        actions.ebike_preregister(actor=officer, owner=owner, org=factories.org(QINGDAO_STATION), data=bike_data())


def test_dealers_do_not_preregister_one_by_one(dealer, dealer_user, owner):
    with pytest.raises(access.AccessDenied):
        actions.ebike_preregister(actor=dealer_user, owner=owner, data=bike_data())


# --- Inspection and registration -------------------------------------------------------------------


def test_inspect_and_register_allocates_a_plate_and_issues_the_certificate(owner, officer):
    ebike = preregistered(owner)
    inspection = actions.ebike_inspect(ebike=ebike, actor=officer, frame_seen=ebike.frame_number, note="一致")
    assert inspection.passed
    assert ebike.state == "inspected"
    actions.ebike_register(ebike=ebike, actor=officer)
    assert ebike.state == "registered"
    assert ebike.plate.number == "济南A000001"
    assert ebike.registered_at is not None
    credential = Credential.objects.get(serial=ebike.credential_id)
    assert credential.kind == "ebike_registration"
    assert credential.holder == owner
    assert credential.claims["plate_number"] == "济南A000001"
    assert credential.claims["frame_number"] == ebike.frame_number
    second = registered(owner, officer)
    assert second.plate.number == "济南A000002"
    actions_seen = list(timeline.events_for(ebike).values_list("action", flat=True))
    assert actions_seen[:4] == [
        "ebikes.pre_registered",
        "workflow.inspect",
        "workflow.register",
        "ebikes.plate_allocated",
    ]


def test_plates_are_numbered_per_city(owner, officer):
    qingdao_owner = factories.citizen("370202", home_org_code=QINGDAO_STATION)
    qingdao_officer = factories.staff(QINGDAO_STATION, ["counter_officer"])
    jinan = registered(owner, officer)
    qingdao = registered(qingdao_owner, qingdao_officer)
    assert (jinan.plate.number, qingdao.plate.number) == ("济南A000001", "青岛A000001")
    assert PlateCounter.objects.get(city__code="3702").last_serial == 1


def test_a_mismatched_frame_fails_the_inspection_and_keeps_it_preregistered(owner, officer):
    ebike = preregistered(owner)
    inspection = actions.ebike_inspect(ebike=ebike, actor=officer, frame_seen="TS21A9999999")
    assert not inspection.passed
    assert "车架号与预登记信息不一致" in inspection.note
    assert ebike.state == "pre_registered"
    with pytest.raises(ValidationError):
        actions.ebike_inspect(ebike=ebike, actor=officer, passed=False)  # a failure needs a reason


def test_registration_needs_an_inspection_and_an_owner(owner, officer):
    ebike = preregistered(owner)
    with pytest.raises(workflow.IllegalTransition):
        actions.ebike_register(ebike=ebike, actor=officer)
    assert not Plate.objects.exists()


def test_a_certificate_revoked_after_preregistration_blocks_the_plate(owner, officer):
    ebike = preregistered(owner)
    actions.ebike_inspect(ebike=ebike, actor=officer)
    CompliantModel.objects.filter(pk=ebike.product_id).update(certificate_status="revoked")
    with pytest.raises(workflow.GuardFailed, match="CCC证书"):
        actions.ebike_register(ebike=ebike, actor=officer)
    assert EBike.objects.get(pk=ebike.pk).plate is None
    assert not Plate.objects.exists()


def test_an_officer_of_another_station_in_the_city_takes_over_at_the_counter(owner):
    ebike = preregistered(owner)
    other = factories.staff(OTHER_STATION_SAME_CITY, ["counter_officer"])
    assert queries.ebike_for_counter(other, ebike.frame_number.lower()) == ebike
    actions.ebike_inspect(ebike=ebike, actor=other)
    assert ebike.org.code == OTHER_STATION_SAME_CITY
    assert queries.ebikes_for(other).filter(pk=ebike.pk).exists()
    assert timeline.events_for(ebike).filter(action="ebikes.handling_unit_changed").exists()


def test_an_officer_of_another_city_cannot_find_or_inspect(owner):
    ebike = preregistered(owner)
    qingdao = factories.staff(QINGDAO_STATION, ["counter_officer"])
    assert queries.ebike_for_counter(qingdao, ebike.frame_number) is None
    with pytest.raises(access.AccessDenied) as denied:
        actions.ebike_inspect(ebike=ebike, actor=qingdao)
    assert denied.value.decision.status == 404
    assert EBike.objects.get(pk=ebike.pk).state == "pre_registered"


def test_a_community_officer_may_not_inspect(owner):
    ebike = preregistered(owner)
    community = factories.staff(STATION, ["community_officer"])
    with pytest.raises(access.AccessDenied) as denied:
        actions.ebike_inspect(ebike=ebike, actor=community)
    assert denied.value.decision.status == 403
    assert timeline.events_for(ebike).filter(action="access.denied").exists()


def test_a_dealer_inspects_only_what_it_sold(owner, dealer, dealer_user):
    ebike = preregistered(owner)
    with pytest.raises(access.AccessDenied):
        actions.ebike_inspect(ebike=ebike, actor=dealer_user)
    EBike.objects.filter(pk=ebike.pk).update(dealer=dealer)
    ebike.refresh_from_db()
    inspection = actions.ebike_inspect(ebike=ebike, actor=dealer_user, note="门店查验")
    assert inspection.dealer == dealer
    assert inspection.org == dealer.org
    assert ebike.state == "inspected"
    other = actions.dealer_authorise(partner=factories.partner("370102", partner_kind="dealer"))
    second = preregistered(owner)
    EBike.objects.filter(pk=second.pk).update(dealer=dealer)
    with pytest.raises(access.AccessDenied):
        actions.ebike_inspect(ebike=second, actor=other.partner)


def test_a_dealer_without_authority_cannot_inspect(owner, dealer, dealer_user):
    ebike = preregistered(owner)
    EBike.objects.filter(pk=ebike.pk).update(dealer=dealer)
    dealer.is_active = False
    dealer.save()
    ebike.refresh_from_db()
    with pytest.raises(access.AccessDenied, match="授权已失效"):
        actions.ebike_inspect(ebike=ebike, actor=dealer_user)


def test_only_dealer_partners_can_be_authorised(officer):
    security = factories.partner("370102", partner_kind="security_company")
    with pytest.raises(ValidationError):
        actions.dealer_authorise(partner=security)
    chief = factories.staff("370102", ["station_chief"])
    dealer = actions.dealer_authorise(partner=factories.partner("370102", partner_kind="dealer"), actor=chief)
    assert dealer.city.code == "3701"
    with pytest.raises(access.AccessDenied):
        actions.dealer_authorise(
            partner=factories.partner("370202", partner_kind="dealer"), actor=chief
        )  # a Qingdao dealer is outside a Jinan chief's jurisdiction


# --- The unique constraint behind the counter -------------------------------------------------------


def test_a_counter_behind_the_plates_never_hands_out_a_plate_twice(owner, officer):
    first = registered(owner, officer)
    registered(owner, officer)
    PlateCounter.objects.filter(city__code="3701").update(last_serial=0)  # an old backup restored
    third = registered(owner, officer)
    assert third.plate.number == "济南A000003"
    assert Plate.objects.filter(city__code="3701").count() == 3
    assert first.plate.number == "济南A000001"
    assert (
        timeline.events_for(PlateCounter.objects.get(city__code="3701"))
        .filter(action="ebikes.plate_counter_behind")
        .exists()
    )


# --- Transfer of ownership ------------------------------------------------------------------------------


def test_a_transfer_confirmed_by_the_new_owner(plated, owner, buyer):
    plate = plated.plate.number
    old_serial = plated.credential_id
    transfer = actions.ebike_transfer_start(
        ebike=plated, actor=owner, new_owner_id_number=buyer.citizen.id_number, expected_version=plated.version
    )
    assert plated.state == "transferred"
    assert list(queries.transfers_incoming(buyer)) == [transfer]
    assert list(queries.transfers_incoming(owner)) == []
    assert queries.plate_check(plate).status == "valid"
    actions.ebike_transfer_confirm(transfer=transfer, actor=buyer)
    plated.refresh_from_db()
    assert (plated.state, plated.owner, plated.plate.number) == ("registered", buyer, plate)
    transfer.refresh_from_db()
    assert transfer.state == "confirmed"
    assert Credential.objects.get(serial=old_serial).state == "revoked"
    new = Credential.objects.get(serial=plated.credential_id)
    assert new.holder == buyer
    assert new.state == "valid"
    assert new.claims["plate_number"] == plate
    assert transfer.new_credential_id == new.serial
    assert list(queries.ebikes_for(owner)) == []
    assert list(queries.ebikes_for(buyer)) == [plated]


def test_only_the_named_new_owner_confirms(plated, owner, buyer):
    transfer = actions.ebike_transfer_start(ebike=plated, actor=owner, new_owner_id_number=buyer.citizen.id_number)
    stranger = factories.citizen()
    for someone in (owner, stranger, factories.staff(STATION, ["counter_officer"])):
        with pytest.raises(access.AccessDenied):
            actions.ebike_transfer_confirm(transfer=transfer, actor=someone)
    assert EBike.objects.get(pk=plated.pk).owner == owner


def test_a_transfer_declined_or_cancelled_leaves_the_bicycle_with_its_owner(plated, owner, buyer):
    transfer = actions.ebike_transfer_start(ebike=plated, actor=owner, new_owner_id_number=buyer.citizen.id_number)
    actions.ebike_transfer_decline(transfer=transfer, actor=buyer)
    assert transfer.state == "declined"
    plated.refresh_from_db()
    assert plated.state == "registered"
    again = actions.ebike_transfer_start(ebike=plated, actor=owner, new_owner_id_number=buyer.citizen.id_number)
    actions.ebike_transfer_cancel(transfer=again, actor=owner)
    assert again.state == "cancelled"
    with pytest.raises(workflow.IllegalTransition):
        actions.ebike_transfer_confirm(transfer=again, actor=buyer)
    assert Credential.objects.get(serial=plated.credential_id).state == "valid"
    assert EBike.objects.get(pk=plated.pk).owner == owner


def test_transfer_refusals(plated, owner, buyer):
    with pytest.raises(ValidationError) as error:
        actions.ebike_transfer_start(ebike=plated, actor=owner, new_owner_id_number="370102199001011234")
    assert "校验位" in error.value.message_dict["new_owner_id_number"][0]
    unknown = make_resident_id("370102", dt.date(1990, 1, 1), 1)  # valid, but nobody signed up with it
    with pytest.raises(ValidationError, match="尚未注册实名账号"):
        actions.ebike_transfer_start(ebike=plated, actor=owner, new_owner_id_number=unknown)
    with pytest.raises(ValidationError, match="不能是现车主"):
        actions.ebike_transfer_start(ebike=plated, actor=owner, new_owner_id_number=owner.citizen.id_number)
    with pytest.raises(access.AccessDenied):
        actions.ebike_transfer_start(ebike=plated, actor=buyer, new_owner_id_number=buyer.citizen.id_number)
    actions.ebike_transfer_start(ebike=plated, actor=owner, new_owner_id_number=buyer.citizen.id_number)
    with pytest.raises(workflow.IllegalTransition):
        actions.ebike_transfer_start(ebike=plated, actor=owner, new_owner_id_number=buyer.citizen.id_number)
    assert Transfer.objects.filter(state="pending").count() == 1


# --- Theft, recovery, cancellation ------------------------------------------------------------------------


def test_theft_is_public_on_the_plate_and_recovery_restores_it(plated, owner, officer):
    plate = plated.plate.number
    actions.ebike_report_stolen(ebike=plated, actor=owner, place="泉城广场", expected_version=plated.version)
    assert plated.state == "stolen"
    assert plated.stolen_at is not None
    check = queries.plate_check(plate)
    assert check.status == "stolen"
    assert "已报失窃" in check.message
    with pytest.raises(workflow.IllegalTransition):
        actions.ebike_transfer_start(
            ebike=plated, actor=owner, new_owner_id_number=factories.citizen().citizen.id_number
        )
    actions.ebike_recover(ebike=plated, actor=officer, note="在历山路找回")
    assert plated.state == "registered"
    assert plated.stolen_at is None
    assert queries.plate_check(plate).status == "valid"


def test_an_investigator_records_a_theft_but_a_stranger_cannot(plated):
    investigator = factories.staff("370102-criminal", ["investigator"])
    actions.ebike_report_stolen(ebike=plated, actor=investigator)
    assert plated.state == "stolen"
    with pytest.raises(access.AccessDenied):
        actions.ebike_recover(ebike=plated, actor=factories.citizen())


def test_cancellation_retires_the_plate_for_good(plated, owner, officer):
    plate = plated.plate
    serial = plated.credential_id
    actions.ebike_cancel(ebike=plated, actor=owner, reason="报废", note="车辆老化")
    plate.refresh_from_db()
    assert plated.state == "cancelled"
    assert plated.cancelled_at is not None
    assert plate.status == "retired"
    assert plate.retired_at is not None
    assert Credential.objects.get(serial=serial).state == "revoked"
    assert queries.plate_check(plate.number).status == "retired"
    later = registered(owner, officer)
    assert later.plate.number == "济南A000002"  # the retired number is never handed out again
    with pytest.raises(workflow.InputInvalid):
        actions.ebike_cancel(ebike=later, actor=owner, reason="不想要了")
    with pytest.raises(ValidationError, match="已经登记"):
        preregistered(owner, frame_number=plated.frame_number)  # a plated frame stays taken


def test_a_preregistration_cancelled_before_plating_frees_the_frame(owner, buyer):
    ebike = preregistered(owner, frame_number="TS21A5555555")
    actions.ebike_cancel(ebike=ebike, actor=owner, reason="信息有误")
    again = preregistered(buyer, frame_number="TS21A5555555")
    assert again.owner == buyer
    assert EBike.objects.filter(frame_number="TS21A5555555").count() == 2


# --- Claiming a dealer's sale -------------------------------------------------------------------------------


def test_a_sale_to_someone_without_an_account_is_claimed_when_they_sign_up(dealer, dealer_user):
    number = make_resident_id("370103", dt.date(1995, 3, 8), 41)
    ebike = sold_by(dealer, buyer_id_number=number, buyer_mobile="13805310099")
    assert ebike.owner is None
    assert ebike.buyer_id_number == number
    assert ebike.buyer_phone == "13805310099"
    assert actions.ebikes_claim(citizen=factories.citizen()) == 0
    from pingan.accounts import actions as accounts

    newcomer = accounts.citizen_register(name="孙丽", id_number=number, phone="13805310099", password=None)
    assert actions.ebikes_claim(citizen=newcomer) == 1
    ebike.refresh_from_db()
    assert ebike.owner == newcomer
    assert ebike.buyer_id_number == ""
    assert ebike.buyer_phone == ""
    assert actions.ebikes_claim(citizen=newcomer) == 0
    assert list(queries.ebikes_for(newcomer)) == [ebike]


def test_an_unclaimed_sale_cannot_be_plated(dealer, dealer_user, officer):
    number = make_resident_id("370102", dt.date(1990, 1, 2), 77)
    ebike = sold_by(dealer, buyer_id_number=number, buyer_mobile="13805310098")
    actions.ebike_inspect(ebike=ebike, actor=dealer_user)
    chief = factories.staff("370102", ["counter_officer"])
    with pytest.raises(ValidationError, match="尚未绑定实名车主"):
        actions.ebike_register(ebike=ebike, actor=chief)
    assert EBike.objects.get(pk=ebike.pk).state == "inspected"
    assert Inspection.objects.filter(ebike=ebike, passed=True).count() == 1
