"""Self-service kiosks (智慧警局): which kiosk, identification by ID number and SMS code,
the short kiosk session, applying for kiosk items, receipts (pingan/eservices/kiosk.py).

The flows run against a small catalogue written here (the shapes under test: an instant
item, a standard item, a county item with a document and a later in-person step, a
counter-only service); the last tests check the real catalogue's kiosk items.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from datetime import timedelta
from importlib import import_module

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from pingan.core import identity, timeline
from pingan.core.models import TimelineEvent
from pingan.eservices import actions, cardreader, catalog, kiosk, samples
from pingan.eservices.models import Application, KioskCode
from pingan.eservices.samples import MINIMAL_PDF
from pingan.notify.models import Message
from pingan.notify.sms import LocmemBackend
from pingan.orgs.models import OrgUnit
from pingan.testing import factories

pytestmark = pytest.mark.django_db

STATION = "370102001"
KIOSK = f"{STATION}-01"
HOME = "/services/kiosk/"

# A catalogue in the shapes the kiosk handles (loaded instead of catalog/services/).
TEST_CATALOGUE = """
services:
  - code: kiosk_test_identity_proof
    name: {zh-hans: 临时身份证明开具, en: Temporary identity certificate}
    department: household
    category: {zh-hans: 居民身份证, en: Resident ID card}
    legal_limit: {days: 1, unit: working}
    promised_limit: {days: 1, unit: working}
    fee: {amount: "0.00"}
    channels: [kiosk, counter]
    handled_at: station
    workflow: service_instant
    in_person_steps: [submit]
    form:
      type: object
      required: [purpose, phone]
      properties:
        purpose: {type: string, title: 用途, x-title-en: Purpose, enum: [乘坐火车, 乘坐飞机, 住宿登记]}
        phone: {type: string, title: 联系电话, x-title-en: Phone, format: mobile}
      additionalProperties: false
    documents: []
    kiosk: id_card
    guide: {zh-hans: 本人刷身份证并输入短信验证码后当场开具。, en: Issued on the spot.}
  - code: kiosk_test_residence_endorse
    name: {zh-hans: 居住证签注, en: Residence permit endorsement}
    department: household
    category: {zh-hans: 居住证, en: Residence permit}
    legal_limit: {days: 15, unit: working}
    promised_limit: {days: 5, unit: working}
    fee: {amount: "0.00"}
    channels: [online, kiosk, counter]
    handled_at: station
    workflow: service_standard
    in_person_steps: []
    form:
      type: object
      required: [address]
      properties:
        address: {type: string, title: 居住地址, x-title-en: Address, minLength: 4, maxLength: 100}
      additionalProperties: false
    documents: []
    kiosk: residence
    guide: {zh-hans: 居住证有效期内每年签注一次。, en: Once a year.}
  - code: kiosk_test_exit_endorsement
    name: {zh-hans: 往来港澳通行证再次签注, en: Hong Kong and Macao re-endorsement}
    department: exit_entry
    category: {zh-hans: 出入境, en: Exit and entry}
    legal_limit: {days: 10, unit: working}
    promised_limit: {days: 7, unit: working}
    fee: {amount: "15.00", note: {zh-hans: 签注费每次15元, en: CNY 15 per endorsement}}
    channels: [kiosk, counter]
    handled_at: county
    workflow: service_collect
    in_person_steps: [collect]
    form:
      type: object
      required: [kind]
      properties:
        kind: {type: string, title: 签注种类, x-title-en: Endorsement, enum: [个人旅游, 探亲, 商务]}
      additionalProperties: false
    documents:
      - code: photo
        name: {zh-hans: 数码照片回执, en: Digital photo receipt}
        required: true
        types: [jpg, png, pdf]
        max_mb: 5
    kiosk: exit_entry
    guide: {zh-hans: 凭有效通行证办理。, en: With a valid permit.}
  - code: kiosk_test_driving_record
    name: {zh-hans: 驾驶人安全驾驶信用证明, en: Safe driving record}
    department: traffic
    category: {zh-hans: 机动车和驾驶人, en: Vehicles and drivers}
    legal_limit: {days: 1, unit: working}
    promised_limit: {days: 1, unit: working}
    fee: {amount: "0.00"}
    channels: [online, app, kiosk, counter]
    handled_at: station
    workflow: service_instant
    in_person_steps: []
    form:
      type: object
      properties:
        note: {type: string, title: 备注, x-title-en: Note, maxLength: 50}
      additionalProperties: false
    documents: []
    kiosk: vehicle
    guide: {zh-hans: 即时出具。, en: Issued at once.}
  - code: kiosk_test_counter_only
    name: {zh-hans: 户口迁移, en: Household registration transfer}
    department: household
    category: {zh-hans: 户籍, en: Household registration}
    legal_limit: {days: 20, unit: working}
    promised_limit: {days: 10, unit: working}
    fee: {amount: "0.00"}
    channels: [online, counter]
    handled_at: station
    workflow: service_standard
    in_person_steps: []
    form:
      type: object
      properties:
        reason: {type: string, title: 原因, x-title-en: Reason, maxLength: 50}
      additionalProperties: false
    documents: []
    guide: {zh-hans: 到窗口办理。, en: At the counter.}
