"""The service catalogue: the real one loads and meets the platform's promises (S11, S12),
and every kind of mistake an official can make is reported with its file and line."""

from __future__ import annotations

import datetime as dt
import io
import textwrap
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest
from django.core.management import call_command
from django.utils import translation

from pingan.core import workflow
from pingan.core.catalog import CatalogError
from pingan.credentials.catalog import kinds as credential_kinds
from pingan.eservices import catalog, checks, handlers
from pingan.eservices.catalog import TimeLimit
from pingan.orgs import queries as orgs

EBIKE_CODES = {
    "ebike_registration",
    "ebike_transfer",
    "ebike_cancellation",
    "ebike_plate_replacement",
    "ebike_theft_report",
}


@pytest.fixture(scope="module")
def services() -> dict[str, catalog.ServiceDefinition]:
    return catalog.services()


# --- The real catalogue ------------------------------------------------------------------


def test_the_catalogue_keeps_the_platforms_promises(services):
    """S11: 310 services, every one done in one go, 136 of them zero trips — computed."""
    assert len(services) >= 310
    zero_trip = [s for s in services.values() if not s.in_person_steps]
    assert len(zero_trip) >= 136
    assert all(len(s.in_person_steps) <= 1 for s in services.values())
    assert all(s.one_go and s.visits == len(s.in_person_steps) for s in services.values())
    summary = catalog.summary()
    assert summary["total"] == len(services)
    assert summary["zero_trip"] == len(zero_trip)
    assert summary["one_go"] == len(services)
    assert sum(d["total"] for d in summary["by_department"].values()) == len(services)
    assert sum(d["zero_trip"] for d in summary["by_department"].values()) == len(zero_trip)


def test_every_form_is_a_valid_schema_within_the_supported_subset(services):
    for service in services.values():
        form = service.form
        jsonschema.Draft202012Validator.check_schema(form)
        assert set(form) <= catalog.FORM_TOP_KEYS, service.code
        assert form["type"] == "object", service.code
        assert form["additionalProperties"] is False, service.code
        assert form["properties"], service.code
        assert set(form.get("required", [])) <= set(form["properties"]), service.code
        for name, prop in form["properties"].items():
            assert set(prop) <= catalog.FORM_PROPERTY_KEYS, (service.code, name)
            assert prop["type"] in catalog.FORM_PROPERTY_TYPES, (service.code, name)
            assert prop["title"], (service.code, name)
            assert prop["x-title-en"], (service.code, name)
            if "format" in prop:
                assert prop["format"] in catalog.FORM_FORMATS[prop["type"]], (service.code, name)
            if "enum" in prop:
                assert prop["type"] == "string", (service.code, name)
                assert all(isinstance(choice, str) for choice in prop["enum"]), (service.code, name)


def test_every_workflow_exists_and_in_person_steps_are_its_actions(services):
    used = {s.workflow for s in services.values()}
    assert used <= {"service_standard", "service_collect", "service_approval", "service_inspection", "service_instant"}
    for service in services.values():
        actions = workflow.get(service.workflow).actions
        assert set(service.in_person_steps) <= set(actions), service.code


def test_every_reference_is_known(services):
    departments = set(orgs.departments())
    events = set(catalog.life_events())
    kinds = set(credential_kinds())
    for service in services.values():
        assert service.department in departments, service.code
        assert set(service.life_events) <= events, service.code
        assert service.credential is None or service.credential in kinds, service.code
        assert service.channels, service.code
        assert set(service.channels) <= set(catalog.CHANNELS), service.code
        assert service.promised_limit.days >= 1, service.code
        assert service.legal_limit.days >= 1, service.code
        assert not catalog.promise_exceeds_law(service.promised_limit, service.legal_limit), service.code
        for document in service.documents:
            assert set(document.types) <= catalog.DOCUMENT_TYPES, service.code
            assert document.max_mb <= 20, service.code
    # Every life event and every credential kind is used by some service.
    assert {e for s in services.values() for e in s.life_events} == events
    assert {s.credential for s in services.values() if s.credential} == kinds
    assert 12 <= len(events) <= 16


def test_handlers_named_in_the_catalogue_are_registered(services):
    named = {s.handler for s in services.values() if s.handler}
    assert named == {"ebike_registration"}
    assert named <= set(handlers.service_handlers)
    assert checks.service_catalogue_check() == []


