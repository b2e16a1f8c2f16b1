"""Seed step: synthetic alert subscribers across Shandong so a demo alert has reach, and the
two demo citizens subscribed at home (赵敏 in Jinan, 孙浩 in Qingdao, about 300 km apart:
an alert in Jinan reaches her in the first hour and him only once it has widened).

Subscribers are partner-app subscribers (no account here): points scattered around the
police stations, drawn from the step's own random stream; natural keys ``seed-NNNNNNN``,
so a re-run adds nothing and a larger scale adds the difference.
"""

from __future__ import annotations

import math
from typing import Any

from pingan.accounts import queries as accounts
from pingan.accounts.seed import DEMO_CITIZENS
from pingan.alerts import actions
from pingan.alerts.models import Subscription
from pingan.core import context, geo, seeding
from pingan.core.seeding import SeedContext
from pingan.orgs.models import Kind, OrgUnit

SUBSCRIBERS = {"small": 3_000, "city": 20_000, "province": 100_000}
SPREAD_KM = 6.0  # how far around a station its synthetic subscribers live (standard deviation)


def seed_subscribers(ctx: SeedContext) -> dict[str, Any]:
    wanted = SUBSCRIBERS.get(ctx.scale, SUBSCRIBERS["small"])
    stations = list(OrgUnit.objects.filter(kind=Kind.STATION).order_by("path").values_list("latitude", "longitude"))
    if not stations:
        ctx.write("alerts: no police stations (seed the org tree first); skipped")
        return {"created": {"subscribers": 0}}
    rng = ctx.rng("subscribers")
    points = []
    for number in range(wanted):
        latitude, longitude = stations[rng.randrange(len(stations))]
        north, east = rng.gauss(0, SPREAD_KM), rng.gauss(0, SPREAD_KM)
        latitude += math.degrees(north / geo.EARTH_RADIUS_KM)
        longitude += math.degrees(east / (geo.EARTH_RADIUS_KM * math.cos(math.radians(latitude))))
        points.append((f"seed-{number:07d}", latitude, longitude))
    existing = Subscription.objects.filter(external_ref__startswith="seed-").count()
    created = 0
    with context.acting_as(None, channel="command"):
        if existing < wanted:
            created = actions.subscriptions_bulk_create(points=points[existing:] if existing else points)
        demo = 0
        for citizen in DEMO_CITIZENS:
            user = accounts.citizen_account_for_id_number(citizen.id_number)
            if user is None or Subscription.objects.filter(user=user).exists():
                continue
            home = OrgUnit.objects.filter(code=citizen.home_org).first()
            if home is None:
                continue
            with context.acting_as(user, channel="command"):
                actions.subscription_set(user=user, point=geo.Point(home.latitude, home.longitude))
            demo += 1
    ctx.write(f"alerts: {created} synthetic subscribers ({wanted} wanted), {demo} demo citizen(s) subscribed")
    return {"created": {"subscribers": created, "demo_citizens": demo}}


def register_steps() -> None:
    seeding.register(
        "alerts.subscribers",
        order=85,
        run=seed_subscribers,
        description="团圆 alerts: synthetic subscribers around the stations, the demo citizens subscribed",
        always=True,
    )