"""


@pytest.fixture
def test_catalogue(tmp_path_factory, monkeypatch):
    directory = tmp_path_factory.mktemp("kiosk-catalogue")
    (directory / "kiosk_test.yaml").write_text(TEST_CATALOGUE, encoding="utf-8")
    monkeypatch.setattr(catalog, "_cache", catalog.load(directory))
    return catalog.services()


@pytest.fixture
def kiosk_settings(settings):
    settings.KIOSK_CODE = ""
    settings.NOTIFY_SMS_BACKEND = "pingan.notify.sms.LocmemBackend"
    LocmemBackend.outbox.clear()
    return settings


@pytest.fixture
def person():
    return factories.citizen("370102", name="张三丰", home_org_code="370102002")


def id_of(user) -> str:
    return user.citizen.id_number


def unregistered_id() -> str:
    return identity.make_resident_id("370102", dt.date(1975, 3, 9), 876)


class Screen:
    """One kiosk's browser, driven with the test client."""

    def __init__(self, capture, code: str = KIOSK) -> None:
        self.client = Client()
        self.capture = capture
        response = self.client.get(f"{HOME}?kiosk={code}")
        assert response.status_code == 200, response.content.decode()[:500]

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict | None = None, **kwargs):
        with self.capture(execute=True):  # the SMS goes out on commit, as in production
            return self.client.post(path, data or {}, **kwargs)

    def request_code(self, id_number: str, *, service: str = ""):
        path = reverse("eservices:kiosk_identify") + (f"?service={service}" if service else "")
        return self.post(path, {"id_number": id_number})

    def enter_code(self, code: str):
        return self.post(reverse("eservices:kiosk_verify"), {"code": code})

    def identify(self, user, *, service: str = "") -> None:
        response = self.request_code(id_of(user), service=service)
        assert response.status_code == 302
        assert response["Location"] == reverse("eservices:kiosk_verify")
        response = self.enter_code(sms_code())
        assert response.status_code == 302, response.content.decode()[:800]

    def session(self):
        engine = import_module(django_settings.SESSION_ENGINE)
        return engine.SessionStore(self.client.cookies[kiosk.SESSION_COOKIE].value)


def sms_code() -> str:
    """The code in the last SMS the gateway received."""
    assert LocmemBackend.outbox, "no SMS was sent"
    match = re.search(r"(?<!\d)(\d{6})(?!\d)", LocmemBackend.outbox[-1]["text"])
    assert match, LocmemBackend.outbox[-1]["text"]
    return match.group(1)


@pytest.fixture
def screen(kiosk_settings, test_catalogue, django_capture_on_commit_callbacks):
    return Screen(django_capture_on_commit_callbacks)


