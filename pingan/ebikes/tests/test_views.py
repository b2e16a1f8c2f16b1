from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from pingan.core import timeline
from pingan.ebikes import actions
from pingan.ebikes.models import EBike, ImportBatch
from pingan.ebikes.tests.conftest import QINGDAO_STATION, STATION, bike_data, preregistered, registered
from pingan.ebikes.tests.test_imports import NEWCOMER_ID, as_csv, row
from pingan.site.menu import menu_for
from pingan.testing import factories
from pingan.testing.signin import staff_login

pytestmark = pytest.mark.django_db


def login(client, user):
    if user.kind == "staff":
        return staff_login(client, user)
    client.force_login(user)
    return client


def act(client, ebike, action, **fields):
    ebike.refresh_from_db()
    return client.post(reverse("ebikes:act", args=[ebike.pk]), {"action": action, "version": ebike.version, **fields})


# --- Who may open which page ----------------------------------------------------------------------


def test_page_permission_matrix(client, owner, officer, dealer, dealer_user):
    community = factories.staff(STATION, ["community_officer"])
    security = factories.partner("370102", partner_kind="security_company")
    cases = {
        "ebikes:mine": {None: 302, "citizen": 200, "staff": 302, "dealer": 302},
        "ebikes:new": {None: 302, "citizen": 200, "staff": 403, "dealer": 403},
        "ebikes:check": {None: 200, "citizen": 200, "staff": 200, "dealer": 200},
        "ebikes:staff_list": {None: 302, "citizen": 403, "staff": 200, "dealer": 403},
        "ebikes:counter": {None: 302, "citizen": 403, "staff": 200, "community": 403},
        "ebikes:dealer_home": {None: 302, "citizen": 403, "staff": 403, "dealer": 200, "security": 403},
        "ebikes:template_csv": {None: 302, "dealer": 200, "security": 403},
    }
    users = {"citizen": owner, "staff": officer, "dealer": dealer_user, "community": community, "security": security}
    for name, expected in cases.items():
        for who, status in expected.items():
            client.logout()
            if who is not None:
                login(client, users[who])
            assert client.get(reverse(name)).status_code == status, (name, who)


def test_detail_permission_matrix(client, owner, officer, dealer, dealer_user):
    ebike = registered(owner, officer)
    EBike.objects.filter(pk=ebike.pk).update(dealer=dealer)
    url = ebike.get_absolute_url()
    assert client.get(url).status_code == 302
    other_dealer = actions.dealer_authorise(partner=factories.partner("370102", partner_kind="dealer")).partner
    cases = [
        (owner, 200),
        (factories.citizen(), 404),
        (officer, 200),
        (factories.staff("3701-traffic", ["counter_officer"]), 200),  # the city's traffic police
        (factories.staff(QINGDAO_STATION, ["station_chief"]), 404),
        (factories.staff("37", ["auditor"]), 200),
        (dealer_user, 200),
        (other_dealer, 404),
    ]
    for user, status in cases:
        client.logout()
        login(client, user)
        assert client.get(url).status_code == status, user
    reads = timeline.events_for(ebike).filter(action="personal_data.read")
    assert reads.filter(actor_id=officer.pk).exists()
    assert reads.filter(actor_id=dealer_user.pk).exists()
    assert not reads.filter(actor_id=owner.pk).exists()


def test_menu_entries_by_kind_of_account(owner, officer, dealer, dealer_user):
    labels = lambda user: {item["label"] for item in menu_for(user)}  # noqa: E731
    from django.contrib.auth.models import AnonymousUser

    assert "号牌查询" in labels(AnonymousUser())
    assert {"我的电动车", "号牌查询"} <= labels(owner)
    assert "电动车登记" in labels(officer)
    assert "销售登记" in labels(dealer_user)
    assert "销售登记" not in labels(factories.partner("370102", partner_kind="security_company"))


# --- The public plate check ------------------------------------------------------------------------------