def test_self_service_kiosks_offer_twenty_items_in_four_categories(services):
    """S12: 4 categories and 20+ high-frequency items on the smart-station kiosks."""
    kiosk = [s for s in services.values() if s.kiosk]
    assert len(kiosk) >= 20
    by_category = catalog.summary()["kiosk"]
    assert set(by_category) == set(catalog.KIOSK_CATEGORIES)
    assert all(count >= 3 for count in by_category.values())
    assert all("kiosk" in s.channels for s in kiosk)
    assert not [s for s in services.values() if "kiosk" in s.channels and not s.kiosk]


def test_ebike_services_and_credentials(services):
    assert {code for code in services if code.startswith("ebike_")} == EBIKE_CODES
    registration = services["ebike_registration"]
    assert registration.handler == "ebike_registration"
    assert registration.credential == "ebike_registration"
    assert registration.workflow == "service_inspection"
    assert registration.in_person_steps == ("inspect",)
    assert services["residence_permit_application"].credential == "residence_permit"
    assert services["no_criminal_record"].credential == "no_criminal_record"
    assert services["no_criminal_record"].zero_trip
    assert services["network_id_activation"].credential == "network_id"
    assert services["driving_licence_application"].credential == "driving_licence"
    assert services["driving_licence_renewal"].credential == "driving_licence"


def test_public_limits_and_fees(services):
    passport = services["passport_first"]
    assert passport.legal_limit == TimeLimit(7, "working")
    assert passport.fee_amount == Decimal("120.00")
    assert passport.in_person_steps == ("accept",)
    renewal = services["id_card_renewal"]
    assert renewal.legal_limit == TimeLimit(60, "calendar")
    assert renewal.fee_amount == Decimal("20.00")
    assert services["residence_permit_application"].legal_limit == TimeLimit(15, "calendar")
    assert services["hk_macao_permit_first"].legal_limit == TimeLimit(7, "working")
    assert services["household_certificate"].zero_trip


def test_definitions_know_where_they_come_from_and_speak_both_languages(services):
    service = services["passport_first"]
    assert service.source_file == "catalog/services/exit_entry.yaml"
    assert service.line > 1
    text = Path(catalog.services_dir(), "exit_entry.yaml").read_text(encoding="utf-8").splitlines()
    assert text[service.line - 1].strip() == "- code: passport_first"
    with translation.override("en"):
        assert service.name == "First ordinary passport"
        assert service.category == "Travel documents"
        assert service.documents[0].name == "Resident ID card"
    with translation.override("zh-hans"):
        assert service.name == "普通护照首次申领"
        assert "120" in service.fee_note
    assert catalog.get("passport_first") is service
    with pytest.raises(KeyError):
        catalog.get("no_such_service")


def test_departments_in_use_and_life_events(services):
    used = catalog.departments_in_use()
    assert {"household", "public_order", "traffic", "exit_entry", "cyber"} <= set(used)
    assert used == [code for code in orgs.departments() if code in set(used)]
    with translation.override("en"):
        assert catalog.life_events()["birth"].name == "Birth"


def test_every_file_names_its_sources():
    for path in [*sorted(catalog.services_dir().glob("*.yaml")), catalog.catalog_path("life_events.yaml")]:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# "), path


# --- Time limits -------------------------------------------------------------------------------


def test_time_limits_in_working_days():
    week = TimeLimit(7, "calendar")
    # 2024: 1-7 October is the National Day holiday; Sunday 29 September is a make-up working day.
    assert week.working_days_from(dt.date(2024, 10, 1)) == 0
    assert week.working_days_from(dt.date(2024, 9, 29)) == 2
    assert week.working_days_from(dt.date(2024, 10, 8)) == 6  # Saturday 12 October is worked
    assert TimeLimit(5, "working").working_days_from(dt.date(2024, 10, 1)) == 5


def test_promises_are_compared_with_the_law_conservatively():
    assert not catalog.promise_exceeds_law(TimeLimit(15, "working"), TimeLimit(60, "calendar"))
    # 60 calendar days can hold as few as ~36 working days (Spring Festival, National Day).
    assert catalog.promise_exceeds_law(TimeLimit(40, "working"), TimeLimit(60, "calendar"))
    # 7 calendar days may hold no working day at all (the National Day week).
    assert catalog.promise_exceeds_law(TimeLimit(1, "working"), TimeLimit(7, "calendar"))
    assert not catalog.promise_exceeds_law(TimeLimit(7, "calendar"), TimeLimit(7, "calendar"))
    assert catalog.promise_exceeds_law(TimeLimit(8, "working"), TimeLimit(7, "working"))
    # A 10-calendar-day promise may hold 9 working days: too long for a 7-working-day law.
    assert catalog.promise_exceeds_law(TimeLimit(10, "calendar"), TimeLimit(7, "working"))
    assert not catalog.promise_exceeds_law(TimeLimit(3, "calendar"), TimeLimit(7, "working"))