# --- Which kiosk ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("", "尚未配置"),
        ("370102001", "格式不正确"),
        ("370102001-1", "格式不正确"),
        ("999999999-01", "不存在或已撤销"),
        ("370102000-01", "不存在或已撤销"),
    ],
)
def test_a_kiosk_must_name_an_existing_station(kiosk_settings, test_catalogue, code, words):
    response = Client().get(f"{HOME}?kiosk={code}" if code else HOME)
    assert response.status_code == 400
    assert words in response.content.decode()


def test_a_bureau_or_a_closed_station_is_not_a_kiosk_location(kiosk_settings, test_catalogue):
    assert Client().get(f"{HOME}?kiosk=370102-01").status_code == 400  # a county bureau
    OrgUnit.objects.filter(code=STATION).update(is_active=False)
    response = Client().get(f"{HOME}?kiosk={KIOSK}")
    assert response.status_code == 400
    assert "不存在或已撤销" in response.content.decode()


def test_the_kiosk_code_is_remembered_or_fixed_by_setting(kiosk_settings, test_catalogue):
    client = Client()
    assert client.get(f"{HOME}?kiosk={KIOSK}").status_code == 200
    response = client.get(HOME)  # the device cookie remembers it
    assert response.status_code == 200
    assert "解放路派出所" in response.content.decode()
    kiosk_settings.KIOSK_CODE = "370102002-03"
    fixed = Client().get(HOME)
    assert fixed.status_code == 200
    assert "千佛山派出所" in fixed.content.decode()
    assert "03" in fixed.content.decode()
    assert Client().get(f"{HOME}?kiosk={KIOSK}").status_code == 400  # the setting wins


# --- The screens before identification ---------------------------------------------------


def test_home_shows_four_categories_and_only_kiosk_items(screen):
    page = screen.get(HOME).content.decode()
    for name in ("居民身份证", "居住证", "出入境", "机动车和驾驶人"):
        assert name in page
    assert page.count('class="k-tile ') == 4
    listing = screen.get(reverse("eservices:kiosk_category", args=["id_card"])).content.decode()
    assert "临时身份证明开具" in listing
    assert "当场办结" in listing
    assert "户口迁移" not in listing
    vehicles = screen.get(reverse("eservices:kiosk_category", args=["vehicle"])).content.decode()
    assert "驾驶人安全驾驶信用证明" in vehicles
    assert screen.get(reverse("eservices:kiosk_category", args=["weapons"])).status_code == 404
    detail = screen.get(reverse("eservices:kiosk_service", args=["kiosk_test_exit_endorsement"])).content.decode()
    assert "历下区公安分局" in detail  # handled by the county of the kiosk's station
    assert "15.00元" in detail
    assert "数码照片回执" in detail


def test_pages_are_never_cached_and_the_session_cookie_is_short(screen, person):
    screen.identify(person)
    response = screen.get(HOME)
    assert response["Cache-Control"] == "no-store"
    cookie = screen.client.cookies[kiosk.SESSION_COOKIE]
    assert cookie["path"] == HOME
    assert cookie["httponly"]
    assert cookie["samesite"] == "Strict"
    assert not cookie["max-age"]
    assert not cookie["expires"]
    assert "sessionid" not in screen.client.cookies  # not a sign-in: no site session


def test_english_toggle_lasts_until_the_session_ends(screen):
    response = screen.post(reverse("eservices:kiosk_language"), {"language": "en", "next": f"{HOME}c/id_card/"})
    assert response.status_code == 302
    assert response["Location"] == f"{HOME}c/id_card/"
    assert "Temporary identity certificate" in screen.get(f"{HOME}c/id_card/").content.decode()
    outside = screen.post(reverse("eservices:kiosk_language"), {"language": "en", "next": "https://evil.example/"})
    assert outside["Location"] == HOME
    screen.post(reverse("eservices:kiosk_end"))
    assert "临时身份证明开具" in screen.get(f"{HOME}c/id_card/").content.decode()


