"""What each endpoint answers (the permission matrix is in test_permissions.py)."""

from __future__ import annotations

import pytest

from pingan.api.tests.conftest import error_of, token_client
from pingan.core.models import TimelineEvent
from pingan.orgs.models import Kind, Level, OrgUnit

pytestmark = pytest.mark.django_db


# --- /api/v1/orgs/ -------------------------------------------------------------------------------


def test_city_level_is_exactly_the_16_city_bureaus(anonymous):
    response = anonymous.get("/api/v1/orgs/", {"level": "city", "limit": 100})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 16
    assert {unit["kind"] for unit in body["results"]} == {"bureau"}
    assert {unit["parent"] for unit in body["results"]} == {"37"}
    names = [unit["name"] for unit in body["results"]]
    assert "济南市公安局" in names
    assert "青岛市公安局" in names


def test_departments_only_when_asked_for(anonymous):
    departments = anonymous.get("/api/v1/orgs/", {"level": "city", "kind": "department", "limit": 500}).json()
    assert departments["count"] == OrgUnit.objects.filter(level=Level.CITY, kind=Kind.DEPARTMENT).count() > 0
    traffic = anonymous.get("/api/v1/orgs/", {"department": "traffic", "parent": "3701"}).json()
    assert [unit["code"] for unit in traffic["results"]] == ["3701-traffic"]


def test_parent_gives_the_direct_children(anonymous):
    body = anonymous.get("/api/v1/orgs/", {"parent": "370102001"}).json()
    expected = OrgUnit.objects.filter(parent__code="370102001").count()
    assert body["count"] == expected >= 3
    assert {unit["level"] for unit in body["results"]} == {"grid"}


def test_under_gives_the_whole_subtree(anonymous):
    body = anonymous.get("/api/v1/orgs/", {"under": "370102", "level": "station", "limit": 500}).json()
    expected = OrgUnit.objects.filter(level=Level.STATION, path__startswith="37/3701/370102/").count()
    assert body["count"] == expected > 0
    assert all(unit["path"].startswith("37/3701/370102/") for unit in body["results"])


def test_name_search(anonymous):
    body = anonymous.get("/api/v1/orgs/", {"q": "解放路"}).json()
    assert "370102001" in {unit["code"] for unit in body["results"]}
    assert all("解放路" in unit["name"] for unit in body["results"])


@pytest.mark.parametrize("param", ["parent", "under"])
def test_unknown_org_code_is_a_clear_400(anonymous, param):
    response = anonymous.get("/api/v1/orgs/", {param: "9999"})
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid"
    assert "9999" in error["fields"][param][0]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"level": "planet"}, "level"),
        ({"kind": "x"}, "kind"),
        ({"department": "nope"}, "department"),
        ({"q": "长" * 51}, "q"),
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"offset": "9" * 40}, "offset"),
    ],
)
def test_bad_filters_are_400_with_the_field(anonymous, params, field):
    response = anonymous.get("/api/v1/orgs/", params)
    assert response.status_code == 400
    assert field in error_of(response)["fields"]


@pytest.mark.parametrize("params", [{"parent": "37\x00"}, {"q": "\x00"}])
def test_nul_characters_are_a_400_in_the_error_format(anonymous, params):
    # Refused before the view by the site's NUL guard; under /api/ the answer is still the API's JSON.
    response = anonymous.get("/api/v1/orgs/", params)
    assert response.status_code == 400
    error_of(response)


