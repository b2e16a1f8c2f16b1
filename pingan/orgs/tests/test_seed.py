from __future__ import annotations

import pytest
from django.db.models import Count

from pingan.core.seeding import SeedContext
from pingan.orgs.models import Level, OrgUnit
from pingan.orgs.seed import MAX_GRIDS, MIN_GRIDS, grid_count, seed_tree


def context(seed: int = 1) -> SeedContext:
    return SeedContext(scale="small", seed=seed, fraction=0.0, step="orgs.tree", progress_enabled=False)


@pytest.fixture
def stations() -> list[str]:
    return sorted(OrgUnit.objects.filter(level=Level.STATION).values_list("code", flat=True))


@pytest.mark.django_db
def test_grid_counts_are_drawn_per_station_from_the_seed(stations):
    counts = {code: grid_count(context(), code) for code in stations}
    assert set(counts.values()) == set(range(MIN_GRIDS, MAX_GRIDS + 1))
    # Per station, whatever the order they are asked in.
    assert {code: grid_count(context(), code) for code in reversed(stations)} == counts
    other = {code: grid_count(context(seed=2), code) for code in stations}
    assert other != counts


@pytest.mark.django_db
def test_seed_tree_gives_each_station_its_drawn_grids(stations):
    ctx = context()
    before = OrgUnit.objects.count()
    result = seed_tree(ctx)
    grids = dict(
        OrgUnit.objects.filter(level=Level.GRID)
        .values_list("parent__code")
        .annotate(n=Count("id"))
        .values_list("parent__code", "n")
    )
    for code in stations:
        drawn = grid_count(ctx, code)
        # The session's tree (conftest) already had a few grids per station; loading adds, never removes.
        assert grids[code] >= drawn
        assert OrgUnit.objects.filter(code=f"{code}{drawn:02d}", parent__code=code, level=Level.GRID).exists()
    assert result["created"]["units"] == OrgUnit.objects.count() - before > 0
    assert seed_tree(ctx)["created"]["units"] == 0
