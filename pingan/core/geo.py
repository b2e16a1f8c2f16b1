"""Geographic helpers shared by every app: validated points, great-circle distance and the
latitude/longitude box that contains a circle (so a radius query can use plain indexes on
latitude and longitude before the exact distance is checked).

Distances are on a sphere of the mean Earth radius (IUGG, 6,371.0088 km): within 0.5 % of
the ellipsoid, far finer than any radius a police alert or a search uses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_KM = 6371.0088


class InvalidPoint(ValueError):
    """A latitude or longitude outside its range, or not a number."""


@dataclass(frozen=True, slots=True)
class Point:
    latitude: float
    longitude: float

    def __post_init__(self) -> None:
        for value, limit, name in ((self.latitude, 90.0, "latitude"), (self.longitude, 180.0, "longitude")):
            if not isinstance(value, (int, float)) or math.isnan(value) or not -limit <= value <= limit:
                raise InvalidPoint(f"{name} must be a number between -{limit:g} and {limit:g}")


def point(latitude: object, longitude: object) -> Point:
    """A Point from user input (strings allowed); raises InvalidPoint with a clear message."""
    try:
        lat, lon = float(latitude), float(longitude)  # type: ignore[arg-type]
    except (TypeError, ValueError) as error:
        raise InvalidPoint("latitude and longitude must be numbers") from error
    return Point(lat, lon)


def distance_km(a: Point, b: Point) -> float:
    """Great-circle distance (haversine, numerically stable for short distances)."""
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat = lat2 - lat1
    dlon = math.radians(b.longitude - a.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True, slots=True)
class Box:
    """A latitude/longitude rectangle; ``contains`` is exact, the box itself a superset."""

    south: float
    north: float
    west: float
    east: float

    def contains(self, p: Point) -> bool:
        if not self.south <= p.latitude <= self.north:
            return False
        if self.west <= self.east:
            return self.west <= p.longitude <= self.east
        return p.longitude >= self.west or p.longitude <= self.east  # crosses the antimeridian


def bounding_box(centre: Point, radius_km: float) -> Box:
    """The smallest lat/lon box holding every point within ``radius_km`` of ``centre``."""
    if radius_km < 0:
        raise ValueError("radius must not be negative")
    angular = radius_km / EARTH_RADIUS_KM
    lat = math.radians(centre.latitude)
    south, north = lat - angular, lat + angular
    if north >= math.pi / 2 or south <= -math.pi / 2:  # a pole inside the circle: all longitudes
        return Box(math.degrees(max(south, -math.pi / 2)), math.degrees(min(north, math.pi / 2)), -180.0, 180.0)
    spread = math.asin(min(1.0, math.sin(angular) / math.cos(lat)))
    west = math.degrees(math.radians(centre.longitude) - spread)
    east = math.degrees(math.radians(centre.longitude) + spread)
    if west < -180:
        west += 360
    if east > 180:
        east -= 360
    return Box(math.degrees(south), math.degrees(north), west, east)
