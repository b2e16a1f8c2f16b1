"""The catalogue of credential kinds: the shipped file, and errors naming file and line."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest

from pingan.core.catalog import CatalogError
from pingan.credentials import catalog

SHIPPED = Path(__file__).resolve().parents[3] / "catalog" / "credentials.yaml"


def test_the_shipped_catalogue_declares_the_five_kinds():
    kinds = catalog.kinds()
    assert set(catalog.REQUIRED_KINDS) <= set(kinds)
    licence = kinds["driving_licence"]
    assert licence.name_zh == "电子驾驶证"
    assert licence.department == "traffic"
    assert licence.claims["vehicle_class"].label_zh == "准驾车型"
    assert licence.claims["vehicle_class"].label_en == "Vehicle classes"
    assert licence.predicates["over_18"].label_zh == "年满18周岁"
    assert licence.predicates["licence_valid"].label_zh == "驾驶证有效"
    assert {"over_18", "licence_valid"} <= set(licence.disclosable)
    assert licence.valid_until(dt.date(2025, 6, 15)) == dt.date(2031, 6, 14)
    assert kinds["ebike_registration"].valid_until(dt.date(2025, 6, 15)) is None
    assert kinds["no_criminal_record"].valid_until(dt.date(2025, 11, 30)) == dt.date(2026, 2, 27)
    network = kinds["network_id"]
    assert network.deidentified
    assert not {"name", "id_number"} & set(network.claims)
    assert "birth_date" not in network.disclosable


def test_labels_follow_the_language():
    from django.utils import translation

    spec = catalog.get("residence_permit")
    with translation.override("en"):
        assert spec.name == "Electronic residence permit"
        assert spec.label_of("over_18") == "Aged 18 or over"
    with translation.override("zh-hans"):
        assert spec.label_of("address") == "居住地址"
    assert spec.label_of("unknown") == "unknown"
    with pytest.raises(LookupError, match="passport"):
        catalog.get("passport")


def test_validity_arithmetic():
    assert catalog.Validity(months=1).after(dt.date(2025, 1, 31)) == dt.date(2025, 2, 27)
    assert catalog.Validity(years=1).after(dt.date(2024, 2, 29)) == dt.date(2025, 2, 27)
    assert catalog.Validity(days=10).after(dt.date(2025, 1, 1)) == dt.date(2025, 1, 10)
    assert str(catalog.Validity(years=6)) == "6年"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "credentials.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _shipped_with(tmp_path: Path, old: str, new: str) -> Path:
    text = SHIPPED.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "credentials.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _line_of(path: Path, needle: str) -> int:
    text = path.read_text(encoding="utf-8")
    return text[: text.index(needle)].count("\n") + 1


@pytest.mark.parametrize(
    ("old", "new", "needle", "message"),
    [
        (
            "department: traffic\n    serial_prefix: DL",
            "department: roads\n    serial_prefix: DL",
            "department: roads",
            "unknown department 'roads'",
        ),
        ("serial_prefix: EB", "serial_prefix: DL", "serial_prefix: DL\n    validity: null", "already used"),
        ("serial_prefix: RP", "serial_prefix: rp", "serial_prefix: rp", "capital letters"),
        ("validity: {years: 6}", "validity: {weeks: 6}", "validity: {weeks: 6}", "validity is one of"),
        ("validity: {years: 1}", "validity: {years: 0}", "validity: {years: 0}", "positive whole number"),
        ("type: sex}", "type: gender}", "type: gender}", "type must be one of"),
        (
            "vehicle_class: {label: {zh-hans: 准驾车型, en: Vehicle classes}, type: text, mask: none}",
            "vehicle_class: {label: {zh-hans: 准驾车型}, type: text, mask: none}",
            "vehicle_class: {label: {zh-hans: 准驾车型}",
            "zh-hans: …, en: …",
        ),
        ("mask: year}", "mask: blur}", "mask: blur}", "mask must be one of"),
        (
            "rule: credential_valid\n    disclosable: [registration_valid",
            "rule: always_true\n    disclosable: [registration_valid",
            "rule: always_true",
            "rule must be one of",
        ),
        (
            "claim: birth_date\n        years: 18\n      licence_valid",
            "claim: first_name\n        years: 18\n      licence_valid",
            "claim: first_name",
            "not a claim of this kind",
        ),
        ("years: 18\n      licence_valid", "years: eighteen\n      licence_valid", "years: eighteen", "whole number"),
        (
            "default_disclosure: [licence_valid, vehicle_class]",
            "default_disclosure: [licence_valid, blood_type]",
            "blood_type",
            "'blood_type' is not one of",
        ),
        (
            "disclosable: [id_valid, over_18, masked_name, pseudonym]",
            "disclosable: [id_valid, id_valid]",
            "disclosable: [id_valid, id_valid]",
            "listed twice",
        ),
        (
            "      masked_name: {label: {zh-hans: 姓名（脱敏）, en: Name (masked)}, type: text, mask: none}",
            "      full_name: {label: {zh-hans: 姓名, en: Name}, type: name}",
            "full_name:",
            "would identify the person",
        ),
        ("    deidentified: true", "    deidentified: yes please", "deidentified: yes please", "true or false"),
        ("    serial_prefix: DL", "    serial_prefix: DL\n    colour: blue", "colour: blue", "unknown key 'colour'"),
        ("  network_id:", "  network-id:", "network-id:", "is not a code"),
    ],
)
def test_errors_name_the_file_and_line(tmp_path, old, new, needle, message):
    path = _shipped_with(tmp_path, old, new)
    with pytest.raises(CatalogError) as caught:
        catalog.load(path)
    assert message in caught.value.message
    assert caught.value.path.endswith("credentials.yaml")
    assert caught.value.line == _line_of(path, needle), str(caught.value)
    assert str(caught.value).startswith(f"{caught.value.path}:{caught.value.line}: ")


def test_a_missing_required_kind_is_named(tmp_path):
    path = _write(
        tmp_path,
        """
        kinds:
          driving_licence:
            name: {zh-hans: 电子驾驶证, en: Driving licence}
            department: traffic
            serial_prefix: DL
            validity: null
            claims:
              name: {label: {zh-hans: 姓名, en: Name}, type: name}
            disclosable: [name]
        """,
    )
    with pytest.raises(CatalogError, match="ebike_registration, residence_permit, no_criminal_record, network_id"):
        catalog.load(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a list\n", "must be a mapping"),
        ("kinds: [a]\n", "kinds must be a mapping"),
        ("other: 1\n", "unknown key 'other'"),
        ("kinds:\n  a: {\n", "expected"),
        ("kinds:\n  x: 1\n  x: 2\n", "duplicate key"),
    ],
)
def test_structural_errors(tmp_path, text, message):
    with pytest.raises(CatalogError, match=message):
        catalog.load(_write(tmp_path, text))
