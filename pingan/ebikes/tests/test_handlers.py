"""The ebike_registration service through the real e-services machinery: the application's
steps keep the register in step (pre-registration, inspection, plate, certificate)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from pingan.core import workflow
from pingan.credentials.models import Credential
from pingan.ebikes import actions, handlers, queries
from pingan.ebikes.models import EBike
from pingan.ebikes.tests.conftest import STATION, bike_data, preregistered, sold_by
from pingan.eservices import actions as eservices
from pingan.eservices import catalog, samples
from pingan.eservices import handlers as registry
from pingan.testing import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def service() -> Any:
    return catalog.get("ebike_registration")


def form_for(service: Any, owner: Any, data: dict[str, Any]) -> dict[str, Any]:
    """Valid answers to the service's form (whatever it names its fields) for ``data``."""
    properties = service.form["properties"]
    values = samples.answers(service.form)
    identity = {"name": owner.name, "id_number": owner.citizen.id_number, "mobile": owner.citizen.phone}
    for name in properties:
        key = handlers.ALIASES.get(name, name)
        if key == "brand" and "model" not in properties:
            values[name] = f"{data['brand']} {data['model']}"
        elif key in data and data[key] in properties[name].get("enum", [data[key]]):
            values[name] = data[key]
        elif name in identity:
            values[name] = identity[name]
    return values


def application_for(service: Any, owner: Any, data: dict[str, Any]) -> Any:
    application = eservices.draft_create(actor=owner, service_code=service.code)
    eservices.draft_update(application=application, actor=owner, form_data=form_for(service, owner, data))
    for spec in service.documents:
        if spec.required:
            ext = next(t for t in ("pdf", "png", "jpg") if t in spec.types)
            content = {"pdf": samples.MINIMAL_PDF, "png": samples.MINIMAL_PNG, "jpg": samples.MINIMAL_JPEG}[ext]
            eservices.document_add(
                application=application, actor=owner, code=spec.code, upload=SimpleUploadedFile(f"f.{ext}", content)
            )
    return application


def test_the_handler_is_registered_for_the_service(service):
    assert service.handler == "ebike_registration"
    assert registry.service_handlers.get("ebike_registration") is handlers.handler


def test_an_application_from_submission_to_plate(service, owner, officer, django_capture_on_commit_callbacks):
    data = bike_data(colour="白")
    application = application_for(service, owner, data)
    eservices.submit(application=application, actor=owner)
    ebike = EBike.objects.get(application_reference=application.reference)
    assert (ebike.state, ebike.owner, ebike.source) == ("pre_registered", owner, "service")
    assert ebike.org == application.org
    assert ebike.frame_number == data["frame_number"]

    eservices.advance(application=application, action="accept", actor=officer)
    eservices.advance(
        application=application, action="inspect", actor=officer, data={"result": "合格"}, channel="counter"
    )
    ebike.refresh_from_db()
    assert ebike.state == "inspected"
    assert ebike.inspections.get().inspector == officer
    eservices.advance(application=application, action="approve", actor=officer)
    with django_capture_on_commit_callbacks(execute=True):
        eservices.advance(application=application, action="issue", actor=officer, data={"delivery": "电子证照"})
    application.refresh_from_db()
    ebike.refresh_from_db()
    assert application.state == "completed"
    assert ebike.state == "registered"
    assert application.result["plate"] == ebike.plate.number == "济南A000001"
    credential = Credential.objects.get(serial=application.result["credential"])
    assert credential.claims["plate_number"] == "济南A000001"
    assert credential.holder == owner
    assert Credential.objects.filter(kind="ebike_registration").count() == 1  # issued once, by e-services
    assert ebike.credential_id == credential.serial  # remembered for a later transfer or cancellation

    buyer = factories.citizen()
    transfer = actions.ebike_transfer_start(ebike=ebike, actor=owner, new_owner_id_number=buyer.citizen.id_number)
    actions.ebike_transfer_confirm(transfer=transfer, actor=buyer)
    assert Credential.objects.get(serial=credential.serial).state == "revoked"


def test_submission_checks_speak_in_the_forms_own_field_names(service, owner):
    application = application_for(service, owner, bike_data(brand="齐风", model="TDR9002"))
    with pytest.raises(ValidationError) as error:
        eservices.submit(application=application, actor=owner)
    brand_field = "model" if "model" in service.form["properties"] else "brand"
    assert "25km/h" in error.value.message_dict[brand_field][0]
    assert not EBike.objects.exists()


def test_validate_refuses_a_registered_frame_and_a_future_purchase(service, owner):
    taken = preregistered(factories.citizen()).frame_number
    application = SimpleNamespace(reference="SQ1", applicant=owner, applicant_id=owner.pk, service=service)
    errors = handlers.handler.validate(application, bike_data(frame_number=taken, purchase_date="2099-01-01"))
    frame_field = "frame_no" if "frame_no" in service.form["properties"] else "frame_number"
    assert "已经登记" in errors[frame_field][0]
    assert errors["purchase_date"] == ["购买日期不能晚于今天。"]


def test_a_withdrawn_application_frees_the_frame(service, owner):
    data = bike_data()
    application = application_for(service, owner, data)
    eservices.submit(application=application, actor=owner)
    eservices.advance(application=application, action="withdraw", actor=owner, data={"reason": "买错了"})
    ebike = EBike.objects.get(application_reference=application.reference)
    assert ebike.state == "cancelled"
    assert ebike.plate is None
    again = preregistered(owner, frame_number=data["frame_number"])
    assert again.state == "pre_registered"


def test_the_applicants_own_dealer_sale_is_taken_over_not_refused(service, owner, dealer):
    data = bike_data()
    sold = sold_by(dealer, buyer_id_number=owner.citizen.id_number, buyer_mobile="13905319999", **data)
    application = application_for(service, owner, data)
    eservices.submit(application=application, actor=owner)
    sold.refresh_from_db()
    assert sold.application_reference == application.reference
    assert EBike.objects.filter(frame_number=data["frame_number"]).count() == 1


def test_a_dealer_inspecting_through_an_application_must_have_sold_the_bicycle(owner, dealer, dealer_user):
    ebike = preregistered(owner)
    EBike.objects.filter(pk=ebike.pk).update(application_reference="SQ2")
    application = SimpleNamespace(reference="SQ2", applicant=owner, result={}, service=None)
    step = SimpleNamespace(action="inspect", data={"result": "合格"}, event=SimpleNamespace(actor_id=dealer_user.pk))
    with pytest.raises(workflow.GuardFailed, match="销售该车"):
        handlers.handler.on_transition(application, step)
    EBike.objects.filter(pk=ebike.pk).update(dealer=dealer)
    handlers.handler.on_transition(application, step)
    ebike.refresh_from_db()
    assert ebike.state == "inspected"
    assert ebike.inspections.get().inspector == dealer_user
    failed = preregistered(owner)
    EBike.objects.filter(pk=failed.pk).update(application_reference="SQ3", dealer=dealer)
    application.reference = "SQ3"
    handlers.handler.on_transition(
        application,
        SimpleNamespace(action="inspect", data={"result": "不合格", "note": "车架号锈蚀无法辨认"}, event=None),
    )
    failed.refresh_from_db()
    assert failed.state == "pre_registered"
    assert failed.inspections.get().note == "车架号锈蚀无法辨认"
    assert queries.ebikes_for(factories.staff(STATION, ["counter_officer"])).filter(pk=failed.pk).exists()
