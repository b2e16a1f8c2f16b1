from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_directory_is_public_and_walks_down_the_tree(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        response = client.get(reverse("orgs:directory"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "山东省公安厅" in body
    assert "济南市公安局" in body
    jinan = client.get(reverse("orgs:unit", args=["3701"])).content.decode()
    assert "历下区公安分局" in jinan
    assert "济南市公安局刑事侦查支队" in jinan
    station = client.get(reverse("orgs:unit", args=["370102001"])).content.decode()
    assert "解放路派出所" in station
    assert "第1警格" in station


def test_unknown_units_are_404(client):
    assert client.get(reverse("orgs:unit", args=["9999"])).status_code == 404
    assert client.get(reverse("orgs:unit", args=["%00"])).status_code == 404


def test_station_options_for_a_county(client):
    body = client.get(reverse("orgs:station_options"), {"county": "370102"}).content.decode()
    assert 'value="370102001"' in body
    assert "370103" not in body
    empty = client.get(reverse("orgs:station_options"), {"county": "nonsense"}).content.decode()
    assert "请先选择区县" in empty
