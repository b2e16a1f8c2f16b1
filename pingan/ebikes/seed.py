"""Seed step for the e-bike register: the synthetic catalogue of compliant products, a
documented demo dealer in Jinan, the demo citizen's bicycles (one plated at the counter,
two sold by the dealer: one plated, one waiting for inspection), and plated bicycles of
synthetic citizens across the province, back-dated since 2019, for the indicators.

Everything goes through the real actions (the dealer's sales through a CSV import);
natural keys are frame numbers, so a re-run adds only what is missing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from django.core.exceptions import ValidationError

from pingan.accounts import actions as accounts
from pingan.accounts.models import CitizenProfile, PartnerKind, User
from pingan.accounts.seed import credit_code, demo_password_read
from pingan.core import context, seeding
from pingan.core.identity import blind_index
from pingan.core.seeding import SeedContext
from pingan.ebikes import actions, catalogue, imports, rules
from pingan.ebikes.models import CompliantModel, EBike
from pingan.orgs.models import OrgUnit

DEMO_DEALER_USERNAME = "jinan-ebike-dealer"
DEMO_DEALER_NAME = "济南泉城电动车商行（演示）"
DEMO_DEALER_UNIT = "370102"  # 历下区公安分局 supervises it
DEMO_CITIZEN_ID = "370102198806150242"
DEMO_COUNTER_BADGE = "370001"
CHINA = dt.timezone(dt.timedelta(hours=8))
MAKER_CODES = {
    "泉骑": "QQ",
    "齐风": "QF",
    "海岱": "HD",
    "岱行": "DX",
    "黄河驰": "HH",
    "蓬莱骑士": "PL",
    "沂蒙行": "YM",
    "鸢都": "YD",
}
SYNTHETIC_BIKES = {"small": 48, "city": 400, "province": 1600}


def frame_for(product: CompliantModel, day: dt.date, serial: int) -> str:
    return f"{MAKER_CODES.get(product.brand, 'ZZ')}{day:%y}A{serial:07d}"


def motor_for(product: CompliantModel, day: dt.date, serial: int) -> str:
    return f"48V{product.motor_power_w}W-{day:%y%m}{serial % 100000:05d}"


def compliant_products() -> list[CompliantModel]:
    """The catalogue's products that can be registered, in a stable order."""
    return [p for p in CompliantModel.objects.order_by("ccc_certificate") if not rules.product_problems(p)]


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, 0), CHINA)


def _demo_dealer(ctx: SeedContext) -> User:
    user = User.objects.filter(username=DEMO_DEALER_USERNAME).first()
    if user is None:
        user = accounts.partner_create(
            username=DEMO_DEALER_USERNAME,
            organisation=DEMO_DEALER_NAME,
            partner_kind=PartnerKind.DEALER,
            credit_code=credit_code(prefix="92", division_code=DEMO_DEALER_UNIT, key=DEMO_DEALER_USERNAME),
            org=OrgUnit.objects.get(code=DEMO_DEALER_UNIT),
            password=demo_password_read(ctx.credentials_file),
        )
        ctx.write(f"Demo e-bike dealer: sign in as {DEMO_DEALER_USERNAME} with the demo password")
    actions.dealer_authorise(partner=user)
    return user


def _play(ebike: EBike, *, officer: Any, moment: dt.datetime) -> EBike:
    """Inspect and plate a pre-registered bicycle at the counter, back-dated to ``moment``."""
    with context.backdated(moment), context.acting_as(officer, channel="counter"):
        if ebike.state == "pre_registered":
            actions.ebike_inspect(ebike=ebike, actor=officer, note="车架号、电机号与合格证一致")
        if ebike.state == "inspected":
            actions.ebike_register(ebike=ebike, actor=officer)
    return ebike


