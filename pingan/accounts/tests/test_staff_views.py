"""The staff directory and its management by administrators, within their jurisdiction."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from pingan.accounts import actions
from pingan.accounts.models import Post, StaffProfile, User
from pingan.core.models import TimelineEvent
from pingan.testing import factories

from .conftest import JINAN_STATION, JINAN_STATION_2, qingdao_station_code

pytestmark = pytest.mark.django_db

LIST = "/accounts/staff/"
CREATE = "/accounts/staff/new/"


def badges(response) -> list[str]:
    return [row["staff"].badge_number for row in response.context["rows"]]


class TestDirectory:
    def test_lists_only_staff_within_jurisdiction(self, client_for, city_admin, counter, outsider):
        response = client_for(city_admin).get(LIST)
        assert response.status_code == 200
        listed = badges(response)
        assert counter.username in listed
        assert city_admin.username in listed
        assert outsider.username not in listed

    def test_station_officer_sees_their_station(self, client_for, counter, chief):
        elsewhere = factories.staff(JINAN_STATION_2, ["counter_officer"])
        listed = badges(client_for(counter).get(LIST))
        assert set(listed) == {counter.username, chief.username}
        assert elsewhere.username not in listed

    def test_filters_by_unit_subtree_and_role(self, client_for, city_admin, counter, chief, community):
        client = client_for(city_admin)
        other_station = factories.staff(JINAN_STATION_2, ["counter_officer"])
        listed = badges(client.get(LIST, {"unit": JINAN_STATION}))
        assert set(listed) == {counter.username, chief.username, community.username}
        listed = badges(client.get(LIST, {"unit": "370102", "role": "counter_officer"}))
        assert set(listed) == {counter.username, other_station.username}

    def test_role_filter_counts_each_person_once(self, client_for, city_admin):
        twice = factories.staff(JINAN_STATION, ["counter_officer"])
        actions.post_add(user=twice, org=factories.org(JINAN_STATION_2), role="counter_officer")
        listed = badges(client_for(city_admin).get(LIST, {"role": "counter_officer"}))
        assert listed.count(twice.username) == 1

    @pytest.mark.parametrize(
        "query",
        [{"unit": "999999999"}, {"unit": "x" * 5000}, {"role": "no_such_role"}, {"unit": "37/3701/"}],
    )
    def test_bad_filters_are_400_with_a_message(self, client_for, city_admin, query):
        response = client_for(city_admin).get(LIST, query)
        assert response.status_code == 400
        assert response.context["form"].errors

    @pytest.mark.parametrize("page", ["2", "999", "-1", "abc", "9" * 400])
    def test_any_page_number_gives_a_page(self, client_for, city_admin, page):
        for _number in range(30):
            factories.staff(JINAN_STATION, ["community_officer"])
        response = client_for(city_admin).get(LIST, {"page": page})
        assert response.status_code == 200
        assert 0 < len(response.context["rows"]) <= 25

    def test_paginates_and_keeps_filters_in_links(self, client_for, city_admin):
        for _number in range(30):
            factories.staff(JINAN_STATION, ["community_officer"])
        response = client_for(city_admin).get(LIST, {"role": "community_officer"})
        assert len(response.context["rows"]) == 25
        assert response.context["page"].paginator.count == 30
        assert "role=community_officer&amp;page=2" in response.content.decode()

    def test_no_query_per_row(self, client_for, city_admin, django_assert_num_queries):
        client = client_for(city_admin)
        factories.staff(JINAN_STATION, ["community_officer"])
        with CaptureQueriesContext(connection) as few:
            client.get(LIST)
        for _number in range(20):
            member = factories.staff(JINAN_STATION, ["community_officer"])
            actions.post_add(user=member, org=factories.org(JINAN_STATION_2), role="dispatcher")
        with django_assert_num_queries(len(few.captured_queries)):
            response = client.get(LIST)
        assert len(response.context["rows"]) == 22

    def test_citizens_are_refused(self, client_for, resident):
        assert client_for(resident).get(LIST).status_code == 403


class TestDetail:
    def test_shows_posts_and_management_to_an_administrator(self, client_for, city_admin, counter):
        response = client_for(city_admin).get(reverse("accounts:staff_detail", args=[counter.username]))
        assert response.status_code == 200
        assert response.context["manage"]
        assert "添加岗位" in response.content.decode()

    def test_colleague_sees_without_management(self, client_for, chief, counter):
        response = client_for(chief).get(reverse("accounts:staff_detail", args=[counter.username]))
        assert response.status_code == 200
        assert not response.context["manage"]
        assert "添加岗位" not in response.content.decode()

    @pytest.mark.parametrize("badge", ["999999", "x" * 3000, "../../etc"])
    def test_unknown_or_garbage_badge_is_404(self, client_for, city_admin, badge):
        assert client_for(city_admin).get(f"{LIST}{badge}/").status_code == 404

    def test_nul_in_badge_is_refused_before_any_query(self, client_for, city_admin):
        # core.middleware.RejectNullCharactersMiddleware: PostgreSQL cannot hold NUL in text.
        assert client_for(city_admin).get(f"{LIST}%00/").status_code == 400

    def test_out_of_jurisdiction_is_404_like_unknown(self, client_for, city_admin, outsider):
        assert client_for(city_admin).get(reverse("accounts:staff_detail", args=[outsider.username])).status_code == 404


def create_form(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "badge_number": "520001",
        "name": "新警员",
        "unit": JINAN_STATION,
        "roles": ["counter_officer", "community_officer"],
        "password1": factories.PASSWORD,
        "password2": factories.PASSWORD,
    }
    data.update(changes)
    return data


class TestCreate:
    def test_administrator_creates_staff_in_jurisdiction(self, client_for, city_admin):
        response = client_for(city_admin).post(CREATE, create_form())
        assert response.status_code == 302
        assert response["Location"] == reverse("accounts:staff_detail", args=["520001"])
        created = User.objects.get(username="520001")
        assert created.staff.home_org.code == JINAN_STATION
        assert {post.role for post in created.posts.all()} == {"counter_officer", "community_officer"}
        assert created.check_password(factories.PASSWORD)
        event = TimelineEvent.objects.get(action="accounts.staff_created", subject_id=str(created.pk))
        assert event.actor_id == city_admin.pk

    def test_jinan_administrator_cannot_create_staff_in_qingdao(self, client_for, city_admin):
        response = client_for(city_admin).post(CREATE, create_form(unit=qingdao_station_code()))
        assert response.status_code == 403
        assert response.context["form"].errors["unit"]
        assert not User.objects.filter(username="520001").exists()
        assert TimelineEvent.objects.filter(action="access.denied", actor_id=city_admin.pk).exists()

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"badge_number": "12ab"}, "badge_number"),
            ({"badge_number": "4400011"}, "badge_number"),
            ({"unit": "nowhere"}, "unit"),
            ({"roles": ["no_such_role"]}, "roles"),
            ({"roles": []}, "roles"),
            ({"password2": "something-else-entirely"}, "password2"),
            ({"password1": "1234567890", "password2": "1234567890"}, "password1"),
            ({"name": "名" * 5000}, "name"),
        ],
    )
    def test_bad_input_is_400_on_its_field(self, client_for, city_admin, changes, field):
        response = client_for(city_admin).post(CREATE, create_form(**changes))
        assert response.status_code == 400
        assert response.context["form"].errors.get(field), response.context["form"].errors
        assert not StaffProfile.objects.filter(badge_number="520001").exists()

    def test_badge_in_use_is_refused(self, client_for, city_admin, counter):
        response = client_for(city_admin).post(CREATE, create_form(badge_number=counter.username))
        assert response.status_code == 400
        assert "已被使用" in str(response.context["form"].errors["badge_number"])

    def test_other_roles_may_not_open_the_page(self, client_for, chief):
        assert client_for(chief).get(CREATE).status_code == 403
        assert client_for(chief).post(CREATE, create_form()).status_code == 403
        assert not User.objects.filter(username="520001").exists()


class TestPosts:
    def test_add_and_end_a_post(self, client_for, city_admin, counter):
        client = client_for(city_admin)
        response = client.post(
            reverse("accounts:post_add", args=[counter.username]), {"unit": JINAN_STATION_2, "role": "dispatcher"}
        )
        assert response.status_code == 302
        post = Post.objects.get(user=counter, org__code=JINAN_STATION_2, role="dispatcher")
        assert post.is_active
        response = client.post(reverse("accounts:post_end", args=[counter.username, post.pk]))
        assert response.status_code == 302
        post.refresh_from_db()
        assert not post.is_active

    def test_post_outside_jurisdiction_is_refused(self, client_for, city_admin, counter):
        response = client_for(city_admin).post(
            reverse("accounts:post_add", args=[counter.username]),
            {"unit": qingdao_station_code(), "role": "dispatcher"},
        )
        assert response.status_code == 403
        assert not Post.objects.filter(user=counter, role="dispatcher").exists()

    def test_ending_a_post_in_another_city_is_refused(self, client_for, city_admin, counter):
        foreign = actions.post_add(user=counter, org=factories.org(qingdao_station_code()), role="dispatcher")
        response = client_for(city_admin).post(reverse("accounts:post_end", args=[counter.username, foreign.pk]))
        assert response.status_code == 404  # the Jinan administrator cannot see a Qingdao post
        foreign.refresh_from_db()
        assert foreign.is_active

    @pytest.mark.parametrize("data", [{}, {"unit": JINAN_STATION_2}, {"unit": JINAN_STATION_2, "role": "x" * 9000}])
    def test_bad_post_input_is_400(self, client_for, city_admin, counter, data):
        response = client_for(city_admin).post(reverse("accounts:post_add", args=[counter.username]), data)
        assert response.status_code == 400
        assert Post.objects.filter(user=counter).count() == 1

    def test_unknown_post_is_404(self, client_for, city_admin, counter):
        assert (
            client_for(city_admin).post(reverse("accounts:post_end", args=[counter.username, 99999999])).status_code
            == 404
        )

    def test_get_does_not_change_anything(self, client_for, city_admin, counter):
        post = counter.posts.get()
        assert (
            client_for(city_admin).get(reverse("accounts:post_end", args=[counter.username, post.pk])).status_code
            == 405
        )


class TestTotpReset:
    def test_administrator_resets_a_lost_device(self, client_for, city_admin, counter):
        client_for(counter)  # gives the officer a device
        response = client_for(city_admin).post(reverse("accounts:totp_reset", args=[counter.username]))
        assert response.status_code == 302
        assert not TOTPDevice.objects.filter(user=counter).exists()

    def test_other_city_administrator_cannot(self, client_for, qingdao_admin, counter):
        client_for(counter)
        response = client_for(qingdao_admin).post(reverse("accounts:totp_reset", args=[counter.username]))
        assert response.status_code == 404
        assert TOTPDevice.objects.filter(user=counter).exists()
