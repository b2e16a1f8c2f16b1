"""The rating form, the rater's page, and the staff pages."""

from __future__ import annotations

import pytest

from pingan.core import timeline
from pingan.ratings import actions
from pingan.ratings.models import Rating, Rectification
from pingan.ratings.tests.conftest import SUBJECT_TYPE
from pingan.testing import factories
from pingan.testing.signin import staff_login

pytestmark = pytest.mark.django_db


def form_url(subject_id: str, subject_type: str = SUBJECT_TYPE) -> str:
    return f"/ratings/rate/{subject_type}/{subject_id}/"


def test_the_form_shows_the_subject_and_the_channels_indicators(client, services, resident):
    subject_id = services.add(resident, label="港澳通行证签注", channel="online")
    client.force_login(resident)
    response = client.get(form_url(subject_id))
    assert response.status_code == 200
    page = response.content.decode()
    assert "港澳通行证签注" in page
    for text in ("非常满意", "非常不满意", "办事效率", "办事指南精确度", "办事便捷度", "平台操作性"):
        assert text in page
    assert "服务态度" not in page  # a counter indicator


def test_rating_well(client, services, resident):
    subject_id = services.add(resident)
    client.force_login(resident)
    response = client.post(
        form_url(subject_id), {"level": "5", "indicator_attitude": "5", "indicator_efficiency": "", "comment": "好"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/ratings/mine/"
    rating = Rating.objects.get()
    assert (rating.level, rating.indicators, rating.comment) == (5, {"attitude": 5}, "好")
    page = client.get("/ratings/mine/").content.decode()
    assert "感谢您的评价！" in page
    assert "非常满意" in page


def test_rating_badly_opens_a_rectification_and_says_so(client, services, resident):
    subject_id = services.add(resident)
    client.force_login(resident)
    response = client.post(form_url(subject_id), {"level": "1", "comment": "民警态度生硬"}, follow=True)
    assert "解放路派出所将在15个工作日内核实整改，并回访您。" in response.content.decode()
    assert Rectification.objects.get().state == "verifying"
    assert 'data-testid="outcome-state">待核实<' in response.content.decode()


def test_a_bad_rating_without_a_reason_is_sent_back(client, services, resident):
    subject_id = services.add(resident)
    client.force_login(resident)
    response = client.post(form_url(subject_id), {"level": "2", "comment": ""})
    assert response.status_code == 400
    assert "请简要说明不满意的原因，以便核实整改。" in response.content.decode()
    response = client.post(form_url(subject_id), {"level": "9"})
    assert response.status_code == 400
    assert "选择一个有效的选项" in response.content.decode()
    assert not Rating.objects.exists()


def test_anyone_but_the_owner_gets_not_found(client, services, resident):
    subject_id = services.add(resident)
    someone = factories.citizen(name="孙七")
    client.force_login(someone)
    assert client.get(form_url(subject_id)).status_code == 404
    assert client.post(form_url(subject_id), {"level": "1", "comment": "恶意差评"}).status_code == 404
    assert client.get(form_url("S9999")).status_code == 404  # the same answer as a missing one
    assert client.get(form_url(subject_id, "testing.unknown")).status_code == 404
    staff_login(client, factories.staff("370102001", ["station_chief"]))
    assert client.get(form_url(subject_id)).status_code == 404
    assert not Rating.objects.exists()


def test_visitors_sign_in_first(client, services, resident):
    subject_id = services.add(resident)
    response = client.get(form_url(subject_id))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_unfinished_and_second_ratings_are_refused_clearly(client, services, resident):
    unfinished = services.add(resident, finished=False)
    client.force_login(resident)
    response = client.get(form_url(unfinished))
    assert response.status_code == 409
    assert "该事项尚未办结，办结后才能评价。" in response.content.decode()
    assert client.post(form_url(unfinished), {"level": "5"}).status_code == 409
    done = services.add(resident)
    actions.rate(actor=resident, subject_type=SUBJECT_TYPE, subject_id=done, level=4)
    for response in (client.get(form_url(done)), client.post(form_url(done), {"level": "1", "comment": "改"})):
        assert response.status_code == 409
        assert "您已评价过该事项，每件事项只能评价一次。" in response.content.decode()
    assert Rating.objects.get().level == 4


def test_the_rater_sees_the_outcome(client, bad, resident, chief):
    for action, data in [
        ("confirm", {"finding": "属实"}),
        ("rectify", {"measures": "增开窗口"}),
        ("follow_up", {"method": "phone", "result": "已电话回访", "satisfaction": "satisfied"}),
        ("close", {"reply": "已增开窗口，感谢监督。"}),
    ]:
        actions.rectification_advance(
            rectification=bad, action=action, actor=chief, data=data, expected_version=bad.version
        )
    client.force_login(resident)
    page = client.get("/ratings/mine/").content.decode()
    assert 'data-testid="outcome-state">已办结<' in page
    assert "经核实，您反映的情况属实，已整改。" in page
    assert "已增开窗口，感谢监督。" in page
    assert "已电话回访" not in page  # internal notes stay internal


def test_the_mine_page_is_for_citizens(client, chief):
    staff_login(client, chief)
    assert client.get("/ratings/mine/").status_code == 403


def test_staff_lists_are_scoped_and_without_n_plus_one(client, rate, chief, django_assert_max_num_queries):
    for level in (5, 4, 2, 1, 2):
        rate(level)
    rate(1, owner=factories.citizen(name="周八"), org="370202001", label="青岛的事项")
    staff_login(client, chief)
    with django_assert_max_num_queries(14):
        ratings = client.get("/ratings/")
    page = ratings.content.decode()
    assert 'data-testid="total">5<' in page
    assert 'data-testid="satisfaction">40.0%<' in page
    assert "青岛的事项" not in page
    with django_assert_max_num_queries(14):
        listing = client.get("/ratings/rectifications/")
    assert listing.content.decode().count('class="rectification-row"') == 3
    assert "青岛的事项" not in listing.content.decode()
    assert client.get("/ratings/?level=abc&bad=1").status_code == 200
    assert client.get("/ratings/rectifications/?state=nonsense&overdue=1").status_code == 200


def test_the_detail_is_not_found_outside_the_jurisdiction(client, bad):
    staff_login(client, factories.staff("370202001", ["station_chief"]))
    assert client.get(bad.get_absolute_url()).status_code == 404
    assert client.post(f"{bad.get_absolute_url()}act/", {"action": "confirm", "version": "1"}).status_code == 404


def test_working_a_rectification_from_its_page(client, bad, chief):
    staff_login(client, chief)
    url = bad.get_absolute_url()
    page = client.get(url).content.decode()
    assert 'data-testid="state">待核实<' in page
    assert "排队时间太长" in page
    assert 'data-action="close"' not in page
    response = client.post(f"{url}act/", {"action": "confirm", "version": str(bad.version), "finding": "属实"})
    assert response.status_code == 302
    bad.refresh_from_db()
    assert bad.state == "rectifying"
    invalid = client.post(f"{url}act/", {"action": "rectify", "version": str(bad.version)})
    assert invalid.status_code == 400
    assert "此项为必填项。" in invalid.content.decode()
    stale = client.post(f"{url}act/", {"action": "rectify", "version": "0", "measures": "整改"})
    assert stale.status_code == 409
    assert "此事项已被他人处理" in stale.content.decode()
    broken = client.post(f"{url}act/", {"action": "rectify", "version": "x"})
    assert broken.status_code == 400
    history = client.get(url).content.decode()
    assert 'data-action="workflow.confirm">核实属实<' in history


def test_revealing_the_phone_is_logged(client, bad, chief, resident):
    staff_login(client, chief)
    url = bad.get_absolute_url()
    assert "13712345678" not in client.get(url).content.decode()
    response = client.post(f"{url}contact/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert 'data-testid="phone">13712345678<' in response.content.decode()
    assert timeline.events_for(resident.citizen).filter(action="personal_data.read").count() == 1
    leader = factories.staff("3701", ["bureau_leader"])
    staff_login(client, leader)
    refused = client.post(f"{url}contact/")
    assert refused.status_code == 403
    assert "13712345678" not in refused.content.decode()


def test_citizens_cannot_open_staff_pages(client, bad, resident):
    client.force_login(resident)
    assert client.get("/ratings/").status_code == 403
    assert client.get(bad.get_absolute_url()).status_code == 403
