"""The seed step: synthetic subscribers around the stations, idempotent, scaled."""

from __future__ import annotations

import pytest

from pingan.alerts import seed
from pingan.alerts.models import Subscription
from pingan.core.seeding import SeedContext

pytestmark = pytest.mark.django_db


def context(scale: str = "small") -> SeedContext:
    return SeedContext(
        scale=scale, seed=1, fraction=0.0, step="alerts.subscribers", progress_enabled=False, writer=lambda _: None
    )


def test_subscribers_are_seeded_near_stations_once(monkeypatch):
    monkeypatch.setitem(seed.SUBSCRIBERS, "small", 400)
    result = seed.seed_subscribers(context())
    assert result["created"]["subscribers"] == 400
    points = list(Subscription.objects.values_list("latitude", "longitude"))
    assert len(points) == 400
    # Shandong spans about 34.3–38.4 N and 114.8–122.7 E; stations' neighbours stay near it.
    assert all(33.5 < lat < 39 and 114 < lon < 123.5 for lat, lon in points)
    assert len(set(points)) > 300  # scattered, not piled on the stations
    again = seed.seed_subscribers(context())
    assert again["created"]["subscribers"] == 0
    assert Subscription.objects.count() == 400


def test_a_larger_scale_adds_the_difference(monkeypatch):
    monkeypatch.setitem(seed.SUBSCRIBERS, "small", 100)
    monkeypatch.setitem(seed.SUBSCRIBERS, "city", 250)
    seed.seed_subscribers(context("small"))
    first = set(Subscription.objects.values_list("external_ref", "latitude", "longitude"))
    assert seed.seed_subscribers(context("city"))["created"]["subscribers"] == 150
    assert first <= set(Subscription.objects.values_list("external_ref", "latitude", "longitude"))
