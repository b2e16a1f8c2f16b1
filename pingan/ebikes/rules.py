"""The register's rules as plain functions: normalising and checking what people type
(frame and motor numbers, invoice numbers, dates), GB 17761-2018 compliance against the
catalogue, and the plate numbering scheme. Forms, the e-services handler, the batch
import and the actions all check through here, so the messages are the same everywhere.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pingan.ebikes.models import (
    MAX_BATTERY_VOLTAGE_V,
    MAX_MOTOR_POWER_W,
    MAX_SPEED_KMH,
    MAX_WEIGHT_KG,
    CertificateStatus,
    CompliantModel,
)

# The form fields of the ebike_registration service (catalog/services/ebike.yaml) and of
# the register's own pre-registration form, in order.
FORM_FIELDS = ("brand", "model", "colour", "frame_number", "motor_number", "purchase_date", "invoice_number")

# GB 17761-2018 took effect on 15 April 2019: bicycles bought before it are not
# "new-standard" (新国标) bicycles and are not in the catalogue of compliant products.
STANDARD_EFFECTIVE = dt.date(2019, 4, 15)

FRAME_PATTERN = re.compile(r"^[A-Z0-9]{8,20}$")
MOTOR_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]{4,28}[A-Z0-9]$")
INVOICE_PATTERN = re.compile(r"^[0-9A-Z]{8,20}$")
SEPARATORS = re.compile(r"[\s\-_·.．/]+")
SPACES = re.compile(r"\s+")
DATE_WRITTEN = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")
DATE_DIGITS = re.compile(r"(\d{4})(\d{2})(\d{2})")


def _text(value: Any) -> str:
    if type(value) is str and value.isascii():  # most cells: nothing to fold
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():  # a spreadsheet turned digits into a number
        value = int(value)
    text = str(value)
    return (text if text.isascii() else unicodedata.normalize("NFKC", text)).strip()  # NFKC keeps ASCII as is


def _stable(text: str, step: Any) -> str:
    if text.isascii():
        return step(text)  # ASCII stays ASCII: nothing for NFKC to undo
    # Upper-casing can undo NFKC (combining marks): repeat until nothing changes.
    for _round in range(4):
        changed = unicodedata.normalize("NFKC", step(text))
        if changed == text:
            break
        text = changed
    return text


def _joined_upper(text: str) -> str:
    return SEPARATORS.sub("", text).upper()


def _unspaced_upper(text: str) -> str:
    return SPACES.sub("", text).upper()


def normalise_frame(value: Any) -> str:
    """``lq 2019-0012 3456`` → ``LQ201900123456``: full-width folded, separators dropped, upper case."""
    return _stable(_text(value), _joined_upper)


def normalise_motor(value: Any) -> str:
    """Motor numbers keep their inner hyphens (``48V350W-190512``), lose spaces, upper case."""
    return _stable(_text(value), _unspaced_upper)


def normalise_key(value: Any) -> str:
    """How brands and models are matched: NFKC, upper case, no spaces or separators."""
    return _stable(_text(value), _joined_upper)


@functools.lru_cache(maxsize=1024)
def product_key(brand: Any, model: Any) -> tuple[str, str]:
    """How the catalogue keys a brand and model (``normalise_key`` of each). Kept for the
    last thousand pairs: a dealer's file names a handful of products row after row."""
    return normalise_key(brand), normalise_key(model)


def check_frame(value: Any) -> tuple[str, list[str]]:
    frame = normalise_frame(value)
    if not frame:
        return frame, [_("请填写车架号（整车编码）。")]
    if not FRAME_PATTERN.match(frame):
        return frame, [_("车架号应为8至20位字母或数字（车架上钢印的整车编码）。")]
    if frame.isalpha():
        return frame, [_("车架号应包含数字，请核对车架钢印。")]
    return frame, []


def check_motor(value: Any) -> tuple[str, list[str]]:
    motor = normalise_motor(value)
    if not motor:
        return motor, [_("请填写电机号。")]
    if not MOTOR_PATTERN.match(motor):
        return motor, [_("电机号应为6至30位字母、数字或连字符。")]
    return motor, []


def check_invoice(value: Any) -> tuple[str, list[str]]:
    invoice = normalise_key(value)
    if not invoice:
        return invoice, [_("请填写购车发票号码。")]
    if not INVOICE_PATTERN.match(invoice):
        return invoice, [_("发票号码应为8至20位数字或字母。")]
    return invoice, []