# --- Codes -----------------------------------------------------------------------------


def test_the_right_code_identifies_and_only_its_hash_is_stored(screen, person):
    response = screen.request_code(id_of(person))
    assert response.status_code == 302
    sent = LocmemBackend.outbox[-1]
    assert sent["phone"] == person.citizen.phone
    assert "解放路派出所" in sent["text"]
    code = sms_code()
    row = KioskCode.objects.get()
    assert row.kiosk == KIOSK
    assert code not in row.code_hash
    assert len(row.code_hash) <= 128
    assert row.id_number_hash == identity.blind_index(id_of(person), purpose="id_number")
    verify_page = screen.get(reverse("eservices:kiosk_verify")).content.decode()
    assert identity.mask_resident_id(id_of(person)) in verify_page
    assert id_of(person) not in verify_page
    response = screen.enter_code(code)
    assert response.status_code == 302
    assert response["Location"] == HOME
    page = screen.get(HOME).content.decode()
    assert "张**" in page
    assert identity.mask_resident_id(id_of(person)) in page
    assert "张三丰" not in page
    assert id_of(person) not in page
    row.refresh_from_db()
    assert row.used_at is not None
    assert row.attempts == 1
    logged = list(timeline.events_for(row).values_list("action", "actor_id"))
    assert ("eservices.kiosk_code_requested", None) in logged
    assert ("eservices.kiosk_identified", person.pk) in logged


def test_wrong_codes_count_and_the_fifth_locks_the_code(screen, person):
    screen.request_code(id_of(person))
    right = sms_code()
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    messages = [screen.enter_code(wrong).content.decode() for _ in range(5)]
    assert "还可以再试4次" in messages[0]
    assert "还可以再试1次" in messages[3]
    assert "错误次数过多" in messages[4]
    locked = screen.enter_code(right)
    assert locked.status_code == 400
    assert "错误次数过多" in locked.content.decode()
    assert KioskCode.objects.get().attempts == 5
    assert KioskCode.objects.get().used_at is None
    assert "张**" not in screen.get(HOME).content.decode()
    failures = TimelineEvent.objects.filter(action="eservices.kiosk_code_failed").count()
    assert failures == 5  # kept, though each refusal is an error for the person
    assert screen.enter_code("12ab").status_code == 400  # not six digits: refused, not counted
    assert KioskCode.objects.get().attempts == 5


def test_an_expired_code_is_refused(screen, person):
    screen.request_code(id_of(person))
    code = sms_code()
    KioskCode.objects.update(created_at=timezone.now() - timedelta(minutes=5, seconds=1))
    response = screen.enter_code(code)
    assert response.status_code == 400
    assert "已过期" in response.content.decode()


def test_a_code_is_used_once(screen, person):
    screen.identify(person)
    row = KioskCode.objects.get()
    station = kiosk.kiosk_get(KIOSK)
    with pytest.raises(kiosk.CodeRefused, match="已使用"):
        kiosk.code_verify(kiosk=station, code_id=row.pk, code=sms_code())
    other = kiosk.kiosk_get(f"{STATION}-02")
    with pytest.raises(kiosk.CodeRefused, match="请先获取"):
        kiosk.code_verify(kiosk=other, code_id=row.pk, code=sms_code())  # bound to its kiosk


def test_the_answer_never_says_whether_a_number_is_registered(
    kiosk_settings, test_catalogue, person, django_capture_on_commit_callbacks
):
    known, unknown = Screen(django_capture_on_commit_callbacks), Screen(django_capture_on_commit_callbacks)
    first = known.request_code(id_of(person))
    second = unknown.request_code(unregistered_id())
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert len(LocmemBackend.outbox) == 1  # only the registered number's mobile got an SMS
    assert KioskCode.objects.count() == 2  # both have a row: the limits treat them alike

    def same(response, id_number):
        """The page without what differs by design: the CSRF token and the masked number typed."""
        text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
        return response.status_code, text.replace(identity.mask_resident_id(id_number), "MASKED")

    verify = reverse("eservices:kiosk_verify")
    assert same(known.get(verify), id_of(person)) == same(unknown.get(verify), unregistered_id())
    not_the_code = f"{(int(sms_code()) + 1) % 1_000_000:06d}"
    assert same(known.enter_code(not_the_code), id_of(person)) == same(
        unknown.enter_code(not_the_code), unregistered_id()
    )