def test_the_plate_check_says_valid_or_stolen_and_nothing_personal(client, owner, officer):
    ebike = registered(owner, officer)
    url = reverse("ebikes:check")
    response = client.get(url, {"plate": " 济南a000001 "})
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-status="valid"' in page
    assert "济南A000001" in page
    for personal in (owner.name, ebike.frame_number, ebike.motor_number, owner.citizen.id_number[-4:]):
        assert personal not in page
    actions.ebike_report_stolen(ebike=ebike, actor=owner)
    assert 'data-status="stolen"' in client.get(url, {"plate": "济南A000001"}).content.decode()
    assert 'data-status="unknown"' in client.get(url, {"plate": "济南A999999"}).content.decode()
    assert 'data-status="malformed"' in client.get(url, {"plate": "鲁A12345"}).content.decode()
    assert client.get(url, {"plate": "x" * 500}).status_code == 200


# --- Citizens ----------------------------------------------------------------------------------------------


def test_a_citizen_preregisters_and_sees_their_bicycles(client, owner):
    login(client, owner)
    response = client.post(reverse("ebikes:new"), bike_data(frame_number="TS21A0123456"))
    ebike = EBike.objects.get(frame_number="TS21A0123456")
    assert response.status_code == 302
    assert response["Location"] == ebike.get_absolute_url()
    page = client.get(reverse("ebikes:mine")).content.decode()
    assert "已预登记待查验" in page
    bad = client.post(reverse("ebikes:new"), bike_data(brand="海岱", model="TDR9003"))
    assert bad.status_code == 400
    assert "63.5kg" in bad.content.decode()


def test_a_dealers_sale_appears_when_the_buyer_signs_up(client, dealer, dealer_user):
    actions.import_batch(dealer=dealer, actor=dealer_user, file_name="a.csv", content=as_csv([row(NEWCOMER_ID)]))
    from pingan.accounts import actions as accounts

    newcomer = accounts.citizen_register(name="孙丽", id_number=NEWCOMER_ID, phone="13805310077", password=None)
    login(client, newcomer)
    page = client.get(reverse("ebikes:mine")).content.decode()
    assert "已关联到您的账号" in page
    assert "已预登记待查验" in page


def test_the_owner_reports_a_theft_and_cancels(client, owner, officer):
    ebike = registered(owner, officer)
    login(client, owner)
    assert act(client, ebike, "report_stolen", place="泉城广场").status_code == 302
    ebike.refresh_from_db()
    assert ebike.state == "stolen"
    refused = act(client, ebike, "cancel", reason="不想要了")
    assert refused.status_code == 400
    assert "原因" in refused.content.decode()
    assert act(client, ebike, "cancel", reason="被盗未找回").status_code == 302
    ebike.refresh_from_db()
    assert ebike.state == "cancelled"
    assert ebike.plate.status == "retired"


def test_a_transfer_through_the_pages(client, owner, officer, buyer):
    ebike = registered(owner, officer)
    login(client, owner)
    response = act(client, ebike, "transfer_start", new_owner_id_number=buyer.citizen.id_number)
    assert response.status_code == 302
    stale = client.post(
        reverse("ebikes:act", args=[ebike.pk]), {"action": "report_stolen", "version": ebike.version}
    )  # the version the owner saw before the transfer started
    assert stale.status_code == 409
    client.logout()
    login(client, buyer)
    page = client.get(reverse("ebikes:mine")).content.decode()
    assert 'data-testid="incoming-transfers"' in page
    assert "济南A000001" in page
    transfer = ebike.transfers.get()
    assert (
        client.post(reverse("ebikes:transfer_decide", args=[transfer.pk]), {"decision": "confirm"}).status_code == 302
    )
    ebike.refresh_from_db()
    assert ebike.owner == buyer
    assert ebike.state == "registered"
    client.logout()
    login(client, owner)
    assert client.get(ebike.get_absolute_url()).status_code == 404
    assert (
        client.post(reverse("ebikes:transfer_decide", args=[transfer.pk]), {"decision": "confirm"}).status_code == 404
    )


# --- Staff ------------------------------------------------------------------------------------------------------


def test_staff_inspect_and_plate_in_one_go(client, owner, officer):
    ebike = preregistered(owner)
    login(client, officer)
    page = client.get(ebike.get_absolute_url()).content.decode()
    assert 'data-action="inspect"' in page
    response = act(client, ebike, "inspect", frame_seen=ebike.frame_number, passed="1", register_now="1")
    assert response.status_code == 302
    ebike.refresh_from_db()
    assert ebike.state == "registered"
    assert ebike.plate.number == "济南A000001"
    assert "济南A000001" in client.get(ebike.get_absolute_url()).content.decode()


