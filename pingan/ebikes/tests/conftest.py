from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
from typing import Any

import pytest
from django.utils import timezone

from pingan.ebikes import actions, catalogue
from pingan.ebikes.models import CompliantModel, EBike
from pingan.testing import factories

STATION = "370102001"  # 解放路派出所, 历下区, 济南
OTHER_STATION_SAME_CITY = "370103002"  # 大观园派出所, 市中区
QINGDAO_STATION = "370202001"
_frames = itertools.count(1)


@pytest.fixture(autouse=True)
def _catalogue(db: Any) -> None:
    catalogue.catalogue_load()


@pytest.fixture
def product() -> CompliantModel:
    return CompliantModel.objects.filter(certificate_status="valid").order_by("ccc_certificate").first()


def bike_data(product: CompliantModel | None = None, **overrides: Any) -> dict[str, Any]:
    product = product or CompliantModel.objects.filter(certificate_status="valid").order_by("ccc_certificate").first()
    number = next(_frames)
    data = {
        "brand": product.brand,
        "model": product.model,
        "colour": "白色",
        "frame_number": f"TS21A{number:07d}",
        "motor_number": f"48V350W-{number:06d}",
        "purchase_date": (timezone.localdate() - dt.timedelta(days=30)).isoformat(),
        "invoice_number": f"{37000000 + number}",
    }
    data.update(overrides)
    return data


@pytest.fixture
def officer():
    """A counter officer of 解放路派出所."""
    return factories.staff(STATION, ["counter_officer"], name="张警官")


@pytest.fixture
def owner():
    return factories.citizen(name="赵敏", home_org_code=STATION)


@pytest.fixture
def buyer():
    return factories.citizen(name="钱多多", home_org_code=STATION)


@pytest.fixture
def dealer_user():
    return factories.partner("370102", organisation="济南顺达电动车商行", partner_kind="dealer")


@pytest.fixture
def dealer(dealer_user):
    return actions.dealer_authorise(partner=dealer_user)


def preregistered(owner: Any, **overrides: Any) -> EBike:
    return actions.ebike_preregister(actor=owner, data=bike_data(**overrides))


def sold_by(dealer: Any, *, buyer_id_number: str, buyer_mobile: str, **overrides: Any) -> EBike:
    """A bicycle the dealer sold and imported (a one-row sales file)."""
    from pingan.ebikes import imports

    values = {"buyer_id_number": buyer_id_number, "buyer_mobile": buyer_mobile, **bike_data(**overrides)}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([column.field for column in imports.COLUMNS])
    writer.writerow([values[column.field] for column in imports.COLUMNS])
    batch = actions.import_batch(
        dealer=dealer, actor=dealer.partner, file_name="sale.csv", content=out.getvalue().encode()
    )
    assert batch.rows_created == 1, list(batch.rows.values_list("errors", flat=True))
    return batch.created.get()


def registered(owner: Any, officer: Any, **overrides: Any) -> EBike:
    ebike = preregistered(owner, **overrides)
    actions.ebike_inspect(ebike=ebike, actor=officer)
    return actions.ebike_register(ebike=ebike, actor=officer)


@pytest.fixture
def plated(owner, officer) -> EBike:
    return registered(owner, officer)