def test_requests_for_codes_are_rate_limited(screen, person, kiosk_settings, django_capture_on_commit_callbacks):
    screen.request_code(id_of(person))
    again = screen.request_code(id_of(person))
    assert again.status_code == 400
    assert "过于频繁" in again.content.decode()
    assert "秒后再试" in again.content.decode()
    kiosk_settings.KIOSK_CODE_RESEND_SECONDS = 0
    kiosk_settings.KIOSK_CODE_LIMIT_PER_ID = (2, 900)
    assert screen.request_code(id_of(person)).status_code == 302
    third = screen.request_code(id_of(person))
    assert third.status_code == 400
    assert "次数过多" in third.content.decode()
    assert "分钟后再试" in third.content.decode()
    # The same limit for a number nobody registered (else the limit would tell).
    assert screen.request_code(unregistered_id()).status_code == 302
    assert screen.request_code(unregistered_id()).status_code == 302
    assert "次数过多" in screen.request_code(unregistered_id()).content.decode()
    # Per kiosk: many different numbers from one machine.
    kiosk_settings.KIOSK_CODE_LIMIT_PER_KIOSK = (KioskCode.objects.filter(kiosk=KIOSK).count() + 1, 600)
    other = factories.citizen("370102", name="李四")
    assert screen.request_code(id_of(other)).status_code == 302
    busy = screen.request_code(id_of(factories.citizen("370102", name="王五")))
    assert busy.status_code == 400
    assert "本终端" in busy.content.decode()
    elsewhere = Screen(django_capture_on_commit_callbacks, code=f"{STATION}-02")
    assert elsewhere.request_code(id_of(factories.citizen("370102", name="赵六"))).status_code == 302


def test_a_malformed_number_gets_a_clear_error(screen):
    response = screen.request_code("37010219900101123")
    assert response.status_code == 400
    assert "18位" in response.content.decode()
    assert screen.request_code("").status_code == 400
    assert not KioskCode.objects.exists()


# --- The kiosk session -------------------------------------------------------------------


def test_the_session_ends_server_side_after_two_minutes_idle(screen, person):
    screen.identify(person)
    assert "张**" in screen.get(HOME).content.decode()
    store = screen.session()
    store["seen"] = time.time() - 121
    store.save()
    response = screen.get(reverse("eservices:kiosk_category", args=["id_card"]))
    assert response.status_code == 302
    assert response["Location"] == f"{HOME}?done=expired"
    page = screen.get(response["Location"]).content.decode()
    assert "自动结束" in page
    assert "张**" not in page
    assert screen.get(reverse("eservices:kiosk_apply", args=["kiosk_test_identity_proof"])).status_code == 302
    ended = TimelineEvent.objects.get(action="eservices.kiosk_session_ended")
    assert ended.data["reason"] == "expired"
    assert ended.actor_id == person.pk


def test_ending_forgets_the_person(screen, person):
    screen.identify(person)
    key = screen.client.cookies[kiosk.SESSION_COOKIE].value
    response = screen.post(reverse("eservices:kiosk_end"))
    assert response["Location"] == f"{HOME}?done=user"
    page = screen.get(response["Location"]).content.decode()
    assert "已结束" in page
    assert "张**" not in page
    assert 'data-testid="end"' not in page
    engine = import_module(django_settings.SESSION_ENGINE)
    assert not engine.SessionStore(key).exists(key)
    assert TimelineEvent.objects.get(action="eservices.kiosk_session_ended").data["reason"] == "user"


