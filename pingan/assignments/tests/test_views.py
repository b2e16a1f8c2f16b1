from __future__ import annotations

import pytest
from django.urls import reverse

from pingan.assignments import actions, queries
from pingan.assignments.models import Assignment
from pingan.testing import factories
from pingan.testing.signin import staff_login

pytestmark = pytest.mark.django_db


def login(client, user):
    if user.kind == "staff":
        return staff_login(client, user)
    client.force_login(user)
    return client


def act(client, item, action, **fields):
    return client.post(
        reverse("assignments:act", args=[item.reference]), {"action": action, "version": item.version, **fields}
    )


@pytest.fixture
def assigned(task, leader):
    actions.assignment_advance(assignment=task, action="assign", actor=leader, expected_version=task.version)
    return task


PAGES = ["assignments:list", "assignments:wall"]


@pytest.mark.parametrize("page", PAGES)
def test_pages_permission_matrix(client, page, chief):
    url = reverse(page)
    assert client.get(url).status_code == 302
    login(client, factories.citizen())
    assert client.get(url).status_code == 403
    login(client, chief)
    assert client.get(url).status_code == 200


def test_detail_permission_matrix(client, assigned, chief, officer):
    url = assigned.get_absolute_url()
    assert client.get(url).status_code == 302
    cases = [
        (factories.citizen(), 403),
        (factories.staff("370202001", ["station_chief"]), 404),  # outside jurisdiction: as if absent
        (factories.staff("3701", ["auditor"]), 200),  # read-only but may see
        (officer, 200),
        (chief, 200),
    ]
    for user, status in cases:
        login(client, user)
        assert client.get(url).status_code == status, user
    login(client, chief)
    assert client.get(reverse("assignments:detail", args=["JB2099000000"])).status_code == 404


def test_officer_sees_only_their_buttons_and_acts(client, assigned, officer):
    login(client, officer)
    body = client.get(assigned.get_absolute_url()).content.decode()
    assert 'data-action="accept"' in body
    assert 'data-action="withdraw"' not in body
    response = act(client, assigned, "accept")
    assert response.status_code == 302
    assigned.refresh_from_db()
    assert assigned.state == "in_progress"


def test_missing_input_shows_the_error_on_the_field(client, assigned, officer):
    login(client, officer)
    act(client, assigned, "accept")
    assigned.refresh_from_db()
    response = act(client, assigned, "report")
    assert response.status_code == 400
    assert "errorlist" in response.content.decode()
    assigned.refresh_from_db()
    assert assigned.state == "in_progress"


def test_stale_form_is_refused_with_a_conflict(client, assigned, officer, chief):
    login(client, officer)
    stale_version = assigned.version
    act(client, assigned, "accept")
    response = client.post(
        reverse("assignments:act", args=[assigned.reference]),
        {"action": "request_info", "version": stale_version, "question": "问题"},
    )
    assert response.status_code == 409
    assert "刷新" in response.content.decode()


def test_garbage_posts_are_4xx(client, assigned, officer):
    login(client, officer)
    url = reverse("assignments:act", args=[assigned.reference])
    assert client.post(url, {"action": "no-such", "version": assigned.version}).status_code == 409
    assert client.post(url, {"action": "accept", "version": "abc"}).status_code == 400
    assert client.post(url, {"action": "accept"}).status_code == 400
    assert client.post(url, {"action": "accept", "version": assigned.version, "x" * 50: "y" * 10000}).status_code == 302


def test_create_form(client, leader):
    login(client, leader)
    url = reverse("assignments:new")
    assert client.get(url).status_code == 200
    bad = client.post(url, {"title": "x", "org": "999", "working_days": "0"})
    assert bad.status_code == 400
    assert not Assignment.objects.exists()
    outside = client.post(url, {"title": "越权", "org": "370202001", "working_days": "3"})
    assert outside.status_code == 400
    response = client.post(url, {"title": "检查消防通道", "org": "370102001", "working_days": "3"})
    assert response.status_code == 302
    assert Assignment.objects.get().title == "检查消防通道"


def test_create_form_is_for_chiefs_and_leaders_only(client, officer):
    login(client, officer)
    assert client.get(reverse("assignments:new")).status_code == 403


def test_list_filters_and_htmx_partial(client, assigned, chief, leader, django_assert_max_num_queries):
    for number in range(15):
        actions.assignment_create(actor=leader, title=f"任务{number}", org=assigned.org, working_days=3)
    login(client, chief)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("assignments:list"))
    assert response.status_code == 200
    partial = client.get(reverse("assignments:list") + "?state=assigned", headers={"HX-Request": "true"})
    body = partial.content.decode()
    assert "<html" not in body
    assert assigned.reference in body
    assert "任务1<" not in body
    assert client.get(reverse("assignments:list") + "?state=%27%3B--&page=abc").status_code == 200


def test_inbox_shows_each_side_its_turn(assigned, leader, chief, officer):
    assert list(queries.waiting_for(officer)) == [assigned]
    assert list(queries.waiting_for(chief)) == [assigned]
    assert list(queries.waiting_for(leader)) == []
    actions.assignment_advance(assignment=assigned, action="accept", actor=officer, expected_version=assigned.version)
    actions.assignment_advance(
        assignment=assigned, action="report", actor=officer, data={"summary": "完成"}, expected_version=assigned.version
    )
    assert list(queries.waiting_for(leader)) == [assigned]
    assert list(queries.waiting_for(chief)) == []


def test_wall_chart_by_area_and_by_unit(client, leader):
    plan = actions.plan_create(
        actor=leader,
        code="bsss-2021",
        title="2021年我为群众办实事",
        year=2021,
        org=factories.org("3701"),
        areas=["政务服务", "治安防控"],
    )
    area = plan.areas.get(number=1)
    for code in ("370102001", "370102002", "370103002"):
        actions.assignment_create(
            actor=leader, title="任务", org=factories.org(code), working_days=3, plan=plan, area=area
        )
    rows = queries.wall_chart(leader, plan=plan, by="area")
    assert [(row.label, row.total) for row in rows] == [("政务服务", 3)]
    by_unit = queries.wall_chart(leader, plan=plan, by="unit", under=factories.org("3701"))
    assert {row.label: row.total for row in by_unit} == {"历下区公安分局": 2, "市中区公安分局": 1}
    login(client, leader)
    response = client.get(reverse("assignments:wall") + "?plan=bsss-2021&by=unit")
    assert "历下区公安分局" in response.content.decode()
