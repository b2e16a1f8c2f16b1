"""Emergency alerts: time to push a 100 km and a 500 km band to N subscribers (deliveries/s).

N subscribers (default 1,000,000) at random points across eastern China (18–42° N,
105–123° E, uniform), 5 % of them citizen accounts of this site (they also get an in-app
message), the rest partner-app subscribers. The push is the real path: ``alert_publish``
by a county investigator (access check, validation, row lock, timeline), the bounding-box
query on the ``(latitude, longitude)`` index with the not-yet-reached anti-join, the exact
great-circle distance, bulk inserts of the deliveries and of the in-app messages, and the
reach counters — all in one transaction.

- ``100 km``: an alert whose person went missing 10 minutes ago (first band);
- ``500 km``: an alert whose person went missing 4 hours ago (straight to the last band);
- ``widen 100→200 km``: the first alert an hour and a half later (only the new ring);
- ``sweep, nothing new``: the worker's job over both alerts once nothing changed;
- ``sweep after 1,000 citizens moved``: the same after 1,000 citizens changed their points
  (to 34–38° N, 117° E: some now inside a radius, reached; others not).

    python -m bench.alerts_push [--db sqlite|postgres|all] [--n 1000000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time

from bench import common

DATABASE = "h_alerts_bench_push"
CITIZEN_SHARE = 0.05
SOUTH, NORTH, WEST, EAST = 18.0, 42.0, 105.0, 123.0
ORIGIN = (36.65, 117.12)  # Jinan


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def populate(n: int, *, seed: int = 11) -> None:
    """N subscribers (5 % with a citizen account), inserted in bulk (not timed)."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from pingan.accounts.models import User
    from pingan.alerts.models import Subscription

    rng = random.Random(seed)
    citizens = int(n * CITIZEN_SHARE)
    password = make_password(None)
    started = time.perf_counter()
    batch = 10_000
    for start in range(0, citizens, batch):
        with transaction.atomic():
            User.objects.bulk_create(
                [
                    User(username=f"bench{number:08d}", kind="citizen", name="测试", password=password)
                    for number in range(start, min(start + batch, citizens))
                ]
            )
    user_ids = list(User.objects.filter(kind="citizen").order_by("pk").values_list("pk", flat=True))
    for start in range(0, n, batch):
        rows = []
        for number in range(start, min(start + batch, n)):
            latitude = round(rng.uniform(SOUTH, NORTH), 2)
            longitude = round(rng.uniform(WEST, EAST), 2)
            if number < len(user_ids):
                rows.append(Subscription(user_id=user_ids[number], latitude=latitude, longitude=longitude))
            else:
                rows.append(Subscription(external_ref=f"b{number:09d}", latitude=latitude, longitude=longitude))
        with transaction.atomic():
            Subscription.objects.bulk_create(rows)
    # Subscribers chose their points some time ago (a push after the radius stopped growing
    # looks only at points changed since the previous push).
    Subscription.objects.update(updated_at=timezone.now() - dt.timedelta(days=1))
    log(f"{n:,} subscribers ({citizens:,} citizens) in {time.perf_counter() - started:.0f} s")


def run(backend: str, n: int) -> list[list[str]]:
    url = common.database_url(backend, DATABASE)
    common.drop_database(url)
    common.django_setup(url)
    common.migrate()
    from django.db import connection
    from django.urls import reverse
    from django.utils import timezone

    from pingan.accounts import actions as accounts
    from pingan.accounts.models import User
    from pingan.alerts import actions
    from pingan.alerts.models import AlertDelivery, Subscription
    from pingan.core import geo
    from pingan.notify.models import Message
    from pingan.orgs import actions as orgs
    from pingan.orgs.models import OrgUnit

    orgs.tree_load(grids_per_station=lambda code: 1)
    county = OrgUnit.objects.get(code="370102")
    investigator = accounts.staff_create(
        badge_number="990001", name="压测侦查员", home_org=OrgUnit.objects.get(code="370102-criminal"),
        roles=["investigator"], password=None,
    )  # fmt: skip
    populate(n)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    origin = geo.Point(*ORIGIN)
    reverse("alerts:public", args=["TYWARMUP1"])  # a running server has its URLs loaded already
    rows: list[list[str]] = []

    def timed(label: str, function) -> object:
        deliveries_before = AlertDelivery.objects.count()
        messages_before = Message.objects.count()
        started = time.perf_counter()
        result = function()
        elapsed = time.perf_counter() - started
        delivered = AlertDelivery.objects.count() - deliveries_before
        messages = Message.objects.count() - messages_before
        rate = f"{delivered / elapsed:,.0f}/s" if delivered else "—"
        rows.append([backend, label, f"{delivered:,}", f"{messages:,}", f"{elapsed:.2f}", rate])
        log(f"{backend}: {label}: {delivered:,} deliveries, {messages:,} messages in {elapsed:.2f} s")
        return result

    now = timezone.now()

    def publish(subject_id: str, missing_for: dt.timedelta):
        return actions.alert_publish(
            subject_type="bench.case",
            subject_id=subject_id,
            title="紧急寻找走失儿童：王**，男，6岁",
            body="王**，男，6岁，身高约115厘米，上身穿红色外套。",
            origin=origin,
            missing_since=now - missing_for,
            org=county,
            actor=investigator,
            now=now,
        )

    first = timed("publish, 100 km band", lambda: publish("B1", dt.timedelta(minutes=10)))
    timed("publish, 500 km band", lambda: publish("B2", dt.timedelta(hours=4)))
    timed(
        "widen 100→200 km (new ring only)",
        lambda: actions.alert_widen(alert=first, now=first.missing_since + dt.timedelta(minutes=90)),
    )
    timed("sweep of both alerts, nothing new", lambda: actions.alerts_widen_due(now=now + dt.timedelta(minutes=100)))
    # Every delivery is one (alert, subscriber) pair, and each reached subscriber is in range.
    for alert_id, radius in AlertDelivery.objects.values_list("alert_id", "band_km").distinct():
        sample = AlertDelivery.objects.filter(alert_id=alert_id, band_km=radius).select_related("subscription")[:200]
        for delivery in sample:
            where = geo.Point(delivery.subscription.latitude, delivery.subscription.longitude)
            assert geo.distance_km(origin, where) <= radius, (alert_id, radius, where)
    rng = random.Random(5)
    citizens = list(Subscription.objects.filter(user__isnull=False).values_list("user_id", flat=True))
    for user in User.objects.filter(pk__in=rng.sample(citizens, min(1000, len(citizens)))):
        # 1,000 citizens move, through the action as the page does
        actions.subscription_set(user=user, point=geo.Point(round(rng.uniform(34.0, 38.0), 2), 117.0))
    timed("sweep after 1,000 citizens moved", lambda: actions.alerts_widen_due(now=now + dt.timedelta(minutes=100)))
    rows.append([backend, "database", common.backend_version(), "", "", ""])
    common.drop_database(url)
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "all"], default="all")
    parser.add_argument("--n", type=int, default=1_000_000, help="subscribers")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        for row in run(args.db, args.n):
            print("\t".join(row))
        return 0
    outputs = common.per_backend(
        args.db, lambda backend: ["bench.alerts_push", "--child", "--db", backend, "--n", str(args.n)]
    )
    rows = [line.split("\t") for output in outputs.values() for line in output.strip().splitlines()]
    print(common.machine_line({"subscribers": f"{args.n:,}"}))
    print(common.markdown_table(["db", "push", "deliveries", "in-app messages", "seconds", "deliveries/s"], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
