import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pingan.core import geo

JINAN = geo.Point(36.6512, 117.1201)
QINGDAO = geo.Point(36.0671, 120.3826)


def test_distance_between_jinan_and_qingdao_is_about_300_km():
    # Published great-circle distance between the two city centres: ≈ 298 km.
    assert 290 < geo.distance_km(JINAN, QINGDAO) < 305


def test_distance_is_zero_to_itself_and_symmetric():
    assert geo.distance_km(JINAN, JINAN) == 0
    assert geo.distance_km(JINAN, QINGDAO) == pytest.approx(geo.distance_km(QINGDAO, JINAN))


def test_one_degree_of_latitude_is_about_111_km():
    assert geo.distance_km(geo.Point(0, 0), geo.Point(1, 0)) == pytest.approx(111.195, abs=0.01)


@pytest.mark.parametrize(("lat", "lon"), [(91, 0), (0, 181), (float("nan"), 0), ("x", 1), (None, 1)])
def test_invalid_points_are_refused(lat, lon):
    with pytest.raises(geo.InvalidPoint):
        geo.point(lat, lon)


def test_point_accepts_numeric_strings():
    assert geo.point("36.5", "117") == geo.Point(36.5, 117.0)


points = st.builds(
    geo.Point,
    st.floats(min_value=-80, max_value=80, allow_nan=False),
    st.floats(min_value=-179.9, max_value=179.9, allow_nan=False),
)


@given(centre=points, other=points, radius=st.floats(min_value=0.1, max_value=2000))
def test_the_box_holds_every_point_of_the_circle(centre, other, radius):
    if geo.distance_km(centre, other) <= radius:
        assert geo.bounding_box(centre, radius).contains(other)


def test_box_across_the_antimeridian():
    box = geo.bounding_box(geo.Point(0, 179.5), 200)
    assert box.contains(geo.Point(0, -179.5))
    assert not box.contains(geo.Point(0, 170))


def test_box_near_a_pole_spans_all_longitudes():
    box = geo.bounding_box(geo.Point(89.5, 0), 100)
    assert (box.west, box.east) == (-180.0, 180.0)
    assert math.isclose(box.north, 90.0)
