"""Permission matrix of every accounts page: one table per kind of page.

Personas (see conftest): anonymous; citizens ``resident`` (Jinan, the record's owner) and
``other_resident`` (Qingdao); a partner; Jinan station staff with the right role
(``counter``) and a wrong one (``community``), the station ``chief``; ``outsider``
(Qingdao counter officer); ``auditor`` (Jinan city, read-only); ``city_admin`` (Jinan) and
``qingdao_admin``. 302 means "sent to sign in".
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from pingan.accounts.models import Post, User
from pingan.testing import factories

from .conftest import JINAN_STATION_2, signed_in

pytestmark = pytest.mark.django_db


def persona(request: pytest.FixtureRequest, name: str) -> Any:
    return None if name == "anonymous" else request.getfixturevalue(name)


def status_for(request: pytest.FixtureRequest, name: str, method: str, url: str, data: dict | None = None) -> int:
    client = signed_in(persona(request, name))
    response = getattr(client, method)(url, data or {})
    if response.status_code == 302:
        assert response["Location"].startswith(reverse("accounts:login")), response["Location"]
    return response.status_code


# --- Pages of one's own account ---------------------------------------------------------

OWN_ACCOUNT = [
    ("anonymous", 302),
    ("resident", 200),
    ("counter", 200),
    ("auditor", 200),
    ("partner", 200),
]


@pytest.mark.parametrize(("who", "expected"), OWN_ACCOUNT)
@pytest.mark.parametrize("url_name", ["accounts:me", "accounts:password"])
def test_own_account_pages(request, who, expected, url_name):
    assert status_for(request, who, "get", reverse(url_name)) == expected


OWN_IDENTITY_REVEAL = [
    ("anonymous", 302),
    ("resident", 200),  # only ever their own: the page takes no id
    ("other_resident", 200),
    ("counter", 403),
    ("partner", 403),
]


@pytest.mark.parametrize(("who", "expected"), OWN_IDENTITY_REVEAL)
def test_own_identity_reveal(request, who, expected):
    assert status_for(request, who, "post", reverse("accounts:me_reveal")) == expected


# --- Staff directory (a list, scoped) -------------------------------------------------------

STAFF_LIST = [
    ("anonymous", 302),
    ("resident", 403),
    ("partner", 403),
    ("counter", 200),
    ("community", 200),
    ("outsider", 200),
    ("auditor", 200),
    ("city_admin", 200),
]


@pytest.mark.parametrize(("who", "expected"), STAFF_LIST)
def test_staff_list(request, who, expected):
    assert status_for(request, who, "get", reverse("accounts:staff_list")) == expected


# --- One staff member's record (the Jinan counter officer) ------------------------------------

STAFF_RECORD = [
    ("anonymous", 302),
    ("resident", 403),
    ("counter", 200),  # their own record
    ("chief", 200),  # inside
    ("community", 200),
    ("outsider", 404),  # outside: as if it did not exist
    ("auditor", 200),
    ("city_admin", 200),
    ("qingdao_admin", 404),
]


@pytest.mark.parametrize(("who", "expected"), STAFF_RECORD)
def test_staff_record(request, counter, who, expected):
    assert status_for(request, who, "get", reverse("accounts:staff_detail", args=[counter.username])) == expected


# --- Managing staff: administrators, within their jurisdiction -------------------------------

STAFF_CREATE_PAGE = [
    ("anonymous", 302),
    ("resident", 403),
    ("counter", 403),
    ("chief", 403),  # wrong role
    ("auditor", 403),  # read-only
    ("city_admin", 200),
    ("qingdao_admin", 200),  # may open the page; may only create in Qingdao (test_staff_views)
]


@pytest.mark.parametrize(("who", "expected"), STAFF_CREATE_PAGE)
def test_staff_create_page(request, who, expected):
    assert status_for(request, who, "get", reverse("accounts:staff_create")) == expected


POST_ADD = [
    ("anonymous", 302),
    ("resident", 403),
    ("chief", 403),
    ("auditor", 403),
    ("qingdao_admin", 404),  # the officer is outside their view
    ("city_admin", 302),  # done, back to the record
]


@pytest.mark.parametrize(("who", "expected"), POST_ADD)
def test_post_add(request, counter, who, expected):
    url = reverse("accounts:post_add", args=[counter.username])
    status = signed_in(persona(request, who)).post(url, {"unit": JINAN_STATION_2, "role": "dispatcher"})
    assert status.status_code == expected
    added = Post.objects.filter(user=counter, role="dispatcher").exists()
    assert added == (who == "city_admin")


TOTP_RESET = [
    ("anonymous", 302),
    ("resident", 403),
    ("chief", 403),
    ("auditor", 403),
    ("qingdao_admin", 404),
    ("city_admin", 302),
]


@pytest.mark.parametrize(("who", "expected"), TOTP_RESET)
def test_totp_reset(request, counter, who, expected):
    signed_in(counter)  # the officer has a device
    response = signed_in(persona(request, who)).post(reverse("accounts:totp_reset", args=[counter.username]))
    assert response.status_code == expected
    assert User.objects.get(pk=counter.pk).totpdevice_set.exists() == (who != "city_admin")


# --- A citizen's record at the counter (the Jinan resident) -----------------------------------

CITIZEN_LOOKUP = [
    ("anonymous", 302),
    ("resident", 403),  # citizens use "my account", not the counter
    ("other_resident", 403),
    ("counter", 200),
    ("chief", 200),
    ("community", 403),  # wrong role
    ("outsider", 404),  # right role, outside
    ("auditor", 200),  # read-only: masked
    ("city_admin", 403),  # administrators manage accounts, they do not serve citizens
]


@pytest.mark.parametrize(("who", "expected"), CITIZEN_LOOKUP)
def test_citizen_lookup(request, resident, who, expected):
    url = reverse("accounts:citizen_lookup")
    assert status_for(request, who, "post", url, {"id_number": resident.citizen.id_number}) == expected


CITIZEN_REVEAL = [
    ("anonymous", 302),
    ("resident", 403),
    ("other_resident", 403),
    ("counter", 200),
    ("chief", 200),
    ("community", 403),
    ("outsider", 404),
    ("auditor", 403),  # may see, may not unmask
    ("city_admin", 403),
]


@pytest.mark.parametrize(("who", "expected"), CITIZEN_REVEAL)
def test_citizen_reveal(request, resident, who, expected):
    url = reverse("accounts:citizen_reveal", args=[resident.citizen.pk])
    response = signed_in(persona(request, who)).post(url)
    assert response.status_code == expected
    assert (resident.citizen.id_number in response.content.decode()) == (expected == 200)


def test_every_refusal_of_a_page_is_logged(client_for, resident):
    from pingan.core.models import TimelineEvent

    client_for(resident).get(reverse("accounts:staff_list"))
    denial = TimelineEvent.objects.get(action="access.denied", actor_id=resident.pk)
    assert denial.subject_type == "site.page"
    assert denial.subject_id == reverse("accounts:staff_list")


def test_matrix_personas_are_who_they_claim(counter, outsider, auditor, city_admin, qingdao_admin):
    assert factories.org(JINAN_STATION_2).path.startswith(city_admin.access_posts()[0].jurisdiction_path)
    assert not outsider.access_posts()[0].jurisdiction_path.startswith("37/3701/")
    assert qingdao_admin.access_posts()[0].jurisdiction_path == "37/3702/"
    assert auditor.access_posts()[0].role == "auditor"
