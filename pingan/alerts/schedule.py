"""The alert scheme (``catalog/alerts.yaml``): the push radius by time since the
disappearance, and who may publish — data an official changes, checked when loaded so
every error names the file and line.

    plan = schedule.scheme()
    plan.radius_for(dt.timedelta(minutes=90))    # -> 200
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pingan.core.catalog import CatalogError, LoadedOnce, load_mapping, staff_roles

SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["radius_schedule", "publish_within_days", "publishers"],
    "additionalProperties": False,
    "properties": {
        "radius_schedule": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["radius_km"],
                "additionalProperties": False,
                "properties": {
                    "within_hours": {"type": "number", "exclusiveMinimum": 0, "maximum": 24 * 30},
                    "radius_km": {"type": "integer", "minimum": 1, "maximum": 5000},
                },
            },
        },
        "publish_within_days": {"type": "integer", "minimum": 1, "maximum": 365},
        "publishers": {
            "type": "object",
            "required": ["levels", "roles"],
            "additionalProperties": False,
            "properties": {
                "levels": {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"type": "string"}},
                "roles": {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"type": "string"}},
            },
        },
    },
}


@dataclass(frozen=True)
class Band:
    radius_km: int
    within: dt.timedelta | None  # None: the last, open-ended band


@dataclass(frozen=True)
class Scheme:
    bands: tuple[Band, ...]
    publisher_levels: frozenset[str]
    publisher_roles: frozenset[str]
    publish_within_days: int = 30
    source: str = ""

    def radius_for(self, elapsed: dt.timedelta) -> int:
        """The push radius (km) once ``elapsed`` has passed since the disappearance."""
        for band in self.bands:
            if band.within is None or elapsed <= band.within:
                return band.radius_km
        return self.bands[-1].radius_km  # unreachable: the last band is open-ended

    def next_change(self, elapsed: dt.timedelta) -> dt.timedelta | None:
        """When (as time since the disappearance) the radius next grows; None if it no longer does."""
        for band in self.bands:
            if band.within is not None and elapsed <= band.within:
                return band.within
        return None

    @property
    def radii(self) -> tuple[int, ...]:
        return tuple(band.radius_km for band in self.bands)

    @property
    def max_radius_km(self) -> int:
        return self.bands[-1].radius_km


def load(path: Path) -> Scheme:
    """Load and check a scheme file (``CatalogError`` naming file and line if invalid)."""
    from pingan.orgs.models import Level

    where, document = load_mapping(path, SCHEMA, "the alert scheme")
    schedule = document["radius_schedule"]
    bands: list[Band] = []
    for index, spec in enumerate(schedule):
        line = schedule.line_at(index)
        last = index == len(schedule) - 1
        hours = spec.get("within_hours")
        if last and hours is not None:
            raise CatalogError(where, line, "the last band must have no within_hours: it applies from then on")
        if not last and hours is None:
            raise CatalogError(where, line, "every band but the last needs within_hours")
        if bands:
            previous = bands[-1]
            if spec["radius_km"] <= previous.radius_km:
                raise CatalogError(where, line, "radius_km must grow from band to band")
            if hours is not None and previous.within is not None and dt.timedelta(hours=hours) <= previous.within:
                raise CatalogError(where, line, "within_hours must grow from band to band")
        bands.append(Band(spec["radius_km"], dt.timedelta(hours=hours) if hours is not None else None))
    publishers = document["publishers"]
    known_levels = set(Level.values)
    for index, level in enumerate(publishers["levels"]):
        if level not in known_levels:
            raise CatalogError(
                where,
                publishers["levels"].line_at(index),
                f"unknown level {level!r} (known: {', '.join(Level.values)})",
            )
    known_roles = staff_roles()
    for index, role in enumerate(publishers["roles"]):
        if role not in known_roles:
            raise CatalogError(
                where,
                publishers["roles"].line_at(index),
                f"unknown role {role!r}: roles come from catalog/roles.yaml ({', '.join(sorted(known_roles))})",
            )
        if known_roles[role].read_only:
            raise CatalogError(where, publishers["roles"].line_at(index), f"role {role!r} is read-only")
    return Scheme(
        bands=tuple(bands),
        publisher_levels=frozenset(publishers["levels"]),
        publisher_roles=frozenset(publishers["roles"]),
        publish_within_days=document["publish_within_days"],
        source=where,
    )


_loaded = LoadedOnce("alerts.yaml", load)


def scheme() -> Scheme:
    """The scheme from ``catalog/alerts.yaml`` (loaded once; :func:`reload` forgets it)."""
    return _loaded()


def reload() -> None:
    _loaded.reload()