# --- The management command --------------------------------------------------------------------


def test_service_catalogue_command_prints_the_counts(services):
    out = io.StringIO()
    call_command("service_catalogue", "--markdown", stdout=out)
    text = out.getvalue()
    summary = catalog.summary()
    assert f"| **{summary['total']}** | **{summary['zero_trip']}** | **{summary['one_go']}** |" in text
    assert "(`household`)" in text
    assert "(`id_card`)" in text
    out = io.StringIO()
    call_command("service_catalogue", stdout=out)
    assert "household" in out.getvalue()
    assert "|" not in out.getvalue()


# --- Mistakes officials make: each reported with file and line --------------------------------

SAMPLE = """\
# A test service.
services:
  - code: sample_certificate
    name: {zh-hans: 样例证明, en: Sample certificate}
    department: household
    category: {zh-hans: 证明出具, en: Certificates}
    life_events: [birth]
    keywords: [样例]
    legal_limit: {days: 20, unit: working}
    promised_limit: {days: 5, unit: working}
    fee: {amount: "0.00"}
    channels: [online, app, counter]
    handled_at: station
    workflow: service_standard
    in_person_steps: []
    form:
      type: object
      required: [reason]
      properties:
        reason: {type: string, title: 用途, x-title-en: Purpose, maxLength: 50}
      additionalProperties: false
    documents:
      - {code: photo, name: {zh-hans: 照片, en: Photo}, required: true, types: [jpg, png], max_mb: 5}
    guide: {zh-hans: 本人申请。, en: Apply yourself.}
"""


def write(directory: Path, text: str, name: str = "sample.yaml") -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def line_of(text: str, marker: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if marker in line)


def test_the_sample_is_valid(tmp_path):
    write(tmp_path, SAMPLE)
    loaded = catalog.load(tmp_path)
    service = loaded["sample_certificate"]
    assert service.zero_trip
    assert service.line == 3
    assert service.source_file.endswith("sample.yaml")
    assert service.documents[0].types == ("jpg", "png")
    assert catalog.summary(loaded)["by_department"] == {
        "household": {"total": 1, "zero_trip": 1, "one_go": 1, "kiosk": 0}
    }


MISTAKES = [
    # (old, new, marker of the line the error must name, words in the message)
    ("department: household", "department: housing", "department: housing", "unknown department 'housing'"),
    ("life_events: [birth]", "life_events: [birth, wedding]", "life_events:", "unknown life event 'wedding'"),
    ("workflow: service_standard", "workflow: service_express", "workflow:", "unknown workflow 'service_express'"),
    ("in_person_steps: []", "in_person_steps: [collect]", "in_person_steps:", "'collect' is not an action"),
    (
        "promised_limit: {days: 5, unit: working}",
        "promised_limit: {days: 25, unit: working}",
        "promised_limit:",
        "longer than the legal limit",
    ),
    (
        "legal_limit: {days: 20, unit: working}",
        "legal_limit: {days: 7, unit: calendar}",
        "promised_limit:",
        "longer than the legal limit",
    ),
    ("maxLength: 50}", "maxLength: -1}", "reason: {type", "invalid form schema"),
    ("maxLength: 50}", "maxLength: 50, default: 证明}", "reason: {type", "outside the supported subset"),
    ("type: string, title: 用途", "type: array, title: 用途", "reason: {type", "type must be one of"),
    (
        "    additionalProperties: false",
        "    additionalProperties: true",
        "additionalProperties",
        "additionalProperties",
    ),
    ("required: [reason]", "required: [reason, purpose]", "required: [reason", "'purpose' is not among the properties"),
    ("x-title-en: Purpose, ", "", "reason: {type", "needs a 'x-title-en' text"),
    ("guide: {", "credential: passport\n    guide: {", "credential:", "unknown credential kind 'passport'"),
    ("channels: [online, app, counter]", "channels: [online, app, wechat]", "channels:", "unknown channel 'wechat'"),
    ("types: [jpg, png]", "types: [jpg, docx]", "- {code: photo", "file type 'docx' not accepted"),
    ("max_mb: 5", "max_mb: 50", "- {code: photo", "max_mb 50 exceeds 20 MB"),
    ("guide: {", "kiosk: passport\n    guide: {", "kiosk:", "unknown kiosk category 'passport'"),
    ("guide: {", "kiosk: id_card\n    guide: {", "kiosk:", "needs both a kiosk category and the kiosk channel"),
    ("channels: [online, app, counter]", "channels: [counter]", "channels:", "needs the online or app channel"),
    ('fee: {amount: "0.00"}', "fee: {amount: 20}", "fee:", "is not of type 'string'"),
    ("handled_at: station", "handled_at: province", "handled_at:", "'province' is not one of"),
    ("keywords: [样例]", "keyword: [样例]", "keyword:", "'keyword' was unexpected"),
    (
        "    guide: {zh-hans: 本人申请。, en: Apply yourself.}\n",
        "",
        "- code: sample_certificate",
        "'guide' is a required",
    ),
    ("code: sample_certificate", "code: Sample-Certificate", "code:", "does not match"),
    ("name: {zh-hans: 样例证明, en: Sample certificate}", "name: {zh-hans: 样例证明}", "name:", "'en' is a required"),
    (
        "max_mb: 5}",
        "max_mb: 5}\n      - {code: photo, name: {zh-hans: 照片, en: Photo}, required: false, types: [jpg], max_mb: 5}",
        "required: false",
        "document 'photo' listed twice",
    ),
    ("category: {zh-hans", "category: [zh-hans", "category:", ""),  # a YAML syntax error
]


