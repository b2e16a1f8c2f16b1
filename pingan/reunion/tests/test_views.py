"""Pages of 团圆: forms with clear errors (never a 500), masked personal data, the actions
through the page, who sees which buttons, photos through access checks, the lists."""

from __future__ import annotations

import pytest
from django.utils import timezone

from pingan.alerts.models import Alert
from pingan.core.models import TimelineEvent
from pingan.reunion import actions
from pingan.reunion.models import PersonRecord
from pingan.reunion.tests.conftest import COUNTY, missing_data, png
from pingan.testing.signin import staff_login

pytestmark = pytest.mark.django_db


def form_post(data: dict, **extra) -> dict:
    """The report form's POST: fields, an empty relatives formset plus given rows, a key."""
    post = {key: value for key, value in data.items() if key not in ("mark_tags", "consent")}
    post["mark_tags"] = data.get("mark_tags", [])
    if data.get("consent"):
        post["consent"] = "on"
    post.update(
        {
            "relatives-TOTAL_FORMS": "3",
            "relatives-INITIAL_FORMS": "0",
            "relatives-MIN_NUM_FORMS": "0",
            "relatives-MAX_NUM_FORMS": "6",
            "relatives-0-relation": "father",
            "relatives-0-name": "林建国",
            "relatives-0-phone": "13906350001",
            "relatives-0-can_give_dna": "on",
            "key": "form-key-1",
        }
    )
    post.update(extra)
    return post


