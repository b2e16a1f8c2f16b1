"""The offline place map: projection, the shipped city seats, and the pages that draw it."""

from __future__ import annotations

import pytest

from pingan.reunion import maps
from pingan.testing.signin import staff_login

LIAOCHENG_SEAT = (36.4570, 115.9854)  # data/divisions/city-centres.csv


def test_the_drawing_keeps_shandongs_proportions():
    # 8.3° of longitude at cos(36.4°) against 4.4° of latitude: wider than high.
    assert maps.WIDTH == 480
    assert maps.HEIGHT == round(480 * 4.4 / (8.3 * 0.8049)) == 316


def test_corners_and_a_round_trip():
    assert maps.project(maps.NORTH, maps.WEST) == (0, 0)
    assert maps.project(maps.SOUTH, maps.EAST) == (maps.WIDTH, maps.HEIGHT)
    lat, lon = maps.unproject(*maps.project(*LIAOCHENG_SEAT))
    assert lat == pytest.approx(LIAOCHENG_SEAT[0], abs=0.01)
    assert lon == pytest.approx(LIAOCHENG_SEAT[1], abs=0.01)


def test_the_sixteen_city_seats_are_drawn_with_their_names():
    view = maps.map_view(None, None)
    assert len(view.seats) == 16
    assert {name for _, _, name in view.seats} >= {"济南", "青岛", "聊城"}
    assert view.marker is None
    assert not view.outside


def test_a_place_outside_shandong_is_not_marked_but_said():
    view = maps.map_view(30.66, 104.06)  # Chengdu, Sichuan
    assert view.marker is None
    assert view.outside


def test_a_place_inside_is_marked_where_it_projects():
    view = maps.map_view(*LIAOCHENG_SEAT)
    assert view.marker == maps.project(*LIAOCHENG_SEAT)


@pytest.mark.django_db
def test_the_record_page_marks_the_place(client, active_missing, investigator):
    staff_login(client, investigator)
    html = client.get(f"/reunion/r/{active_missing.reference}/").content.decode()
    x, y = maps.project(active_missing.latitude, active_missing.longitude)
    assert 'data-testid="place-map"' in html
    assert f'data-testid="map-marker" cx="{x}" cy="{y}"' in html
    assert "data-map-picker" not in html  # the record page only shows it


@pytest.mark.django_db
def test_the_report_form_has_the_map_picker(client, father):
    client.force_login(father)
    html = client.get("/reunion/report/").content.decode()
    assert "data-map-picker" in html
    assert f'data-south="{maps.SOUTH}" data-north="{maps.NORTH}"' in html
    assert html.count('class="map-seat"') == 16


@pytest.mark.django_db
def test_a_re_shown_form_keeps_the_typed_place_on_the_map(client, father):
    client.force_login(father)
    response = client.post("/reunion/report/", {"latitude": "36.4570", "longitude": "115.9854"})
    assert response.status_code == 400
    x, y = maps.project(*LIAOCHENG_SEAT)
    assert f'data-testid="map-marker" cx="{x}" cy="{y}"' in response.content.decode()
