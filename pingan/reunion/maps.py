"""An offline map of Shandong for the place of a record: the 16 city seats (named) and the
place as a marker, drawn as SVG from the shipped city-seat coordinates
(``data/divisions/city-centres.csv``). Police networks are closed, so
no tiles are fetched; the same drawing is the picker on the report forms (a click sets the
latitude and longitude, ``static/reunion/reunion.js``).

The projection is equirectangular with the longitude scaled by cos(36.4°), Shandong's middle
latitude: at this size the distortion is far below a click's precision.
"""

from __future__ import annotations

import csv
import functools
import math
from dataclasses import dataclass

from django.conf import settings

# Shandong's extent (34.4–38.4 N, 114.8–122.7 E) with a small margin.
SOUTH, NORTH, WEST, EAST = 34.2, 38.6, 114.6, 122.9
WIDTH = 480
_SCALE_X = math.cos(math.radians((SOUTH + NORTH) / 2))
HEIGHT = round(WIDTH * (NORTH - SOUTH) / ((EAST - WEST) * _SCALE_X))


@dataclass(frozen=True)
class MapView:
    width: int
    height: int
    seats: tuple[tuple[float, float, str], ...]  # x, y, name
    marker: tuple[float, float] | None
    outside: bool  # a place given, but outside the drawing (another province)
    south: float = SOUTH
    north: float = NORTH
    west: float = WEST
    east: float = EAST


def inside(latitude: float, longitude: float) -> bool:
    return SOUTH <= latitude <= NORTH and WEST <= longitude <= EAST


def project(latitude: float, longitude: float) -> tuple[float, float]:
    """SVG coordinates (x to the east, y to the south) of a point of the drawing."""
    x = (longitude - WEST) / (EAST - WEST) * WIDTH
    y = (NORTH - latitude) / (NORTH - SOUTH) * HEIGHT
    return round(x, 1), round(y, 1)


def unproject(x: float, y: float) -> tuple[float, float]:
    """The point under SVG coordinates (what the picker's script computes)."""
    return NORTH - y / HEIGHT * (NORTH - SOUTH), WEST + x / WIDTH * (EAST - WEST)


@functools.cache
def city_seats() -> tuple[tuple[float, float, str], ...]:
    """(latitude, longitude, short name) of each city government seat (a shipped public fact)."""
    with open(settings.DATA_DIR / "divisions" / "city-centres.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return tuple(
        (float(row["seat_latitude"]), float(row["seat_longitude"]), row["name"].removesuffix("市")) for row in rows
    )


def map_view(latitude: float | None, longitude: float | None) -> MapView:
    """The drawing for a place (None: no marker)."""
    seats = tuple((*project(lat, lon), name) for lat, lon, name in city_seats() if inside(lat, lon))
    if latitude is None or longitude is None:
        return MapView(WIDTH, HEIGHT, seats, None, False)
    if not inside(latitude, longitude):
        return MapView(WIDTH, HEIGHT, seats, None, True)
    return MapView(WIDTH, HEIGHT, seats, project(latitude, longitude), False)
