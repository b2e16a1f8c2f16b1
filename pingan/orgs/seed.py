"""Seed step: the organisation tree with 3–12 police grids per station (the seeded RNG
picks each station's count, so the same seed always draws the same grids)."""

from __future__ import annotations

from typing import Any

from pingan.core.seeding import SeedContext
from pingan.orgs import actions

MIN_GRIDS, MAX_GRIDS = 3, 12


def grid_count(ctx: SeedContext, station_code: str) -> int:
    # One stream per station: the count does not depend on which stations come before it.
    return ctx.rng("grids", station_code).randint(MIN_GRIDS, MAX_GRIDS)


def seed_tree(ctx: SeedContext) -> dict[str, Any]:
    with ctx.progress(total=6, desc="org tree", unit="level") as bar:
        result = actions.tree_load(
            grids_per_station=lambda code: grid_count(ctx, code), progress=lambda depth, count: bar.update(1)
        )
    return {"created": {"units": result["created"]}, "updated": result["updated"], "total": result["total"]}
