from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from pingan.accounts.models import CitizenProfile
from pingan.indicators.periods import ZONE
from pingan.testing import factories

pytestmark = pytest.mark.django_db

URL = reverse("api:indicators")


def token_client(user) -> APIClient:
    _, token = AuthToken.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}
    return body["error"]


@pytest.fixture
def jinan_leader():
    leader = factories.staff("3701", roles=["bureau_leader"])
    for year, county in [(2021, "370102")] * 3 + [(2020, "370102"), (2021, "370103")]:
        user = factories.citizen(county)
        CitizenProfile.objects.filter(user=user).update(created_at=dt.datetime(year, 5, 5, tzinfo=ZONE))
    return leader


def test_anonymous_must_authenticate():
    response = APIClient().get(URL, {"org": "3701", "period": "2021"})
    assert response.status_code == 401
    assert error_of(response)["code"]


def test_citizens_are_refused():
    response = token_client(factories.citizen()).get(URL, {"org": "370102", "period": "2021"})
    assert response.status_code == 403


def test_the_report_for_a_unit_in_the_jurisdiction(jinan_leader):
    response = token_client(jinan_leader).get(URL, {"org": "3701", "period": "2021"})
    assert response.status_code == 200
    data = response.json()
    assert data["org"] == {"code": "3701", "name": "济南市公安局", "path": "37/3701/"}
    assert data["period"]["iso"] == "2021"
    by_code = {item["code"]: item for item in data["indicators"]}
    registered = by_code["citizens_registered"]
    assert (registered["value"], registered["last_year"]["value"]) == ("4", "1")
    assert registered["year_change"] == {"absolute": "3", "percent": "300", "direction": "up", "good": True}
    assert "ranking" not in registered
    assert by_code["staff_per_100k"]["denominator"] == "9202432"


def test_children_and_chosen_indicators(jinan_leader):
    response = token_client(jinan_leader).get(
        URL + "?org=3701&period=2021&children=true&indicator=citizens_registered&indicator=citizens_total"
    )
    assert response.status_code == 200
    items = response.json()["indicators"]
    assert [item["code"] for item in items] == ["citizens_registered", "citizens_total"]
    ranking = items[0]["ranking"]
    assert ranking[0] == {"code": "370102", "name": "历下区公安分局", "value": "3", "rank": 1}
    assert ranking[1]["rank"] == 2
    assert len(ranking) == 13


@pytest.mark.parametrize("code", ["3702", "37", "370202", "no-such-unit"])
def test_a_unit_outside_the_jurisdiction_is_not_found_like_an_unknown_one(jinan_leader, code):
    response = token_client(jinan_leader).get(URL, {"org": code, "period": "2021"})
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"org": "3701", "period": "2021Q5"}, "period", "季度应为 1 至 4"),
        ({"org": "3701", "period": "2021-13"}, "period", "月份应为 01 至 12"),
        ({"org": "3701"}, "period", ""),
        ({"period": "2021"}, "org", ""),
        ({"org": "3701", "period": "2021", "indicator": "nope"}, "indicator", "未知指标：nope"),
        ({"org": "3701", "period": "2021", "children": "perhaps"}, "children", ""),
    ],
)
def test_bad_parameters_are_400_naming_the_field(jinan_leader, params, field, message):
    response = token_client(jinan_leader).get(URL, params)
    assert response.status_code == 400
    error = error_of(response)
    assert field in error["fields"]
    assert message in " ".join(error["fields"][field])


def test_queries_do_not_grow_with_the_number_of_children():
    admin = factories.staff("37", roles=["administrator"])
    client = token_client(admin)
    counts = {}
    for code in ["37", "370102"]:  # 16 cities; a dozen stations
        client.get(URL, {"org": code, "period": "2021", "children": "true"})
        with CaptureQueriesContext(connection) as captured:
            response = client.get(URL, {"org": code, "period": "2021", "children": "true"})
        assert response.status_code == 200
        counts[code] = len(captured)
    assert counts["37"] == counts["370102"]