def _demo_citizen_bikes(ctx: SeedContext, dealer_user: User) -> int:
    citizen = _citizen(DEMO_CITIZEN_ID)
    if citizen is None:
        ctx.write("ebikes: the demo citizen is missing (run the accounts.demo step); skipped")
        return 0
    officer = User.objects.filter(username=DEMO_COUNTER_BADGE).first()
    products = compliant_products()
    created = 0
    # One bought in 2021 and plated at the counter of 解放路派出所.
    first_day = dt.date(2021, 5, 1)
    frame = frame_for(products[0], first_day, 1)
    if actions.frame_holder(frame) is None:
        with context.backdated(_at(first_day, 10)):
            ebike = actions.ebike_preregister(
                actor=citizen,
                data={
                    "brand": products[0].brand,
                    "model": products[0].model,
                    "colour": "白色",
                    "frame_number": frame,
                    "motor_number": motor_for(products[0], first_day, 1),
                    "purchase_date": first_day.isoformat(),
                    "invoice_number": "37001234",
                },
            )
        _play(ebike, officer=officer, moment=_at(first_day + dt.timedelta(days=2), 9))
        created += 1
    # Two sold by the demo dealer in 2024, imported from its sales file.
    dealer = actions.dealer_of(dealer_user)
    rows = []
    for number, (product, colour) in enumerate(((products[5], "蓝色"), (products[12], "灰色")), start=2):
        day = dt.date(2024, 9, number)
        rows.append(
            [DEMO_CITIZEN_ID, "13905310001", product.brand, product.model, colour,
             frame_for(product, day, number), motor_for(product, day, number), day.isoformat(), f"3701{number:04d}5678"]
        )  # fmt: skip
    if dealer is not None and any(actions.frame_holder(row[5]) is None for row in rows):
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([column.label for column in imports.COLUMNS])
        writer.writerows(rows)
        with context.backdated(_at(dt.date(2024, 9, 4), 16)), context.acting_as(dealer_user, channel="web"):
            batch = actions.import_batch(
                dealer=dealer, actor=dealer_user, file_name="2024年9月销售记录.csv", content=out.getvalue().encode()
            )
        created += batch.rows_created
        plated = EBike.objects.filter(frame_number=rows[0][5], state="pre_registered").first()
        if plated is not None:
            with context.backdated(_at(dt.date(2024, 9, 4), 17)), context.acting_as(dealer_user, channel="web"):
                actions.ebike_inspect(ebike=plated, actor=dealer_user, note="门店查验合格")
            _play(plated, officer=officer, moment=_at(dt.date(2024, 9, 6), 10))
    return created


def _citizen(id_number: str) -> User | None:
    profile = (
        CitizenProfile.objects.select_related("user")
        .filter(id_number_hash=blind_index(id_number, purpose="id_number"))
        .first()
    )
    return profile.user if profile is not None else None


def _synthetic_bikes(ctx: SeedContext) -> int:
    """Plated bicycles of the first synthetic citizens of each city (by keyed hash: stable)."""
    wanted = SYNTHETIC_BIKES[ctx.scale]
    cities = list(OrgUnit.objects.filter(depth=1, kind="bureau").order_by("code"))
    products = compliant_products()
    if not cities or not products:
        return 0
    rng = ctx.rng("bikes")
    per_city = max(1, wanted // len(cities))
    plan = []
    for city in cities:
        owners = list(
            CitizenProfile.objects.filter(home_org__path__under=city.path, user__is_active=True)
            .exclude(id_number_hash=blind_index(DEMO_CITIZEN_ID, purpose="id_number"))
            .select_related("user", "home_org")
            .order_by("id_number_hash")[:per_city]
        )
        for index in range(per_city):
            product = rng.choice(products)
            day = dt.date(2019, 5, 1) + dt.timedelta(days=rng.randrange(2000))
            colour = rng.choice(catalogue.COLOURS)
            hour = rng.randint(9, 16)
            if index < len(owners):
                plan.append((owners[index], product, day, colour, hour, int(city.code) * 10000 + index))
    created = 0
    for profile, product, day, colour, hour, serial in ctx.progress(plan, desc="e-bikes", unit="bike"):
        frame = frame_for(product, day, serial)
        # Natural key: one seeded bicycle per synthetic owner (and its frame number).
        if actions.frame_holder(frame) is not None or EBike.objects.filter(owner=profile.user, source="seed").exists():
            continue
        try:
            with context.backdated(_at(day, hour)):
                ebike = actions.ebike_preregister(
                    actor=None,
                    owner=profile.user,
                    org=profile.home_org,
                    data={
                        "brand": product.brand,
                        "model": product.model,
                        "colour": colour,
                        "frame_number": frame,
                        "motor_number": motor_for(product, day, serial),
                        "purchase_date": day.isoformat(),
                        "invoice_number": f"{serial:08d}",
                    },
                )
                actions.ebike_inspect(ebike=ebike, actor=None)
            with context.backdated(_at(day, hour) + dt.timedelta(days=1)):
                actions.ebike_register(ebike=ebike, actor=None)
        except ValidationError as error:  # e.g. a purchase date after today on an old clock
            ctx.write(f"ebikes: bicycle {frame} skipped: {'; '.join(error.messages)}")
            continue
        created += 1
    return created


def seed_ebikes(ctx: SeedContext) -> dict[str, Any]:
    products = catalogue.catalogue_load()
    dealer_user = _demo_dealer(ctx)
    demo = _demo_citizen_bikes(ctx, dealer_user)
    synthetic = _synthetic_bikes(ctx)
    return {
        "created": {"compliant products": products, "demo e-bikes": demo, "e-bikes": synthetic},
        "demo_dealer": DEMO_DEALER_USERNAME,
    }


def register_steps() -> None:
    seeding.register(
        "ebikes.register",
        order=70,
        run=seed_ebikes,
        description="S15 e-bikes: compliant catalogue, a demo dealer, the demo citizen's and synthetic bicycles",
    )