def test_org_list_query_count_does_not_grow_with_the_page(anonymous, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        response = anonymous.get("/api/v1/orgs/", {"level": "station", "limit": 500})
    assert len(response.json()["results"]) == 500


def test_org_detail_with_parent_children_and_counts(anonymous):
    response = anonymous.get("/api/v1/orgs/3701/")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "济南市公安局"
    assert body["parent_unit"] == {"code": "37", "name": "山东省公安厅", "level": "province", "kind": "bureau"}
    child_codes = {child["code"] for child in body["children"]}
    assert {"370102", "3701-traffic"} <= child_codes
    assert (
        body["descendants"]["station"]
        == OrgUnit.objects.filter(level=Level.STATION, path__startswith="37/3701/").count()
    )


def test_department_detail_and_province_without_parent(anonymous):
    assert anonymous.get("/api/v1/orgs/3701-criminal/").json()["kind"] == "department"
    province = anonymous.get("/api/v1/orgs/37/").json()
    assert province["parent"] is None
    assert province["parent_unit"] is None
    assert len([child for child in province["children"] if child["kind"] == "bureau"]) == 16


def test_list_filters_do_not_apply_to_the_detail(anonymous):
    response = anonymous.get("/api/v1/orgs/3701/", {"level": "grid", "limit": "bad"})
    assert response.status_code == 200
    assert response.json()["code"] == "3701"


@pytest.mark.parametrize("path", ["/api/v1/orgs/9999/", "/api/v1/orgs/a%20b/", "/api/v1/orgs/" + "1" * 60 + "/"])
def test_unknown_org_detail_is_404_in_the_error_format(anonymous, path):
    response = anonymous.get(path)
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_orgs_are_read_only(officer):
    client = token_client(officer)
    for method in ("post", "put", "patch", "delete"):
        response = getattr(client, method)("/api/v1/orgs/37/", {}, format="json")
        assert response.status_code == 405
        assert error_of(response)["code"] == "method_not_allowed"


# --- /api/v1/me/ -----------------------------------------------------------------------------------


def test_me_for_staff_shows_badge_and_posts(officer):
    body = token_client(officer).get("/api/v1/me/").json()
    assert body["kind"] == "staff"
    assert body["name"] == "窗口民警"
    assert body["staff"]["badge_number"] == "310001"
    assert body["staff"]["home_org"]["code"] == "370102001"
    assert body["staff"]["posts"] == [
        {"org": "370102001", "org_name": "解放路派出所", "role": "counter_officer", "role_name": "窗口民警"}
    ]
    assert body["citizen"] is None
    assert body["partner"] is None


def test_me_role_names_follow_accept_language(officer):
    body = token_client(officer).get("/api/v1/me/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["staff"]["posts"][0]["role_name"] == "Counter officer"


def test_me_for_a_citizen_is_masked(resident):
    body = token_client(resident).get("/api/v1/me/").json()
    profile = resident.citizen
    assert body["kind"] == "citizen"
    assert body["staff"] is None
    assert body["citizen"]["id"] == profile.pk
    assert body["citizen"]["id_number_masked"] == profile.id_number[:4] + "*" * 10 + profile.id_number[-4:]
    assert profile.id_number not in str(body)
    assert profile.phone not in str(body)
    assert body["citizen"]["phone_masked"] == profile.phone[:3] + "****" + profile.phone[-4:]


def test_me_for_a_partner():
    partner = factories_partner()
    body = token_client(partner).get("/api/v1/me/").json()
    assert body["kind"] == "partner"
    assert body["partner"]["org"]["code"] == "370102"


def factories_partner():
    from pingan.testing import factories

    return factories.partner("370102")


# --- /api/v1/staff/ --------------------------------------------------------------------------------


def test_staff_list_filters_by_org_subtree_and_role(admin, officer, dispatcher, outsider):
    client = token_client(admin)
    jinan = client.get("/api/v1/staff/", {"org": "3701"}).json()
    assert {row["badge_number"] for row in jinan["results"]} == {"310001", "310002"}
    dispatchers = client.get("/api/v1/staff/", {"role": "dispatcher"}).json()
    assert [row["badge_number"] for row in dispatchers["results"]] == ["310002"]
    assert dispatchers["results"][0]["posts"][0]["role_name"] == "接处警调度员"


def test_staff_bad_filters(admin):
    client = token_client(admin)
    response = client.get("/api/v1/staff/", {"org": "0000", "role": "king"})
    assert response.status_code == 400
    assert set(error_of(response)["fields"]) == {"org", "role"}


def test_staff_list_has_no_n_plus_one(admin, django_assert_max_num_queries):
    from pingan.testing import factories

    for number in range(8):
        factories.staff("370102001", ["counter_officer", "dispatcher"], badge=f"35000{number}")
    client = token_client(admin)
    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/staff/")
    assert response.json()["count"] >= 9


def test_staff_detail_by_badge(admin, officer):
    body = token_client(admin).get("/api/v1/staff/310001/").json()
    assert body["name"] == "窗口民警"
    assert body["home_org"]["code"] == "370102001"
    response = token_client(admin).get("/api/v1/staff/999999/")
    assert response.status_code == 404


# --- /api/v1/citizens/ --------------------------------------------------------------------------------


def test_citizen_detail_is_masked_and_the_read_is_logged(officer, resident):
    profile = resident.citizen
    response = token_client(officer).get(f"/api/v1/citizens/{profile.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "李四"
    assert body["account"] == resident.pk
    assert body["id_number_masked"].count("*") == 10
    assert profile.id_number not in str(body)
    assert profile.phone not in str(body)
    read = TimelineEvent.objects.filter(action="personal_data.read", subject_id=str(profile.pk)).get()
    # Token call, no explicit actor: the actor comes from the context the API set.
    assert read.actor_id == officer.pk
    assert read.channel == "api"
    assert read.data["purpose"] == "api_view_masked"


def test_lookup_by_id_number(officer, resident):
    profile = resident.citizen
    response = token_client(officer).post(
        "/api/v1/citizens/lookup/", {"id_number": profile.id_number.lower()}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["id"] == profile.pk
    assert TimelineEvent.objects.filter(action="personal_data.read", data__purpose="api_lookup").count() == 1


@pytest.mark.parametrize(
    ("id_number", "message"),
    [
        ("370102199005170011", "身份证号码校验位不正确，请核对后重新输入。"),
        ("12345", "身份证号码应为18位。"),
        ("99999919900517001X", None),  # unknown county code (or check digit): the identity module says which
        ("3701021990051A0011", "身份证号码前17位应为数字，最后一位为数字或X。"),
    ],
)
def test_lookup_refuses_malformed_numbers_with_the_identity_message(officer, id_number, message):
    response = token_client(officer).post("/api/v1/citizens/lookup/", {"id_number": id_number}, format="json")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid"
    assert error["fields"]["id_number"]
    if message:
        assert error["fields"]["id_number"] == [message]


def test_lookup_of_an_unknown_valid_number_is_404(officer):
    import datetime as dt

    from pingan.core.identity import make_resident_id

    number = make_resident_id("370102", dt.date(1970, 1, 1), 999)
    response = token_client(officer).post("/api/v1/citizens/lookup/", {"id_number": number}, format="json")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


@pytest.mark.parametrize(
    "body",
    [{}, {"id_number": 370102199005170011}, {"id_number": None}, {"id_number": ["x"]}, {"id_number": "3" * 31}],
)
def test_lookup_wrong_types_are_400(officer, body):
    response = token_client(officer).post("/api/v1/citizens/lookup/", body, format="json")
    assert response.status_code == 400
    assert "id_number" in error_of(response)["fields"]


def test_reveal_gives_full_identifiers_and_logs_it(officer, resident):
    profile = resident.citizen
    response = token_client(officer).post(f"/api/v1/citizens/{profile.pk}/reveal/", {}, format="json")
    assert response.status_code == 200
    assert response.json() == {"id_number": profile.id_number, "phone": profile.phone}
    assert response["Cache-Control"] == "no-store"
    event = TimelineEvent.objects.get(action="personal_data.read", data__purpose="unmask")
    assert event.actor_id == officer.pk
    assert event.data["fields"] == ["id_number", "phone"]


def test_reveal_one_identifier(officer, resident):
    profile = resident.citizen
    response = token_client(officer).post(
        f"/api/v1/citizens/{profile.pk}/reveal/", {"identifiers": ["phone"]}, format="json"
    )
    assert response.json() == {"phone": profile.phone}


@pytest.mark.parametrize("body", [{"identifiers": []}, {"identifiers": ["password"]}, {"identifiers": "phone"}])
def test_reveal_bad_body(officer, resident, body):
    response = token_client(officer).post(f"/api/v1/citizens/{resident.citizen.pk}/reveal/", body, format="json")
    assert response.status_code == 400
    assert all(field.startswith("identifiers") for field in error_of(response)["fields"])
    assert not TimelineEvent.objects.filter(data__purpose="unmask").exists()


# --- /api/v1/timeline/ ---------------------------------------------------------------------------------


def test_timeline_of_one_object_oldest_first(officer, resident):
    profile = resident.citizen
    client = token_client(officer)
    client.get(f"/api/v1/citizens/{profile.pk}/")
    body = client.get("/api/v1/timeline/", {"subject_type": "accounts.citizenprofile", "subject_id": profile.pk}).json()
    actions = [event["action"] for event in body["results"]]
    assert actions == ["accounts.citizen_registered", "personal_data.read"]
    assert body["results"][1]["actor_label"] == "窗口民警（警号 310001）"


def test_timeline_filtered_by_action(officer, resident):
    profile = resident.citizen
    body = (
        token_client(officer)
        .get(
            "/api/v1/timeline/",
            {
                "subject_type": "accounts.citizenprofile",
                "subject_id": profile.pk,
                "action": "accounts.citizen_registered",
            },
        )
        .json()
    )
    assert [event["action"] for event in body["results"]] == ["accounts.citizen_registered"]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"subject_type": "accounts.citizenprofile"},
        {"subject_id": "1"},
        {"subject_type": "accounts.citizenprofile", "subject_id": "1", "org": "3701"},
        {"org": "nowhere"},
    ],
)
def test_timeline_bad_parameters(auditor, params):
    response = token_client(auditor).get("/api/v1/timeline/", params)
    assert response.status_code == 400
    error_of(response)


def test_timeline_by_org_subtree_for_auditors(auditor, officer, outsider):
    client = token_client(auditor)
    body = client.get("/api/v1/timeline/", {"org": "3701", "limit": 500}).json()
    paths = {event["org_path"] for event in body["results"]}
    assert paths
    assert all(path.startswith("37/3701/") for path in paths)
    ids = [event["id"] for event in body["results"]]
    assert ids == sorted(ids, reverse=True)