def test_a_keep_alive_ping_holds_the_session(screen, person):
    screen.identify(person)
    store = screen.session()
    store["seen"] = time.time() - 100
    store.save()
    response = screen.post(reverse("eservices:kiosk_ping"))
    assert response.json() == {"active": True, "identified": True, "idle_limit": 120}
    assert time.time() - screen.session()["seen"] < 5


# --- Applying ----------------------------------------------------------------------------


def test_an_instant_item_is_completed_on_the_spot_with_a_receipt(screen, person):
    start = screen.get(reverse("eservices:kiosk_apply", args=["kiosk_test_identity_proof"]))
    assert start.status_code == 302
    assert "service=kiosk_test_identity_proof" in start["Location"]
    screen.get(start["Location"])
    screen.request_code(id_of(person))
    after = screen.enter_code(sms_code())
    assert after["Location"] == reverse("eservices:kiosk_apply", args=["kiosk_test_identity_proof"])
    form = screen.get(after["Location"]).content.decode()
    assert 'name="purpose"' in form
    assert 'name="phone"' in form
    response = screen.post(after["Location"], {"purpose": "乘坐火车", "phone": "13905310001", "token": "t1"})
    assert response.status_code == 302, response.content.decode()[:1000]
    application = Application.objects.get(applicant=person)
    assert response["Location"] == reverse("eservices:kiosk_receipt", args=[application.reference])
    assert application.channel == "kiosk"
    assert application.state == "completed"
    assert application.org.code == STATION  # the kiosk's station, not the person's home station
    assert application.form_data == {"purpose": "乘坐火车", "phone": "13905310001"}
    receipt = screen.get(response["Location"]).content.decode()
    assert application.reference in receipt
    assert "已办结" in receipt
    assert "临时身份证明开具" in receipt
    assert "解放路派出所" in receipt
    assert "已当场办结" in receipt
    assert "@media print" not in receipt
    assert id_of(person) not in receipt
    assert identity.mask_resident_id(id_of(person)) in receipt
    steps = {e.action: e for e in timeline.events_for(application)}
    assert {"eservices.draft_created", "workflow.submit", "workflow.complete"} <= set(steps)
    assert steps["workflow.submit"].actor_id == person.pk
    assert steps["workflow.submit"].channel == "kiosk"
    assert steps["workflow.complete"].actor_id is None
    assert steps["workflow.complete"].channel == "kiosk"
    # The in-person step (submit) was taken at the kiosk: in person.
    assert "submit" in application.service.in_person_steps


def test_a_double_tap_makes_one_application(screen, person):
    screen.identify(person, service="kiosk_test_driving_record")
    url = reverse("eservices:kiosk_apply", args=["kiosk_test_driving_record"])
    first = screen.post(url, {"note": "", "token": "same"})
    second = screen.post(url, {"note": "", "token": "same"})
    assert first["Location"] == second["Location"]
    assert Application.objects.filter(applicant=person).count() == 1


def test_a_standard_item_is_submitted_for_the_handling_unit(screen, person):
    screen.identify(person, service="kiosk_test_residence_endorse")
    url = reverse("eservices:kiosk_apply", args=["kiosk_test_residence_endorse"])
    response = screen.post(url, {"address": "历下区解放路1号"})
    application = Application.objects.get(applicant=person)
    assert application.state == "submitted"
    assert application.org.code == STATION
    receipt = screen.get(response["Location"]).content.decode()
    assert "已提交" in receipt
    assert "承诺5个工作日内办结" in receipt


