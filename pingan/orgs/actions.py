"""Writes to the organisation tree. The tree is loaded from the shipped divisions data;
re-running the load updates names and coordinates in place and creates what is missing."""

from __future__ import annotations

import csv
import functools
import math
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction

from pingan.core import timeline
from pingan.core.catalog import catalog_path, load_yaml
from pingan.orgs.models import UNIT_FIELDS, Kind, Level, OrgUnit

PROVINCE_NAME = "山东省公安厅"


@dataclass
class UnitSpec:
    code: str
    name: str
    level: str
    kind: str
    parent_code: str | None
    latitude: float
    longitude: float
    division_code: str = ""
    department: str = ""
    is_development_zone: bool = False
    population: int | None = None
    name_en: str = ""


def _read_csv(name: str) -> list[dict[str, str]]:
    with Path(settings.DATA_DIR, "divisions", name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def scatter(code: str, latitude: float, longitude: float, spread: float) -> tuple[float, float]:
    """A deterministic point within ``spread`` degrees of a centre, picked by the code."""
    seed = zlib.crc32(code.encode())
    angle = (seed % 3600) / 3600 * 2 * math.pi
    # sqrt: points spread evenly over the disc instead of bunching at the centre.
    radius = spread * math.sqrt(((seed // 3600) % 1000) / 1000)
    lat = latitude + radius * math.sin(angle)
    lon = longitude + radius * math.cos(angle) / max(math.cos(math.radians(latitude)), 0.1)
    return round(lat, 6), round(lon, 6)


@functools.cache
def departments() -> dict[str, dict]:
    return dict(load_yaml(catalog_path("departments.yaml"))["departments"])


def county_bureau_name(name: str, code: str, is_zone: bool) -> str:
    if is_zone:
        return f"{name}公安分局"
    if name.endswith("区"):
        return f"{name}公安分局"
    return f"{name}公安局"


def station_name(township: str) -> str:
    for suffix in ("街道办事处", "街道", "镇", "乡"):
        if township.endswith(suffix) and len(township) > len(suffix) + 1:
            return township[: -len(suffix)] + "派出所"
    return township + "派出所"


def division_specs() -> list[UnitSpec]:
    """Province, cities, county-level bureaus and stations from the shipped divisions."""
    centres = {row["code"]: row for row in _read_csv("city-centres.csv")}
    population = {row["code"]: int(row["resident_population_2020"]) for row in _read_csv("city-population-2020.csv")}
    jinan = centres["3701"]
    specs = [
        UnitSpec(
            code="37",
            name=PROVINCE_NAME,
            name_en="Shandong Provincial Public Security Department",
            level=Level.PROVINCE,
            kind=Kind.BUREAU,
            parent_code=None,
            latitude=float(jinan["seat_latitude"]),
            longitude=float(jinan["seat_longitude"]),
            division_code="37",
            population=sum(population.values()),
        )
    ]
    county_point: dict[str, tuple[float, float]] = {}
    for row in _read_csv("cities.csv"):
        centre = centres[row["code"]]
        specs.append(
            UnitSpec(
                code=row["code"],
                name=f"{row['name']}公安局",
                level=Level.CITY,
                kind=Kind.BUREAU,
                parent_code="37",
                latitude=float(centre["seat_latitude"]),
                longitude=float(centre["seat_longitude"]),
                division_code=row["code"],
                population=population.get(row["code"]),
            )
        )
    for row in _read_csv("counties.csv"):
        centre = centres[row["cityCode"]]
        is_zone = row["code"][4] == "7"
        lat, lon = scatter(
            row["code"],
            float(centre["area_latitude"]),
            float(centre["area_longitude"]),
            float(centre["spread_degrees"]),
        )
        county_point[row["code"]] = (lat, lon)
        specs.append(
            UnitSpec(
                code=row["code"],
                name=county_bureau_name(row["name"], row["code"], is_zone),
                level=Level.COUNTY,
                kind=Kind.BRANCH if is_zone else Kind.BUREAU,
                parent_code=row["cityCode"],
                latitude=lat,
                longitude=lon,
                division_code=row["code"],
                is_development_zone=is_zone,
            )
        )
    for row in _read_csv("townships.csv"):
        clat, clon = county_point[row["areaCode"]]
        lat, lon = scatter(row["code"], clat, clon, 0.09)
        specs.append(
            UnitSpec(
                code=row["code"],
                name=station_name(row["name"]),
                level=Level.STATION,
                kind=Kind.STATION,
                parent_code=row["areaCode"],
                latitude=lat,
                longitude=lon,
                division_code=row["code"],
            )
        )
    return specs


def department_specs(bureaus: Iterable[UnitSpec]) -> list[UnitSpec]:
    specs = []
    for bureau in bureaus:
        if bureau.kind not in (Kind.BUREAU, Kind.BRANCH) or bureau.level not in (
            Level.PROVINCE,
            Level.CITY,
            Level.COUNTY,
        ):
            continue
        for dept_code, dept in departments().items():
            unit_name = dept["unit"].get(str(bureau.level))
            if not unit_name:
                continue
            prefix = bureau.name if bureau.level != Level.PROVINCE else "山东省公安厅"
            specs.append(
                UnitSpec(
                    code=f"{bureau.code}-{dept_code}",
                    name=f"{prefix}{unit_name}",
                    name_en=dept["name"]["en"],
                    level=bureau.level,
                    kind=Kind.DEPARTMENT,
                    department=dept_code,
                    parent_code=bureau.code,
                    latitude=bureau.latitude,
                    longitude=bureau.longitude,
                )
            )
    return specs


def grid_specs(stations: Iterable[UnitSpec], *, count_for: Callable[[str], int]) -> list[UnitSpec]:
    specs = []
    for station in stations:
        for number in range(1, count_for(station.code) + 1):
            code = f"{station.code}{number:02d}"
            lat, lon = scatter(code, station.latitude, station.longitude, 0.02)
            specs.append(
                UnitSpec(
                    code=code,
                    name=f"{station.name}第{number}警格",
                    level=Level.GRID,
                    kind=Kind.GRID,
                    parent_code=station.code,
                    latitude=lat,
                    longitude=lon,
                )
            )
    return specs


@transaction.atomic
def tree_load(*, grids_per_station: Callable[[str], int] | None = None, progress=None) -> dict[str, int]:
    """Create or update the whole tree; returns counts of created and updated units.

    Units are written level by level in bulk, so the 20,000-odd units of the demo
    province load in seconds; existing units keep their primary keys (and so their posts).
    """
    specs = division_specs()
    specs += department_specs([spec for spec in specs if spec.level != Level.STATION])
    if grids_per_station is not None:
        specs += grid_specs([spec for spec in specs if spec.level == Level.STATION], count_for=grids_per_station)
    existing = {unit.code: unit for unit in OrgUnit.objects.all()}
    created = updated = 0

    paths: dict[str, str] = {}
    for spec in specs:  # parents come before children in ``specs``
        paths[spec.code] = (paths[spec.parent_code] if spec.parent_code else "") + spec.code + "/"

    for depth in range(6):
        batch = [spec for spec in specs if paths[spec.code].count("/") == depth + 1]
        if not batch:
            continue
        new_units, changed = [], []
        for spec in batch:
            parent_id = existing[spec.parent_code].pk if spec.parent_code else None
            values = {
                "name": spec.name,
                "name_en": spec.name_en,
                "level": spec.level,
                "kind": spec.kind,
                "department": spec.department,
                "parent_id": parent_id,
                "path": paths[spec.code],
                "depth": depth,
                "division_code": spec.division_code,
                "is_development_zone": spec.is_development_zone,
                "latitude": spec.latitude,
                "longitude": spec.longitude,
                "population": spec.population,
            }
            unit = existing.get(spec.code)
            if unit is None:
                unit = OrgUnit(code=spec.code, **values)
                new_units.append(unit)
            elif any(getattr(unit, key) != value for key, value in values.items()):
                for key, value in values.items():
                    setattr(unit, key, value)
                changed.append(unit)
        OrgUnit.objects.bulk_create(new_units, batch_size=2000)
        if changed:
            OrgUnit.objects.bulk_update(
                changed,
                list(UNIT_FIELDS),
                batch_size=2000,
            )
        for unit in OrgUnit.objects.filter(code__in=[spec.code for spec in batch]):
            existing[unit.code] = unit
        created += len(new_units)
        updated += len(changed)
        if progress:
            progress(depth, len(batch))
    if created or updated:
        timeline.record(
            ("orgs.tree", "37"), "orgs.tree_loaded", data={"created": created, "updated": updated}, org_path="37/"
        )
    return {"created": created, "updated": updated, "total": len(specs)}