def test_a_counter_of_another_station_finds_the_bicycle_by_its_frame(client, owner):
    ebike = preregistered(owner)
    other = factories.staff("370103002", ["counter_officer"])
    login(client, other)
    assert client.get(ebike.get_absolute_url()).status_code == 404
    page = client.get(reverse("ebikes:counter"), {"frame": ebike.frame_number.lower()})
    assert page.status_code == 200
    assert ebike.frame_number in page.content.decode()
    assert owner.name not in page.content.decode()
    response = client.post(
        reverse("ebikes:counter_inspect"), {"frame": ebike.frame_number, "passed": "1", "register_now": "1"}
    )
    assert response.status_code == 302
    assert client.get(ebike.get_absolute_url()).status_code == 200
    ebike.refresh_from_db()
    assert ebike.org.code == "370103002"
    assert ebike.state == "registered"
    qingdao = factories.staff(QINGDAO_STATION, ["counter_officer"])
    client.logout()
    login(client, qingdao)
    assert client.get(reverse("ebikes:counter"), {"frame": ebike.frame_number}).status_code == 404


def test_the_staff_list_is_scoped_and_has_no_n_plus_one(client, owner, officer, django_assert_max_num_queries):
    for _ in range(3):
        registered(owner, officer)
    qingdao_owner = factories.citizen("370202", home_org_code=QINGDAO_STATION)
    registered(qingdao_owner, factories.staff(QINGDAO_STATION, ["counter_officer"]))
    login(client, officer)
    url = reverse("ebikes:staff_list")
    with django_assert_max_num_queries(14):
        page = client.get(url).content.decode()
    assert page.count("济南A00000") == 3
    assert "青岛A" not in page
    for _ in range(5):
        registered(owner, officer)
    with django_assert_max_num_queries(14):
        page = client.get(url).content.decode()
    assert page.count("济南A00000") == 8
    found = client.get(url, {"q": "济南a000002"}, HTTP_HX_REQUEST="true").content.decode()
    assert "济南A000002" in found
    assert "济南A000003" not in found
    assert "<html" not in found


# --- Dealers ------------------------------------------------------------------------------------------------------


def test_a_dealer_uploads_and_downloads_the_error_report(client, owner, dealer, dealer_user):
    login(client, dealer_user)
    content = as_csv([row(owner.citizen.id_number), row(owner.citizen.id_number, buyer_mobile="12")])
    response = client.post(reverse("ebikes:dealer_home"), {"file": SimpleUploadedFile("九月.csv", content)})
    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == batch.get_absolute_url()
    page = client.get(batch.get_absolute_url()).content.decode()
    assert 'data-testid="created">1<' in page
    assert 'data-testid="failed">1<' in page
    assert "购车人手机号码" in page
    report = client.get(reverse("ebikes:import_errors", args=[batch.pk]))
    assert report.status_code == 200
    assert report["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert lines[1][0] == "3"
    assert lines[1][2] == "购车人手机号码"
    sales = client.get(reverse("ebikes:dealer_home")).content.decode()
    assert EBike.objects.get(dealer=dealer).frame_number in sales
    bad = client.post(reverse("ebikes:dealer_home"), {"file": SimpleUploadedFile("x.csv", "品牌\n泉骑\n".encode())})
    assert bad.status_code == 400
    assert "表头缺少以下列" in bad.content.decode()
    other = actions.dealer_authorise(partner=factories.partner("370102", partner_kind="dealer")).partner
    client.logout()
    login(client, other)
    assert client.get(batch.get_absolute_url()).status_code == 404
    assert client.get(reverse("ebikes:import_errors", args=[batch.pk])).status_code == 404


def test_a_dealer_inspects_its_sale_from_the_detail_page(client, owner, dealer, dealer_user):
    actions.import_batch(
        dealer=dealer, actor=dealer_user, file_name="a.csv", content=as_csv([row(owner.citizen.id_number)])
    )
    ebike = EBike.objects.get(dealer=dealer)
    login(client, dealer_user)
    page = client.get(ebike.get_absolute_url()).content.decode()
    assert 'data-action="inspect"' in page
    assert 'data-action="register"' not in page
    assert owner.name not in page  # the dealer sees the buyer's name masked
    assert act(client, ebike, "inspect", passed="1", note="门店查验").status_code == 302
    ebike.refresh_from_db()
    assert ebike.state == "inspected"
    assert act(client, ebike, "register").status_code == 403
