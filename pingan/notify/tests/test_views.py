"""The in-app messages page, the header count (context processor and template tag)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template import Context, Template
from django.test import RequestFactory

from pingan.notify import actions, queries
from pingan.notify.context_processors import notifications
from pingan.notify.models import Message
from pingan.testing import factories
from pingan.testing.signin import staff_login

pytestmark = pytest.mark.django_db


def note(user, title="您的申请已受理", url="/notifications/"):
    return actions.enqueue(user=user, title=title, body="请查看办理结果。", url=url, channels=["in_app"])[0]


def test_a_citizen_sees_their_own_messages_newest_first(client, resident, officer):
    note(resident, "第一条")
    note(resident, "第二条")
    note(officer, "民警的消息")
    client.force_login(resident)
    response = client.get("/notifications/")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.index("第二条") < page.index("第一条")
    assert "民警的消息" not in page
    assert 'data-testid="unread-count">2<' in page


def test_the_list_has_no_n_plus_one(client, resident, django_assert_max_num_queries):
    for n in range(20):
        note(resident, f"第{n}条")
    client.force_login(resident)
    with django_assert_max_num_queries(8):
        response = client.get("/notifications/")
    assert response.content.decode().count('class="panel notify-item unread"') == 20


def test_unread_filter(client, resident):
    read = note(resident, "已读的")
    note(resident, "未读的")
    actions.message_mark_read(message=read, user=resident)
    client.force_login(resident)
    page = client.get("/notifications/?unread=1").content.decode()
    assert "未读的" in page
    assert "已读的" not in page


def test_opening_a_message_marks_it_read_and_follows_its_link(client, resident):
    message = note(resident, url="/ratings/mine/")
    client.force_login(resident)
    response = client.post(f"/notifications/{message.pk}/read/", {"open": "1"})
    assert response.status_code == 302
    assert response["Location"] == "/ratings/mine/"
    message.refresh_from_db()
    assert message.read_at is not None


def test_an_outside_link_is_not_followed(client, resident):
    message = note(resident, url="https://elsewhere.example/")
    client.force_login(resident)
    response = client.post(f"/notifications/{message.pk}/read/", {"open": "1"})
    assert response["Location"] == "/notifications/"


def test_someone_elses_message_is_not_found(client, resident, officer):
    other = note(officer)
    client.force_login(resident)
    assert client.post(f"/notifications/{other.pk}/read/").status_code == 404
    assert client.post("/notifications/999999/read/").status_code == 404
    other.refresh_from_db()
    assert other.read_at is None


def test_mark_all_read(client, resident):
    note(resident)
    note(resident)
    client.force_login(resident)
    response = client.post("/notifications/read-all/", follow=True)
    assert "已将 2 条消息标为已读。" in response.content.decode()
    assert queries.unread_count(resident) == 0


def test_reading_needs_post(client, resident):
    message = note(resident)
    client.force_login(resident)
    assert client.get(f"/notifications/{message.pk}/read/").status_code == 405
    assert client.get("/notifications/read-all/").status_code == 405


def test_visitors_are_sent_to_sign_in(client):
    response = client.get("/notifications/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_staff_need_the_second_factor_first(client, officer):
    note(officer)
    client.force_login(officer)
    response = client.get("/notifications/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/otp/")
    staff_login(client, officer)
    assert "您的申请已受理" in client.get("/notifications/").content.decode()


def test_partners_have_messages_too(client):
    partner = factories.partner()
    note(partner, "合作单位的消息")
    client.force_login(partner)
    assert "合作单位的消息" in client.get("/notifications/").content.decode()


def test_the_context_processor_counts_lazily(resident, django_assert_num_queries):
    note(resident)
    note(resident)
    request = RequestFactory().get("/")
    request.user = resident
    with django_assert_num_queries(0):
        context = notifications(request)
    with django_assert_num_queries(1):
        assert int(str(context["notify_unread"])) == 2
    request.user = AnonymousUser()
    assert notifications(request) == {"notify_unread": 0}


def test_the_template_tag(resident):
    note(resident)
    request = RequestFactory().get("/")
    request.user = resident
    template = Template("{% load notify %}{% notify_unread_count as n %}[{{ n }}]")
    assert template.render(Context({"request": request})) == "[1]"
    request.user = AnonymousUser()
    assert template.render(Context({"request": request})) == "[0]"


def test_the_header_links_the_page_with_the_unread_count(client, resident):
    actions.enqueue(user=resident, title="您的申请已受理", body="", channels=["in_app"])
    assert 'href="/notifications/"' not in client.get("/").content.decode()  # anonymous: no link
    client.force_login(resident)
    header = client.get("/").content.decode().split("</header>")[0]
    assert 'href="/notifications/"' in header
    assert '<span class="badge bad">1</span>' in header


def test_messages_of_other_channels_are_not_shown(client, resident):
    actions.enqueue(user=resident, title="只发短信", body="", channels=["sms"])
    client.force_login(resident)
    assert "只发短信" not in client.get("/notifications/").content.decode()
    assert Message.objects.count() == 1