def test_a_county_item_with_a_document_goes_to_the_county_and_says_what_follows(screen, person):
    screen.identify(person, service="kiosk_test_exit_endorsement")
    url = reverse("eservices:kiosk_apply", args=["kiosk_test_exit_endorsement"])
    missing = screen.post(url, {"kind": "探亲"})
    assert missing.status_code == 400
    assert "数码照片回执" in missing.content.decode()
    draft = Application.objects.get(applicant=person)
    assert draft.state == "draft"  # kept for the next try
    response = screen.post(url, {"kind": "探亲", "doc_photo": SimpleUploadedFile("photo.pdf", MINIMAL_PDF)})
    assert response.status_code == 302
    application = Application.objects.get(applicant=person)
    assert application.pk == draft.pk
    assert application.state == "submitted"
    assert application.org.code == "370102"
    assert application.documents.count() == 1
    receipt = screen.get(response["Location"]).content.decode()
    assert "历下区公安分局" in receipt
    assert "领取" in receipt
    assert "15.00元" in receipt


def test_bad_answers_are_shown_and_nothing_is_submitted(screen, person):
    screen.identify(person, service="kiosk_test_identity_proof")
    url = reverse("eservices:kiosk_apply", args=["kiosk_test_identity_proof"])
    response = screen.post(url, {"purpose": "乘坐火车", "phone": "12345"})
    assert response.status_code == 400
    assert "手机号码" in response.content.decode()
    assert not Application.objects.filter(applicant=person).exclude(state="draft").exists()


def test_a_service_not_offered_at_kiosks_is_refused(screen, person):
    assert screen.get(reverse("eservices:kiosk_service", args=["kiosk_test_counter_only"])).status_code == 404
    assert screen.get(reverse("eservices:kiosk_service", args=["no_such_service"])).status_code == 404
    assert screen.get(reverse("eservices:kiosk_identify") + "?service=kiosk_test_counter_only").status_code == 404
    screen.identify(person)
    url = reverse("eservices:kiosk_apply", args=["kiosk_test_counter_only"])
    page = screen.get(url)
    assert page.status_code == 404
    assert "不能在自助终端办理" in page.content.decode()
    assert screen.post(url, {"reason": "迁入"}).status_code == 404
    assert not Application.objects.exists()


def test_a_receipt_is_only_shown_in_the_session_that_made_it(screen, person, django_capture_on_commit_callbacks):
    screen.identify(person, service="kiosk_test_driving_record")
    response = screen.post(reverse("eservices:kiosk_apply", args=["kiosk_test_driving_record"]), {"token": "x"})
    receipt_url = response["Location"]
    assert screen.get(receipt_url).status_code == 200
    other = Screen(django_capture_on_commit_callbacks)
    other.identify(factories.citizen("370102", name="李四"))
    assert other.get(receipt_url).status_code == 404
    screen.post(reverse("eservices:kiosk_end"))
    after = screen.get(receipt_url)
    assert after.status_code == 302
    assert after["Location"] == reverse("eservices:kiosk_identify")


# --- The card reader -----------------------------------------------------------------------


class FixedReader:
    """A stand-in for a real reader driver: the card on it, whatever is typed."""

    card_number = ""

    def __init__(self, *, typed: str = "", kiosk: str = "") -> None:
        self.kiosk = kiosk

    def read(self) -> cardreader.CardData | None:
        return cardreader.CardData(id_number=FixedReader.card_number, name="", source="reader")


def test_the_simulated_reader_reads_what_was_typed(settings):
    settings.KIOSK_CARD_READER = ""
    reader = cardreader.get_reader(typed=" 370102 19900517 001x ", kiosk=KIOSK)
    assert isinstance(reader, cardreader.SimulatedCardReader)
    assert reader.read() == cardreader.CardData(id_number="37010219900517001X", source="typed")
    assert cardreader.get_reader(typed="   ").read() is None
    assert "370102" not in repr(reader.read())


def test_a_configured_reader_replaces_the_simulation(screen, person, settings):
    settings.KIOSK_CARD_READER = f"{__name__}.FixedReader"
    FixedReader.card_number = id_of(person)
    response = screen.request_code("typed text is ignored")
    assert response.status_code == 302
    screen.enter_code(sms_code())
    assert "张**" in screen.get(HOME).content.decode()
    settings.KIOSK_CARD_READER = "pingan.eservices.kiosk.Kiosk"  # not a reader
    with pytest.raises(TypeError):
        cardreader.get_reader(typed="x")


