"""Writes of 团圆 records: reporting, registering, verifying, closing, relatives, photos,
personal data, and their refusals (wrong state, role, jurisdiction, bad input)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from pingan.core import access, context, timeline, workflow
from pingan.core.identity import make_resident_id
from pingan.core.models import TimelineEvent
from pingan.reunion import actions
from pingan.reunion import events as reunion_events
from pingan.reunion.models import PersonRecord, RecordPhoto, Relative
from pingan.reunion.tests.conftest import COUNTY, JPEG, STATION, found_data, missing_data, png, relatives_data
from pingan.testing import factories

pytestmark = pytest.mark.django_db


def actions_of(record: PersonRecord) -> list[str]:
    return list(timeline.events_for(record).values_list("action", flat=True))


# --- Reporting online --------------------------------------------------------------------------


def test_a_family_report_waits_for_verification_at_the_nearest_station(report, father):
    record = report()
    assert record.state == "reported"
    assert record.reference.startswith("XR")
    assert record.org.code == STATION  # the station nearest to the last-seen point in 东昌府区
    assert record.org_path == record.org.path
    assert record.reported_by == father
    assert record.deadline_state == "running"
    assert record.due_at is not None  # the one-working-day verification clock
    assert record.consent_at is not None
    assert record.consent_version
    assert record.name == "林小军"
    assert record.birth_year_min == record.birth_year_max == record.birth_date.year
    assert record.event_at is not None
    assert sorted(Relative.objects.filter(record=record).values_list("relation", flat=True)) == ["father", "mother"]
    assert Relative.objects.get(record=record, relation="father").phone_sealed == "13906350001"
    assert actions_of(record) == ["reunion.recorded", "workflow.report"]


def test_without_a_point_the_report_goes_to_the_county(report):
    record = report(latitude="", longitude="")
    assert record.org.code == COUNTY


def test_a_double_submit_makes_one_record(report, father):
    first = report(key="k-123")
    second = report(key="k-123", name="另一个名字")
    assert first.pk == second.pk
    assert PersonRecord.objects.filter(reported_by=father).count() == 1
    # Another key is another report.
    assert report(key="k-456").pk != first.pk


def test_without_consent_nothing_is_stored(report):
    with pytest.raises(ValidationError) as caught:
        report(consent=False)
    assert "consent" in caught.value.message_dict
    assert "DNA仅用于身份识别" in caught.value.message_dict["consent"][0]
    assert not PersonRecord.objects.exists()
    assert not Relative.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"event_date": "2999-01-01"}, "event_date", "不能晚于今天"),
        ({"event_date": "2024-02-30"}, "event_date", "有效日期"),
        ({"birth_date": "2999-01-01"}, "birth_date", "不能晚于今天"),
        ({"birth_date": "1801-01-01"}, "birth_date", "无效"),
        ({"event_date": "2020-01-01", "event_time": "", "birth_date": "2021-05-01"}, "birth_date", "不能晚于失踪"),
        ({"birth_date": "", "age_at_event": "200"}, "age_at_event", "0 至 110"),
        ({"birth_date": "", "age_at_event": ""}, "birth_date", "出生日期"),
        ({"event_time": "25:99"}, "event_time", "有效时间"),
        ({"latitude": "95", "longitude": "116"}, "latitude", "-90 至 90"),
        ({"latitude": "abc", "longitude": "116"}, "latitude", "纬度"),
        ({"latitude": "36.1", "longitude": ""}, "latitude", "两项都要填写"),
        ({"division_code": "379999"}, "division_code", "不是有效的县级行政区划代码"),
        ({"division_code": ""}, "division_code", "区县"),
        ({"sex": "X"}, "sex", "性别"),
        ({"circumstance": "rescued"}, "circumstance", "情形"),
        ({"name": ""}, "name", "必填"),
        ({"place_text": ""}, "place_text", "必填"),
        ({"reporter_relation": ""}, "reporter_relation", "关系"),
        ({"height_cm": "900"}, "height_cm", "30 至 250"),
        ({"mark_tags": ["翅膀"]}, "mark_tags", "未知的特征标签"),
        ({"id_number": "370102199001011234"}, "id_number", "校验位"),
        ({"name": "林\x00小军"}, "name", "无效字符"),
    ],
)
def test_bad_input_is_refused_per_field_and_nothing_is_stored(report, changes, field, words):
    with pytest.raises(ValidationError) as caught:
        report(**changes)
    problems = caught.value.message_dict
    assert field in problems, problems
    assert any(words in message for message in problems[field]), problems[field]
    assert not PersonRecord.objects.exists()


def test_an_id_number_must_agree_with_sex_and_birth_date(report):
    number = make_resident_id("371502", dt.date(2019, 3, 8), 24)  # a girl's number (even sequence)
    with pytest.raises(ValidationError) as caught:
        report(id_number=number, birth_date="2019-03-09")
    assert "出生日期与身份证号码不一致" in caught.value.message_dict["birth_date"][0]
    assert "性别与身份证号码不一致" in caught.value.message_dict["sex"][0]


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"phone": "12345"}, "relatives.0.phone", "手机号码"),
        ({"phone": ""}, "relatives.0.phone", "留下手机号码"),
        ({"relation": "cousin"}, "relatives.0.relation", "关系"),
        ({"id_number": "123"}, "relatives.0.id_number", "18位"),
    ],
)
def test_bad_relatives_are_refused(report, changes, field, words):
    with pytest.raises(ValidationError) as caught:
        report(relatives=relatives_data(**changes))
    assert any(words in message for message in caught.value.message_dict[field])
    assert not PersonRecord.objects.exists()


def test_errors_of_record_and_relatives_come_together(report):
    with pytest.raises(ValidationError) as caught:
        report(event_date="2999-01-01", consent=False, relatives=relatives_data(phone="1"))
    assert {"event_date", "consent", "relatives.0.phone"} <= set(caught.value.message_dict)


def test_a_deceased_relative_needs_no_phone(report):
    record = report(relatives=[*relatives_data(), {"relation": "grandparent", "name": "林老汉", "deceased": True}])
    grandparent = record.relatives.get(relation="grandparent")
    assert grandparent.deceased
    assert not grandparent.can_give_dna


def test_only_citizens_report_online_and_only_missing_or_seekers(father, investigator):
    with pytest.raises(access.AccessDenied):
        actions.record_report(reporter=investigator, kind="missing", data=missing_data(), relatives=relatives_data())
    with pytest.raises(ValidationError) as caught:
        actions.record_report(reporter=father, kind="found", data=found_data(), relatives=[])
    assert "kind" in caught.value.message_dict
    assert not PersonRecord.objects.exists()


def test_a_seeker_registers_online_and_must_be_an_adult(father):
    data = {
        "name": "陈军",
        "sex": "M",
        "circumstance": "adopted",
        "event_date": "1997-08-01",
        "event_date_approx": True,
        "age_min": "3",
        "age_max": "5",
        "place_text": "四川省南充市",
        "division_code": "511302",
        "consent": True,
    }
    record = actions.record_report(reporter=father, kind="seeker", data=data, relatives=[])
    assert record.state == "reported"
    assert record.org == father.citizen.home_org  # out of province: the seeker's own station
    assert (record.birth_year_min, record.birth_year_max) == (1991, 1994)
    young = dict(data, event_date=timezone.localdate().replace(month=1, day=1).isoformat())
    with pytest.raises(ValidationError) as caught:
        actions.record_report(reporter=father, kind="seeker", data=young, relatives=[])
    assert "成年人" in caught.value.message_dict["birth_date"][0]


# --- Registering by the police --------------------------------------------------------------------


def test_the_police_register_a_found_person_verified_at_once(register, investigator):
    record = register("found")
    assert record.state == "active"
    assert record.verified_by == investigator
    assert record.verified_at is not None
    assert record.org.code == COUNTY  # the investigator's bureau
    assert record.name == ""
    found_year = record.event_date.year  # aged 5 to 7 when found: born 8 to 5 years before
    assert (record.birth_year_min, record.birth_year_max) == (found_year - 8, found_year - 5)
    assert actions_of(record) == ["reunion.recorded", "workflow.register_verified"]


def test_a_cross_province_seeker_is_handled_by_the_liaocheng_investigator(register):
    seeker = register("seeker")
    assert seeker.kind == "seeker"
    assert seeker.state == "active"
    assert seeker.division_code == "511302"
    assert seeker.org.code == COUNTY


def test_registering_outside_ones_jurisdiction_is_refused(outsider, investigator):
    from pingan.orgs.models import OrgUnit

    with pytest.raises(access.AccessDenied):
        actions.record_register(actor=outsider, kind="found", data=found_data(), org=OrgUnit.objects.get(code=COUNTY))
    with pytest.raises(access.AccessDenied):
        actions.record_register(actor=factories.citizen(), kind="found", data=found_data())
    assert not PersonRecord.objects.exists()


def test_an_imported_reference_is_kept_and_checked(investigator):
    record = actions.record_register(actor=investigator, kind="found", data=found_data(), reference="XRDEMO999001")
    assert record.reference == "XRDEMO999001"
    with pytest.raises(ValidationError):
        actions.record_register(actor=investigator, kind="found", data=found_data(), reference="XRDEMO999001")
    with pytest.raises(ValidationError):
        actions.record_register(actor=investigator, kind="found", data=found_data(), reference="bad ref")


def test_a_backdated_registration_keeps_its_dates(investigator):
    moment = timezone.make_aware(dt.datetime(1997, 6, 12, 19, 0))
    with context.backdated(moment):
        record = actions.record_register(
            actor=investigator,
            kind="missing",
            data=missing_data(event_date="1997-06-12", event_time="15:30", birth_date="1993-03-08"),
            relatives=relatives_data(),
        )
    assert record.reported_at == moment
    assert record.reference.startswith("XR1997")
    assert record.age_range_at_event() == (4, 4)


# --- Verifying, rejecting, withdrawing, closing -----------------------------------------------------


def test_verify_activates_and_refreshes_candidates(report, community, register, django_capture_on_commit_callbacks):
    found = register("found", event_date=timezone.localdate().isoformat())  # found after he went missing
    record = report()
    activated = []

    def remember(sender, record, actor, **kwargs):
        activated.append(record.reference)

    reunion_events.record_activated.connect(remember)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            actions.record_verify(record=record, actor=community, note="已到家中核实")
    finally:
        reunion_events.record_activated.disconnect(remember)
    record.refresh_from_db()
    assert record.state == "active"
    assert record.verified_by == community
    assert record.deadline_state == "stopped"
    assert activated == [record.reference]
    # The matcher ran on commit: the boy found today is a candidate.
    from pingan.reunion.models import AttributeCandidate

    assert AttributeCandidate.objects.filter(missing=record, found=found).exists()


def test_verify_refusals(report, community, outsider, counter, father):
    record = report()
    with pytest.raises(access.AccessDenied) as caught:
        actions.record_verify(record=record, actor=outsider, note="核实")
    assert caught.value.decision.status == 404  # out of view: "not found"
    with pytest.raises(access.AccessDenied):
        actions.record_verify(record=record, actor=father, note="核实")
    with pytest.raises(workflow.InputInvalid):
        actions.record_verify(record=record, actor=counter, note="")
    actions.record_verify(record=record, actor=counter, note="窗口核实")  # a counter officer may verify
    with pytest.raises(workflow.IllegalTransition):
        actions.record_verify(record=record, actor=community, note="再次核实")


def test_a_stale_version_is_a_conflict(report, community, counter):
    record = report()
    version = record.version
    actions.record_verify(record=record, actor=community, note="核实")
    with pytest.raises(workflow.Conflict):
        actions.record_reject(record=record, actor=counter, reason="不实", expected_version=version)


def test_reject_closes_the_report(report, community):
    record = report()
    actions.record_reject(record=record, actor=community, reason="经核实孩子在亲戚家")
    record.refresh_from_db()
    assert record.state == "closed"
    assert record.close_code == "rejected"
    assert record.closed_at is not None


def test_the_reporter_withdraws_but_no_one_else(report, father, stranger):
    record = report()
    with pytest.raises(access.AccessDenied) as caught:
        actions.record_withdraw(record=record, actor=stranger, reason="不找了")
    assert caught.value.decision.status == 404
    actions.record_withdraw(record=record, actor=father, reason="孩子已经回家")
    record.refresh_from_db()
    assert record.state == "closed"
    assert record.close_code == "withdrawn"


def test_close_needs_a_known_reason_and_a_case_role(active_missing, investigator, counter):
    with pytest.raises(workflow.InputInvalid):
        actions.record_close(record=active_missing, actor=investigator, reason="because")
    with pytest.raises(access.AccessDenied):
        actions.record_close(record=active_missing, actor=counter, reason="duplicate")
    actions.record_close(record=active_missing, actor=investigator, reason="found_by_family", note="在外婆家找到")
    active_missing.refresh_from_db()
    assert (active_missing.state, active_missing.close_code) == ("closed", "found_by_family")


def test_next_step_feeds_the_record(active_missing, investigator, community):
    actions.record_set_next_step(record=active_missing, actor=investigator, next_step="组织父母采血入库")
    active_missing.refresh_from_db()
    assert active_missing.next_step == "组织父母采血入库"
    with pytest.raises(access.AccessDenied):  # community officers verify, they do not run the case
        actions.record_set_next_step(record=active_missing, actor=community, next_step="走访")


# --- Relatives and photos -------------------------------------------------------------------------------


def test_relatives_are_added_by_the_family_or_staff(active_missing, father, investigator, stranger):
    relative = actions.relative_add(
        record=active_missing, actor=father, relation="full_sibling", name="林小红", phone="13906350003"
    )
    assert relative.record == active_missing
    assert relative.can_give_dna
    actions.relative_add(
        record=active_missing, actor=investigator, relation="grandparent", name="林老汉", deceased=True
    )
    with pytest.raises(ValidationError) as caught:
        actions.relative_add(record=active_missing, actor=father, relation="uncle_aunt", phone="138")
    assert "phone" in caught.value.message_dict
    with pytest.raises(access.AccessDenied) as denied:
        actions.relative_add(record=active_missing, actor=stranger, relation="uncle_aunt", phone="13906350004")
    assert denied.value.decision.status == 404
    assert "reunion.relative_added" in actions_of(active_missing)
    assert active_missing.relatives.count() == 4


def test_nothing_is_added_to_a_closed_record(active_missing, investigator):
    actions.record_close(record=active_missing, actor=investigator, reason="duplicate")
    with pytest.raises(actions.ReunionRefused):
        actions.relative_add(record=active_missing, actor=investigator, relation="mother", phone="13906350009")


def test_a_photo_is_written_only_after_commit(active_missing, father, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        photo = actions.photo_add(record=active_missing, actor=father, upload=png(), caption="六岁生日", public=True)
    assert not default_storage.exists(photo.file.name)  # not yet: the transaction is open
    for callback in callbacks:
        callback()
    assert default_storage.exists(photo.file.name)
    assert photo.content_type == "image/png"
    assert photo.public
    assert len(photo.sha256) == 64
    assert photo.file.name.startswith(f"reunion/{active_missing.pk}/")
    assert "六岁" not in photo.file.name


def test_a_rolled_back_photo_leaves_no_file(active_missing, father):
    class Boom(Exception):
        pass

    names = []

    def add_then_fail() -> None:
        with transaction.atomic():
            names.append(actions.photo_add(record=active_missing, actor=father, upload=png()).file.name)
            raise Boom

    with pytest.raises(Boom):
        add_then_fail()
    assert not RecordPhoto.objects.exists()
    assert not default_storage.exists(names[0])


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("photo.gif", b"GIF89a" + b"\x00" * 20, "JPG 或 PNG"),
        ("photo.png", JPEG, "不是有效的 PNG"),
        ("photo.jpg", b"", "空的"),
        ("photo.jpg", b"\xff\xd8\xff" + b"\x00" * (5 * 1024 * 1024), "不能超过 5 MB"),
    ],
)
def test_bad_photos_are_refused(active_missing, father, name, content, words):
    with pytest.raises(ValidationError) as caught:
        actions.photo_add(record=active_missing, actor=father, upload=png(name, content))
    assert any(words in message for message in caught.value.message_dict["photo"])
    assert not RecordPhoto.objects.exists()


def test_photos_in_a_report_are_checked_with_the_rest(father):
    with pytest.raises(ValidationError) as caught:
        actions.record_report(
            reporter=father,
            kind="missing",
            data=missing_data(),
            relatives=relatives_data(),
            photos=[png("a.png"), png("b.exe", b"MZ")],
        )
    assert "photos" in caught.value.message_dict
    assert not PersonRecord.objects.exists()


# --- Personal data ---------------------------------------------------------------------------------------


def test_personal_data_is_masked_by_default_and_every_read_is_logged(active_missing, investigator, father):
    view = actions.personal_data_read(record=active_missing, actor=investigator)
    assert view.name == "林**"
    assert not view.unmasked
    assert view.may_unmask
    assert {r.phone for r in view.relatives} == {"139****0001", "139****0002"}
    full = actions.personal_data_read(record=active_missing, actor=investigator, unmask=True)
    assert full.name == "林小军"
    assert full.unmasked
    reads = TimelineEvent.objects.filter(
        subject_type="reunion.personrecord", subject_id=str(active_missing.pk), action="personal_data.read"
    )
    assert [event.data["purpose"] for event in reads.order_by("id")] == ["view", "unmask"]
    assert reads.order_by("id").last().actor_id == investigator.pk
    # The family may see what they reported in full.
    assert actions.personal_data_read(record=active_missing, actor=father, unmask=True).name == "林小军"


def test_unmasking_needs_a_role_that_may(active_missing, leader, examiner, stranger):
    assert actions.personal_data_read(record=active_missing, actor=leader).name == "林**"
    for user in (leader, examiner):
        with pytest.raises(access.AccessDenied) as caught:
            actions.personal_data_read(record=active_missing, actor=user, unmask=True)
        assert caught.value.decision.status == 403
    with pytest.raises(access.AccessDenied) as caught:
        actions.personal_data_read(record=active_missing, actor=stranger)
    assert caught.value.decision.status == 404
    assert TimelineEvent.objects.filter(action="access.denied", subject_id=str(active_missing.pk)).count() == 3


# --- Teams ----------------------------------------------------------------------------------------------------


def test_teams_are_made_by_bureau_leaders_in_their_jurisdiction(leader, investigator, counter):
    from pingan.orgs.models import OrgUnit

    county = OrgUnit.objects.get(code=COUNTY)
    team = actions.team_create(
        actor=leader, org=county, name="东昌府区团圆行动专班", lead=investigator, members=[counter]
    )
    assert list(team.members.all()) == [counter]
    assert actions.team_create(actor=leader, org=county, name="东昌府区团圆行动专班", lead=investigator).pk == team.pk
    with pytest.raises(access.AccessDenied):
        actions.team_create(actor=counter, org=county, name="另一个专班", lead=investigator)
    with pytest.raises(ValidationError):
        actions.team_create(actor=leader, org=OrgUnit.objects.get(code=STATION), name="派出所专班", lead=investigator)