def test_the_report_form_renders_with_the_county_picker(client, father):
    client.force_login(father)
    response = client.get("/reunion/report/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-county-picker="1"' in html
    assert 'value="371502" data-lat="36.071924" data-lon="115.915340"' in html
    assert "DNA样本仅用于身份识别" in html
    assert "reunion/reunion.js" in html


def test_a_family_reports_through_the_form(client, father):
    client.force_login(father)
    response = client.post("/reunion/report/", form_post(missing_data()))
    record = PersonRecord.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/reunion/r/{record.reference}/"
    assert record.state == "reported"
    assert record.relatives.count() == 1
    # The same form submitted twice: one record.
    client.post("/reunion/report/", form_post(missing_data()))
    assert PersonRecord.objects.count() == 1
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "待核查" in page.content.decode()


def test_missing_consent_is_a_clear_error_and_nothing_is_stored(client, father):
    client.force_login(father)
    response = client.post("/reunion/report/", form_post(missing_data(consent=False)))
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-error-for="consent"' in html
    assert "未同意不能提交" in html
    assert not PersonRecord.objects.exists()


def test_form_errors_land_on_their_fields(client, father):
    client.force_login(father)
    data = missing_data(event_date="2999-01-01", latitude="91", longitude="200")
    response = client.post("/reunion/report/", form_post(data, **{"relatives-0-phone": "12345"}))
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-error-for="event_date"' in html
    assert "不能晚于今天" in html
    assert 'data-error-for="latitude"' in html
    assert 'data-error-for="relative-0-phone"' in html
    assert not PersonRecord.objects.exists()


@pytest.mark.parametrize(
    "garbage",
    [
        {"sex": "<script>", "division_code": "x" * 300, "latitude": "NaN", "longitude": "inf"},
        {"birth_date": "00-00-00", "age_at_event": "-1", "height_cm": "1e9", "event_time": "99"},
        {"mark_tags": ["<b>"], "relatives-TOTAL_FORMS": "9999"},
        {"relatives-TOTAL_FORMS": "abc"},
    ],
)
def test_garbage_never_makes_a_500(client, father, garbage):
    client.force_login(father)
    response = client.post("/reunion/report/", form_post(missing_data(), **garbage))
    assert response.status_code in (400, 302)
    assert not PersonRecord.objects.exists() or response.status_code == 302


def test_the_seeker_form(client, father):
    client.force_login(father)
    assert client.get("/reunion/seek/").status_code == 200
    data = {
        "name": "陈军",
        "sex": "M",
        "circumstance": "adopted",
        "event_date": "1997-08-01",
        "event_date_approx": "on",
        "age_min": "3",
        "age_max": "5",
        "place_text": "四川省南充市",
        "latitude": "30.796",
        "longitude": "106.092",
        "consent": True,
    }
    response = client.post("/reunion/seek/", form_post(data))
    assert response.status_code == 302
    assert PersonRecord.objects.get().kind == "seeker"


def test_staff_register_a_found_person(client, investigator):
    staff_login(client, investigator)
    assert client.get("/reunion/register/?kind=found").status_code == 200
    data = {
        "sex": "M",
        "age_min": "5",
        "age_max": "7",
        "circumstance": "wandering",
        "event_date": timezone.localdate().isoformat(),
        "place_text": "东昌府区柳园街道",
        "division_code": COUNTY,
    }
    response = client.post("/reunion/register/", {**data, "kind": "found", "key": "reg-1", "channel": "police"})
    assert response.status_code == 302
    record = PersonRecord.objects.get()
    assert (record.kind, record.state) == ("found", "active")


def test_pages_by_kind_of_user(client, father, investigator):
    assert client.get("/reunion/").status_code == 302  # anonymous: sign in
    assert client.get("/reunion/report/").status_code == 302
    client.force_login(father)
    assert client.get("/reunion/").status_code == 403  # staff only
    assert client.get("/reunion/mine/").status_code == 200
    assert client.get("/reunion/register/").status_code == 403
    client.logout()
    staff_login(client, investigator)
    assert client.get("/reunion/report/").status_code == 403  # citizens only
    for path in ("/reunion/", "/reunion/cold-cases/", "/reunion/teams/", "/reunion/reunions/", "/reunion/register/"):
        assert client.get(path).status_code == 200, path
    assert client.get("/reunion/?kind=<x>&state=zzz&page=-4&q=" + "x" * 300).status_code == 200


def test_the_record_page_masks_and_logs_and_unmasks_on_request(client, active_missing, investigator):
    staff_login(client, investigator)
    url = f"/reunion/r/{active_missing.reference}/"
    html = client.get(url).content.decode()
    assert "林**" in html
    assert "林小军" not in html
    assert "139****0001" in html
    assert "13906350001" not in html
    reads = TimelineEvent.objects.filter(action="personal_data.read", subject_id=str(active_missing.pk))
    assert reads.count() == 1
    assert reads.get().data["purpose"] == "view"
    html = client.post(url + "unmask/").content.decode()
    assert "林小军" in html
    assert "13906350001" in html
    assert reads.filter(data__purpose="unmask").count() == 1


def test_a_leader_cannot_unmask(client, active_missing, leader):
    staff_login(client, leader)
    url = f"/reunion/r/{active_missing.reference}/"
    assert "显示完整个人信息" not in client.get(url).content.decode()
    response = client.post(url + "unmask/")
    assert response.status_code == 403
    assert "林小军" not in response.content.decode()


def test_out_of_view_records_are_not_found(client, active_missing, outsider, stranger):
    url = f"/reunion/r/{active_missing.reference}/"
    staff_login(client, outsider)
    assert client.get(url).status_code == 404
    assert client.post(url + "act/", {"action": "close", "version": "1", "reason": "duplicate"}).status_code == 404
    client.logout()
    client.force_login(stranger)
    assert client.get(url).status_code == 404
    assert client.get("/reunion/r/NOPE/").status_code == 404


def test_verify_through_the_page(client, report, community):
    record = report()
    staff_login(client, community)
    url = f"/reunion/r/{record.reference}/"
    html = client.get(url).content.decode()
    assert 'data-action="verify"' in html
    assert 'data-action="reject"' in html
    response = client.post(url + "act/", {"action": "verify", "version": str(record.version), "note": ""})
    assert response.status_code == 400
    assert "至少需要 2 个字符" in response.content.decode()
    response = client.post(url + "act/", {"action": "verify", "version": str(record.version), "note": "已核实"})
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.state == "active"
    stale = client.post(url + "act/", {"action": "reject", "version": "1", "reason": "x"})
    assert stale.status_code == 409
    assert client.post(url + "act/", {"action": "explode", "version": "1"}).status_code == 400
    assert client.post(url + "act/", {"action": "verify", "version": "abc"}).status_code == 400


def test_the_alert_button_shows_only_to_publishers(client, active_missing, investigator, community):
    url = f"/reunion/r/{active_missing.reference}/"
    staff_login(client, community)
    assert 'data-action="publish-alert"' not in client.get(url).content.decode()
    response = client.post(url + "alert/")
    assert response.status_code == 403
    assert "只有县级以上公安机关" in response.content.decode()
    client.logout()
    staff_login(client, investigator)
    assert 'data-action="publish-alert"' in client.get(url).content.decode()
    response = client.post(url + "alert/")
    assert response.status_code == 302
    alert = Alert.objects.get()
    page = client.get(url).content.decode()
    assert alert.reference in page
    assert 'data-action="publish-alert"' not in page


def test_alert_problems_are_shown(client, register, investigator):
    adult = register("missing", birth_date="1990-01-01")
    staff_login(client, investigator)
    html = client.get(f"/reunion/r/{adult.reference}/").content.decode()
    assert "未满18周岁" in html
    assert 'data-action="publish-alert"' not in html
    response = client.post(f"/reunion/r/{adult.reference}/alert/")
    assert response.status_code == 409
    assert "未满18周岁" in response.content.decode()


def test_reunion_through_the_page(client, active_missing, register, investigator):
    found = register("found", event_date=timezone.localdate().isoformat())
    staff_login(client, investigator)
    url = f"/reunion/r/{active_missing.reference}/reunite/"
    bad = client.post(url, {"found_reference": "XRNOPE", "method": "dna"})
    assert bad.status_code == 400
    assert "未找到该编号的记录" in bad.content.decode()
    same = client.post(url, {"found_reference": active_missing.reference, "method": "dna"})
    assert same.status_code == 409
    response = client.post(url, {"found_reference": found.reference, "method": "dna", "evidence": "KC-1"})
    assert response.status_code == 302
    active_missing.refresh_from_db()
    assert active_missing.state == "reunited"
    assert 'data-testid="reunion"' in client.get(f"/reunion/r/{active_missing.reference}/").content.decode()


def test_candidates_show_with_reasons_and_can_be_excluded(
    client, report, community, register, investigator, django_capture_on_commit_callbacks
):
    found = register("found", event_date=timezone.localdate().isoformat())
    with django_capture_on_commit_callbacks(execute=True):
        record = actions.record_verify(record=report(), actor=community, note="核实")
    staff_login(client, investigator)
    html = client.get(f"/reunion/r/{record.reference}/").content.decode()
    assert f'data-other="{found.reference}"' in html
    assert "出生" in html  # a reason about the birth years
    from pingan.reunion.models import AttributeCandidate

    candidate = AttributeCandidate.objects.get(missing=record, found=found)
    url = f"/reunion/r/{record.reference}/candidates/{candidate.pk}/exclude/"
    assert client.post(url, {"reason": ""}).status_code == 400
    assert client.post(url, {"reason": "DNA已排除"}).status_code == 302
    candidate.refresh_from_db()
    assert candidate.status == "excluded"
    assert f'data-other="{found.reference}"' not in client.get(f"/reunion/r/{record.reference}/").content.decode()


def test_the_family_adds_a_photo_and_only_viewers_get_it(
    client, active_missing, father, stranger, investigator, django_capture_on_commit_callbacks
):
    client.force_login(father)
    url = f"/reunion/r/{active_missing.reference}/"
    bad = client.post(url + "photos/", {"ph-photo": png("x.png", b"not a png"), "ph-caption": ""})
    assert bad.status_code == 400
    assert "不是有效的 PNG" in bad.content.decode()
    with django_capture_on_commit_callbacks(execute=True):  # the file is written once committed
        assert client.post(url + "photos/", {"ph-photo": png(), "ph-caption": "生日照"}).status_code == 302
    photo = active_missing.photos.get()
    photo_url = f"{url}photos/{photo.token}/"
    response = client.get(photo_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG")
    assert response["Cache-Control"] == "private, no-store"
    client.logout()
    client.force_login(stranger)
    assert client.get(photo_url).status_code == 404
    client.logout()
    staff_login(client, investigator)
    assert client.get(photo_url).status_code == 200
    assert client.get(f"{url}photos/nope/").status_code == 404


def test_the_family_adds_a_relative(client, active_missing, father):
    client.force_login(father)
    url = f"/reunion/r/{active_missing.reference}/relatives/"
    bad = client.post(url, {"rel-relation": "full_sibling", "rel-phone": "123"})
    assert bad.status_code == 400
    assert "手机号码" in bad.content.decode()
    ok = client.post(
        url,
        {"rel-relation": "full_sibling", "rel-name": "林小红", "rel-phone": "13906350003", "rel-can_give_dna": "on"},
    )
    assert ok.status_code == 302
    assert active_missing.relatives.filter(relation="full_sibling").exists()


def test_my_reports_and_withdrawal(client, report, father):
    record = report()
    client.force_login(father)
    html = client.get("/reunion/mine/").content.decode()
    assert record.reference in html
    assert "待核查" in html
    page = client.get(f"/reunion/r/{record.reference}/").content.decode()
    assert 'data-action="withdraw"' in page
    assert 'data-action="verify"' not in page
    response = client.post(
        f"/reunion/r/{record.reference}/act/",
        {"action": "withdraw", "version": str(record.version), "reason": "孩子已回家"},
    )
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.state == "closed"


def test_the_inbox_lists_reports_to_verify(client, report, community):
    record = report()
    staff_login(client, community)
    html = client.get("/inbox/").content.decode()
    assert record.reference in html
    assert "核查寻亲登记" in html


def test_cold_case_page(client, investigator):
    from pingan.reunion.tests.test_queries import _old_case

    old = _old_case(investigator, years=24, next_step="持续比对")
    staff_login(client, investigator)
    html = client.get("/reunion/cold-cases/").content.decode()
    assert old.reference in html
    assert "持续比对" in html
    assert 'data-county="371502"' in html
    assert client.get("/reunion/cold-cases/?county=<script>").status_code == 200


def test_menu_entries(client, father, investigator):
    client.force_login(father)
    assert "/reunion/mine/" in client.get("/").content.decode()
    client.logout()
    staff_login(client, investigator)
    assert 'href="/reunion/"' in client.get("/").content.decode()


def test_photos_come_with_the_report_form(client, father, django_capture_on_commit_callbacks):
    client.force_login(father)
    post = form_post(missing_data(), photos=[png("a.png"), png("b.png")])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/reunion/report/", post)
    assert response.status_code == 302
    record = PersonRecord.objects.get()
    assert record.photos.count() == 2
    bad = form_post(missing_data(), photos=[png("c.png", b"GIF89a")], key="form-key-2")
    response = client.post("/reunion/report/", bad)
    assert response.status_code == 400
    assert 'data-error-for="photos"' in response.content.decode()
    assert PersonRecord.objects.count() == 1
