"""The accounts entries of the navigation menu, by who is signed in."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from pingan.site.menu import menu_for

pytestmark = pytest.mark.django_db


def labels(user) -> set[str]:
    return {item["label"] for item in menu_for(user)}


ACCOUNTS = {"我的账号", "民警名录", "群众查询"}


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("resident", {"我的账号"}),
        ("partner", {"我的账号"}),
        ("counter", {"我的账号", "民警名录", "群众查询"}),
        ("chief", {"我的账号", "民警名录", "群众查询"}),
        ("auditor", {"我的账号", "民警名录", "群众查询"}),
        ("community", {"我的账号", "民警名录"}),
        ("province_admin", {"我的账号", "民警名录"}),
    ],
)
def test_menu_entries(request, who, expected):
    assert labels(request.getfixturevalue(who)) & ACCOUNTS == expected


def test_anonymous_sees_no_account_entries():
    assert not labels(AnonymousUser()) & ACCOUNTS


def test_menu_links_open_for_those_who_see_them(client_for, counter):
    client = client_for(counter)
    for item in menu_for(counter):
        if item["label"] in ACCOUNTS:
            assert client.get(item["url"]).status_code == 200, item
