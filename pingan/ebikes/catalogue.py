"""The synthetic catalogue of compliant products the demo and the tests use.

The real 《电动自行车产品目录》 lists tens of thousands of products with their CCC
certificates; shipping it would mean shipping a third party's data and keeping it current.
The demo instead carries invented brands (none is a real company), model codes in the
catalogue's style (``TDT`` + digits + ``Z``) and certificate numbers in the CCC style
(year, certification body, product class 1119 for electric bicycles, serial). Three
extra products show the refusals: a revoked certificate, an over-speed and an
over-weight product (the kind Shandong registered only with temporary plates until 2022).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from pingan.ebikes.models import CertificateStatus, CompliantModel
from pingan.ebikes.rules import normalise_key

BRANDS = (
    ("泉骑", "济南泉骑车业有限公司"),
    ("齐风", "淄博齐风电动车有限公司"),
    ("海岱", "青岛海岱科技有限公司"),
    ("岱行", "泰安岱行车辆制造有限公司"),
    ("黄河驰", "东营黄河驰电动车有限公司"),
    ("蓬莱骑士", "烟台蓬莱骑士车业有限公司"),
    ("沂蒙行", "临沂沂蒙行车业有限公司"),
    ("鸢都", "潍坊鸢都电动车有限公司"),
)
COLOURS = ("白色", "黑色", "红色", "蓝色", "灰色", "绿色", "粉色", "银色")


@dataclass(frozen=True)
class Product:
    brand: str
    model: str
    manufacturer: str
    ccc_certificate: str
    max_speed_kmh: int
    weight_kg: Decimal
    motor_power_w: int
    battery_voltage_v: int
    certificate_status: str = CertificateStatus.VALID


def _compliant() -> list[Product]:
    products = []
    for b, (brand, maker) in enumerate(BRANDS):
        for m in range(5):
            serial = b * 10 + m + 1
            products.append(
                Product(
                    brand=brand,
                    model=f"TDT{1000 + 37 * b + 11 * m:04d}Z",
                    manufacturer=maker,
                    ccc_certificate=f"20190111191{20000 + serial * 7:05d}",
                    max_speed_kmh=25,
                    weight_kg=Decimal(40 + (b + 2 * m) % 15),
                    motor_power_w=(240, 300, 350, 400, 350)[m],
                    battery_voltage_v=48,
                )
            )
    return products


SYNTHETIC = (
    *_compliant(),
    Product("泉骑", "TDT9001Z", "济南泉骑车业有限公司", "2019011119190001", 25, Decimal(49), 350, 48, "revoked"),
    Product("齐风", "TDR9002", "淄博齐风电动车有限公司", "2019011119190002", 32, Decimal(52), 400, 48),
    Product("海岱", "TDR9003", "青岛海岱科技有限公司", "2019011119190003", 25, Decimal("63.5"), 600, 60),
)


@transaction.atomic
def catalogue_load(products: tuple[Product, ...] = SYNTHETIC) -> int:
    """Add the products that are missing (by certificate number); returns how many."""
    known = set(
        CompliantModel.objects.filter(ccc_certificate__in=[p.ccc_certificate for p in products]).values_list(
            "ccc_certificate", flat=True
        )
    )
    new = [
        CompliantModel(
            brand=p.brand,
            model=p.model,
            brand_key=normalise_key(p.brand),
            model_key=normalise_key(p.model),
            manufacturer=p.manufacturer,
            ccc_certificate=p.ccc_certificate,
            certificate_status=p.certificate_status,
            max_speed_kmh=p.max_speed_kmh,
            weight_kg=p.weight_kg,
            motor_power_w=p.motor_power_w,
            battery_voltage_v=p.battery_voltage_v,
        )
        for p in products
        if p.ccc_certificate not in known
    ]
    CompliantModel.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)