def parse_date(value: Any) -> dt.date | None:
    """A date from a form, a CSV cell (2021-05-01, 2021/5/1, 2021.05.01, 20210501, 2021年5月1日)
    or a spreadsheet cell (a date or datetime); ``None`` if it is none of those."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return _date_of(_text(value))


@functools.lru_cache(maxsize=1024)  # a file's rows share a few sales days
def _date_of(text: str) -> dt.date | None:
    match = DATE_WRITTEN.fullmatch(text) or DATE_DIGITS.fullmatch(text)
    if not match:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def check_purchase_date(value: Any, *, today: dt.date | None = None) -> tuple[dt.date | None, list[str]]:
    if value in (None, ""):
        return None, [_("请填写购买日期。")]
    day = parse_date(value)
    if day is None:
        return None, [_("购买日期格式不正确，请按“2021-05-01”填写。")]
    today = today or timezone.localdate()
    if day > today:
        return day, [_("购买日期不能晚于今天。")]
    if day < STANDARD_EFFECTIVE:
        return day, [_("购买日期早于GB 17761-2018实施日期（2019年4月15日），不属于新国标电动自行车，不能登记上牌。")]
    return day, []


def check_short_text(value: Any, *, label: str, max_length: int) -> tuple[str, list[str]]:
    text = _squeezed(value)
    if not text:
        return text, [_("请填写%(label)s。") % {"label": label}]
    if len(text) > max_length:
        return text, [_("%(label)s最多%(n)s个字。") % {"label": label, "n": max_length}]
    return text, []


@functools.lru_cache(maxsize=1024)  # brands, models, colours: a file repeats a few
def _squeezed(value: Any) -> str:
    return SPACES.sub(" ", _text(value))


# --- GB 17761-2018 compliance --------------------------------------------------------------


class Compliance(NamedTuple):  # immutable; per row of a file (see BikeData)
    """Whether a brand and model may be registered, and if not, every reason why."""

    product: CompliantModel | None
    reasons: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.product is not None and not self.reasons


def product_problems(product: CompliantModel) -> list[str]:
    """What keeps a catalogue product from registration (empty: nothing)."""
    reasons = []
    if product.certificate_status != CertificateStatus.VALID:
        reasons.append(
            _("该车型的CCC证书（%(cert)s）已%(status)s，不能登记上牌。")
            % {"cert": product.ccc_certificate, "status": product.get_certificate_status_display()}
        )
    if product.max_speed_kmh > MAX_SPEED_KMH:
        reasons.append(
            _("该车型最高设计车速为%(n)skm/h，超过GB 17761-2018规定的%(max)skm/h。")
            % {"n": product.max_speed_kmh, "max": MAX_SPEED_KMH}
        )
    if product.weight_kg > MAX_WEIGHT_KG:
        reasons.append(
            _("该车型整车质量为%(n)skg，超过GB 17761-2018规定的%(max)skg。")
            % {"n": product.weight_kg.normalize(), "max": MAX_WEIGHT_KG}
        )
    if product.motor_power_w > MAX_MOTOR_POWER_W:
        reasons.append(
            _("该车型电机额定功率为%(n)sW，超过GB 17761-2018规定的%(max)sW。")
            % {"n": product.motor_power_w, "max": MAX_MOTOR_POWER_W}
        )
    if product.battery_voltage_v > MAX_BATTERY_VOLTAGE_V:
        reasons.append(
            _("该车型蓄电池标称电压为%(n)sV，超过GB 17761-2018规定的%(max)sV。")
            % {"n": product.battery_voltage_v, "max": MAX_BATTERY_VOLTAGE_V}
        )
    if not product.pedals:
        reasons.append(_("该车型不具有脚踏骑行能力，不符合GB 17761-2018。"))
    return reasons


Products = Mapping[tuple[str, str], CompliantModel]


def products_named(pairs: Iterable[tuple[Any, Any]]) -> dict[tuple[str, str], CompliantModel]:
    """The catalogue products among these (brand, model) pairs, by normalised key: one
    query for a whole file of bicycles (``compliance(..., products=...)``)."""
    keys = {product_key(brand, model) for brand, model in pairs}
    brands, models = {brand for brand, _model in keys}, {model for _brand, model in keys}
    found = CompliantModel.objects.filter(brand_key__in=brands, model_key__in=models)
    return {(p.brand_key, p.model_key): p for p in found if (p.brand_key, p.model_key) in keys}


def compliance(brand: Any, model: Any, *, products: Products | None = None) -> Compliance:
    """Look the brand and model up in the catalogue (normalised) and check the limits;
    ``products``: what ``products_named`` found beforehand (no query)."""
    key = product_key(brand, model)
    if products is not None:
        product = products.get(key)
    else:
        product = CompliantModel.objects.filter(brand_key=key[0], model_key=key[1]).first()
    if product is None:
        return Compliance(
            None,
            (
                _(
                    "“%(brand)s %(model)s”不在《电动自行车产品目录》中（未取得CCC认证或不符合GB 17761-2018），"
                    "不能登记上牌。请核对车辆合格证上的品牌和型号。"
                )
                % {"brand": _text(brand), "model": _text(model)},
            ),
        )
    return Compliance(product, tuple(product_problems(product)))


# --- The bicycle's particulars, all at once -----------------------------------------------


# Labels in messages, translated only when a message is written (a file of 2,000 good rows
# writes none).
BRAND, MODEL, COLOUR = gettext_lazy("品牌"), gettext_lazy("型号"), gettext_lazy("车身颜色")


class BikeData(NamedTuple):  # a tuple: immutable, and made per row of a file in half the time
    """Checked and normalised particulars of one bicycle."""

    brand: str
    model: str
    colour: str
    frame_number: str
    motor_number: str
    purchase_date: dt.date
    invoice_number: str
    product: CompliantModel


def clean_bike(
    data: Mapping[str, Any],
    *,
    today: dt.date | None = None,
    invoice_required: bool = True,
    products: Products | None = None,
) -> tuple[BikeData | None, dict[str, list[str]]]:
    """Check the form fields of one bicycle; ``(data, {})`` or ``(None, {field: [messages]})``
    (``products``: the catalogue products looked up beforehand, see ``products_named``).

    Uniqueness of the frame number is checked by the caller (``frame_taken``): the batch
    import also checks it within the file.
    """
    errors: dict[str, list[str]] = {}

    def keep(field: str, result: tuple[Any, list[str]]) -> Any:
        value, problems = result
        if problems:
            errors[field] = problems
        return value

    brand = keep("brand", check_short_text(data.get("brand"), label=BRAND, max_length=50))
    model = keep("model", check_short_text(data.get("model"), label=MODEL, max_length=60))
    colour = keep("colour", check_short_text(data.get("colour"), label=COLOUR, max_length=20))
    frame = keep("frame_number", check_frame(data.get("frame_number")))
    motor = keep("motor_number", check_motor(data.get("motor_number")))
    day = keep("purchase_date", check_purchase_date(data.get("purchase_date"), today=today))
    invoice = ""
    if invoice_required or data.get("invoice_number"):
        invoice = keep("invoice_number", check_invoice(data.get("invoice_number")))
    product = None
    if "brand" not in errors and "model" not in errors:
        verdict = compliance(brand, model, products=products)
        if verdict.ok:
            product = verdict.product
        else:
            errors["model"] = list(verdict.reasons)
    if errors or product is None or day is None:
        return None, errors
    return (
        BikeData(
            brand=product.brand,
            model=product.model,
            colour=colour,
            frame_number=frame,
            motor_number=motor,
            purchase_date=day,
            invoice_number=invoice,
            product=product,
        ),
        {},
    )


def frame_taken_message(frame: str) -> str:
    return _("车架号 %(frame)s 已经登记，不能重复登记。如车辆已过户或被盗，请到派出所窗口办理。") % {"frame": frame}


# --- Plates ---------------------------------------------------------------------------------

# Letters of the series after the city name: no I or O (read as 1 and 0).
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
PLATE_DIGITS = 6
PER_LETTER = 10**PLATE_DIGITS - 1  # 000001..999999
PLATE_CAPACITY = len(PLATE_LETTERS) * PER_LETTER  # per city: 23,999,976
PLATE_PATTERN = re.compile(rf"^([\u4e00-\u9fff]{{2,3}})([{PLATE_LETTERS}])(\d{{{PLATE_DIGITS}}})$")


def plate_number(prefix: str, serial: int) -> str:
    """The ``serial``-th plate of a city: ``济南`` + series letter + 6 digits (``济南A000001``,
    …, ``济南A999999``, ``济南B000001``…). docs/ebikes.md explains the scheme."""
    if not 1 <= serial <= PLATE_CAPACITY:
        raise ValueError(f"plate serial {serial} outside 1..{PLATE_CAPACITY}")
    letter, rest = divmod(serial - 1, PER_LETTER)
    return f"{prefix}{PLATE_LETTERS[letter]}{rest + 1:0{PLATE_DIGITS}d}"


def normalise_plate(value: Any) -> str:
    """What someone typed into the plate check: ``济南 a-000123`` → ``济南A000123``."""
    return _stable(_text(value), lambda text: SEPARATORS.sub("", text).upper())


def plate_well_formed(number: str) -> bool:
    match = PLATE_PATTERN.match(number)
    return bool(match) and match[3] != "0" * PLATE_DIGITS  # type: ignore[index]


def city_prefix(city_name: str) -> str:
    """济南市公安局 → 济南 (every Shandong city has a two-character short name)."""
    return city_name.removesuffix("公安局").removesuffix("市")
