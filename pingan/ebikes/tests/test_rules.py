from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pingan.ebikes import rules
from pingan.ebikes.models import CompliantModel
from pingan.ebikes.tests.conftest import bike_data

TODAY = dt.date(2025, 3, 1)


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("lq 2019-0012 3456", "LQ201900123456"),
        ("ＬＱ２０１９００１２３４５６", "LQ201900123456"),  # full-width, as some input methods type it
        (" qq21a0000001\t", "QQ21A0000001"),
    ],
)
def test_frame_numbers_are_normalised(raw, normal):
    assert rules.normalise_frame(raw) == normal
    assert rules.check_frame(raw) == (normal, [])


@pytest.mark.parametrize("raw", ["", "ABC123", "X" * 12, "QQ21A000000#", "Q" * 8 + "1" * 13])
def test_bad_frame_numbers_say_why(raw):
    _frame, problems = rules.check_frame(raw)
    assert problems
    assert all(isinstance(p, str) and p for p in problems)


@given(st.text(max_size=30))
def test_frame_normalisation_is_idempotent(text):
    once = rules.normalise_frame(text)
    assert rules.normalise_frame(once) == once


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2021-05-01", dt.date(2021, 5, 1)),
        ("2021/5/1", dt.date(2021, 5, 1)),
        ("2021.05.01", dt.date(2021, 5, 1)),
        ("20210501", dt.date(2021, 5, 1)),
        ("2021年5月1日", dt.date(2021, 5, 1)),
        (dt.datetime(2021, 5, 1, 0, 0), dt.date(2021, 5, 1)),  # a spreadsheet date cell
        ("2021-02-30", None),
        ("01/05/2021", None),
        ("", None),
    ],
)
def test_dates_are_read_from_forms_and_files(value, expected):
    assert rules.parse_date(value) == expected


def test_purchase_date_not_in_the_future_nor_before_the_standard():
    assert rules.check_purchase_date("2025-03-01", today=TODAY) == (TODAY, [])
    _day, problems = rules.check_purchase_date("2025-03-02", today=TODAY)
    assert problems == ["购买日期不能晚于今天。"]
    _day, problems = rules.check_purchase_date("2019-04-14", today=TODAY)
    assert "GB 17761-2018" in problems[0]
    assert rules.check_purchase_date("2019-04-15", today=TODAY)[1] == []
    assert rules.check_purchase_date("明天", today=TODAY)[1] == ["购买日期格式不正确，请按“2021-05-01”填写。"]


@pytest.mark.django_db
def test_compliance_matches_brand_and_model_loosely(product):
    verdict = rules.compliance(f" {product.brand} ", product.model.lower())
    assert verdict.ok
    assert verdict.product == product


@pytest.mark.django_db
def test_a_product_outside_the_catalogue_is_refused_with_the_reason():
    verdict = rules.compliance("无名牌", "X1")
    assert not verdict.ok
    assert "不在《电动自行车产品目录》中" in verdict.reasons[0]


@pytest.mark.django_db
def test_products_over_the_limits_of_gb_17761_are_refused_with_every_reason():
    over_speed = rules.compliance("齐风", "TDR9002")
    assert over_speed.reasons == ("该车型最高设计车速为32km/h，超过GB 17761-2018规定的25km/h。",)
    heavy = rules.compliance("海岱", "TDR9003")
    assert set(heavy.reasons) == {
        "该车型整车质量为63.5kg，超过GB 17761-2018规定的55kg。",
        "该车型电机额定功率为600W，超过GB 17761-2018规定的400W。",
        "该车型蓄电池标称电压为60V，超过GB 17761-2018规定的48V。",
    }
    revoked = rules.compliance("泉骑", "TDT9001Z")
    assert revoked.reasons == ("该车型的CCC证书（2019011119190001）已撤销，不能登记上牌。",)


@pytest.mark.django_db
def test_a_product_exactly_at_the_limits_is_compliant():
    product = CompliantModel.objects.create(
        brand="边界",
        model="TDT2500Z",
        manufacturer="测试",
        ccc_certificate="2019011119199999",
        max_speed_kmh=25,
        weight_kg=Decimal("55.0"),
        motor_power_w=400,
        battery_voltage_v=48,
    )
    assert rules.product_problems(product) == []
    assert product.brand_key == "边界"
    assert product.model_key == "TDT2500Z"


@pytest.mark.django_db
def test_clean_bike_collects_every_problem_by_field():
    data, errors = rules.clean_bike(
        bike_data(brand="无名牌", frame_number="12", motor_number="", purchase_date="2099-01-01", invoice_number="x")
    )
    assert data is None
    assert set(errors) == {"model", "frame_number", "motor_number", "purchase_date", "invoice_number"}


@pytest.mark.django_db
def test_clean_bike_uses_the_catalogue_spelling(product):
    data, errors = rules.clean_bike(bike_data(product, brand=product.brand, model=product.model.lower()))
    assert errors == {}
    assert data.model == product.model
    assert data.product == product


def test_plate_numbers_per_city():
    assert rules.plate_number("济南", 1) == "济南A000001"
    assert rules.plate_number("济南", 999_999) == "济南A999999"
    assert rules.plate_number("济南", 1_000_000) == "济南B000001"
    assert rules.plate_number("青岛", rules.PLATE_CAPACITY) == "青岛Z999999"
    assert "I" not in rules.PLATE_LETTERS
    assert "O" not in rules.PLATE_LETTERS
    with pytest.raises(ValueError, match="outside"):
        rules.plate_number("济南", rules.PLATE_CAPACITY + 1)
    assert rules.city_prefix("济南市公安局") == "济南"


@given(st.integers(min_value=1, max_value=rules.PLATE_CAPACITY))
def test_plate_numbers_are_distinct_and_well_formed(serial):
    number = rules.plate_number("临沂", serial)
    assert rules.plate_well_formed(number)
    letter, digits = number[2], int(number[3:])
    assert (rules.PLATE_LETTERS.index(letter) * rules.PER_LETTER + digits) == serial


def test_plate_input_is_normalised():
    assert rules.normalise_plate(" 济南 a-000123 ") == "济南A000123"
    assert not rules.plate_well_formed("济南A000000")
    assert not rules.plate_well_formed("鲁A12345")
    assert not rules.plate_well_formed("济南I000001")


@given(st.text(max_size=30))
def test_key_and_plate_normalisation_are_idempotent(text):
    for normalise in (rules.normalise_key, rules.normalise_plate, rules.normalise_motor):
        once = normalise(text)
        assert normalise(once) == once