@pytest.mark.parametrize(("old", "new", "marker", "words"), MISTAKES, ids=[m[3] or "yaml syntax" for m in MISTAKES])
def test_mistakes_name_file_and_line(tmp_path, old, new, marker, words):
    assert old in SAMPLE
    text = SAMPLE.replace(old, new, 1)
    write(tmp_path, text, "broken.yaml")
    with pytest.raises(CatalogError) as error:
        catalog.load(tmp_path)
    assert error.value.path.endswith("broken.yaml")
    assert error.value.line == line_of(text, marker), str(error.value)
    assert f"broken.yaml:{error.value.line}:" in str(error.value)
    assert words in str(error.value)


def test_a_code_defined_twice_names_both_places(tmp_path):
    write(tmp_path, SAMPLE, "a_first.yaml")
    write(tmp_path, SAMPLE.replace("# A test service.", "# The same again.\n# (two lines)"), "b_second.yaml")
    with pytest.raises(CatalogError) as error:
        catalog.load(tmp_path)
    message = str(error.value)
    assert error.value.path.endswith("b_second.yaml")
    assert error.value.line == 4
    assert "duplicate service code 'sample_certificate'" in message
    assert "a_first.yaml:3" in message


def test_unknown_handlers_are_found_after_start_up(tmp_path, monkeypatch):
    text = SAMPLE.replace("guide: {", "handler: parcel_tracking\n    guide: {")
    write(tmp_path, text)
    loaded = catalog.load(tmp_path)  # handlers are registered at start-up: not checked at load
    errors = catalog.unknown_handlers(loaded.values(), known={"ebike_registration"})
    assert len(errors) == 1
    assert errors[0].line == line_of(text, "handler:")
    assert errors[0].path.endswith("sample.yaml")
    assert "unknown handler 'parcel_tracking'" in str(errors[0])
    monkeypatch.setattr(catalog, "_cache", loaded)
    messages = checks.service_catalogue_check()
    assert [m.id for m in messages] == ["pingan.E301"]
    assert "parcel_tracking" in messages[0].msg


def test_a_broken_catalogue_fails_the_system_check(tmp_path, monkeypatch):
    write(tmp_path, SAMPLE.replace("department: household", "department: housing"), "broken.yaml")
    monkeypatch.setattr(catalog, "services_dir", lambda: tmp_path)
    monkeypatch.setattr(catalog, "_cache", None)
    messages = checks.service_catalogue_check()
    assert [m.id for m in messages] == ["pingan.E300"]
    assert "broken.yaml:5" in messages[0].msg
    assert "unknown department" in messages[0].msg
    # Once fixed, reload() picks up the change.
    write(tmp_path, SAMPLE, "broken.yaml")
    catalog.reload()
    assert checks.service_catalogue_check() == []
    assert list(catalog.services()) == ["sample_certificate"]
    catalog.reload()


def test_a_broken_life_event_file_names_its_line(tmp_path):
    write(tmp_path, SAMPLE)
    events = tmp_path / "events.yaml"
    twice = "  - code: birth\n    name: {zh-hans: 出生, en: Birth}\n" * 2
    events.write_text("life_events:\n" + twice, encoding="utf-8")
    with pytest.raises(CatalogError) as error:
        catalog.load(tmp_path, life_events_file=events)
    assert error.value.line == 4
    assert "duplicate life event 'birth'" in str(error.value)