def test_codes_purge_removes_old_rows(screen, person):
    screen.request_code(id_of(person))
    KioskCode.objects.update(created_at=timezone.now() - timedelta(days=2))
    assert kiosk.codes_purge() == 1
    assert not KioskCode.objects.exists()


def test_code_request_refuses_bad_input_without_a_row(kiosk_settings):
    with pytest.raises(ValidationError):
        kiosk.code_request(kiosk=kiosk.kiosk_get(KIOSK), id_number="not a number")
    assert not KioskCode.objects.exists()
    assert not Message.objects.exists()


# --- The real catalogue -----------------------------------------------------------------------


def test_the_catalogue_offers_kiosk_items_in_all_four_categories():
    items = kiosk.kiosk_services()
    assert len(items) >= 20
    assert {item.kiosk for item in items} == set(catalog.KIOSK_CATEGORIES)
    assert all("kiosk" in item.channels for item in items)


def test_every_kiosk_item_of_the_catalogue_renders(kiosk_settings, person, django_capture_on_commit_callbacks):
    screen = Screen(django_capture_on_commit_callbacks)
    screen.identify(person)
    for item in kiosk.kiosk_services():
        page = screen.get(reverse("eservices:kiosk_service", args=[item.code]))
        assert page.status_code == 200, item.code
        form = screen.get(reverse("eservices:kiosk_apply", args=[item.code]))
        assert form.status_code == 200, item.code
        assert 'data-testid="apply-form"' in form.content.decode()


def _posted(answers: dict) -> dict:
    return {name: ("on" if value is True else str(value)) for name, value in answers.items() if value is not False}


def test_every_fillable_instant_kiosk_item_of_the_catalogue_completes_on_the_spot(
    kiosk_settings, person, django_capture_on_commit_callbacks
):
    instant = [
        item
        for item in kiosk.kiosk_services()
        if item.workflow == "service_instant" and item.handler is None and samples.fillable(item)
    ]
    assert instant, "the catalogue has no fillable instant kiosk item"
    screen = Screen(django_capture_on_commit_callbacks)
    screen.identify(person)
    station = OrgUnit.objects.get(code=STATION)
    for item in instant:
        data = _posted(samples.answers(item.form))
        for spec in item.documents:
            if spec.required:
                kind = "pdf" if "pdf" in spec.types else spec.types[0]
                content = MINIMAL_PDF if kind == "pdf" else samples.MINIMAL_PNG
                data[f"doc_{spec.code}"] = SimpleUploadedFile(f"scan.{kind}", content)
        response = screen.post(reverse("eservices:kiosk_apply", args=[item.code]), data)
        assert response.status_code == 302, (item.code, response.content.decode()[:1500])
        application = Application.objects.get(applicant=person, service_code=item.code)
        assert application.state == "completed", item.code
        assert application.org == actions.handling_unit(item, station)
        receipt = screen.get(response["Location"]).content.decode()
        assert application.reference in receipt
        assert id_of(person) not in receipt


def test_a_refused_completion_leaves_the_application_for_the_staff(screen, person, monkeypatch):
    from pingan.core import workflow

    real_advance = actions.advance

    def refusing(*, application, action, **kwargs):
        if action == "complete":
            raise workflow.GuardFailed("test", "需人工核查")
        return real_advance(application=application, action=action, **kwargs)

    monkeypatch.setattr(actions, "advance", refusing)
    screen.identify(person, service="kiosk_test_driving_record")
    response = screen.post(reverse("eservices:kiosk_apply", args=["kiosk_test_driving_record"]), {"token": "g"})
    assert response.status_code == 302
    application = Application.objects.get(applicant=person)
    assert application.state == "submitted"
    receipt = screen.get(response["Location"]).content.decode()
    assert "已提交" in receipt
    assert "已当场办结" not in receipt
