from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from django.conf import settings
from django.core import checks
from django.utils import translation

from pingan.core import registry
from pingan.core.catalog import CatalogError
from pingan.indicators.checks import indicator_catalogue
from pingan.indicators.declarations import Kind, Unit, indicators, load_directory, load_file

VALID = """\
code: {code}
name: {{zh-hans: 测试指标, en: Test indicator}}
description: {{zh-hans: 说明, en: Explanation}}
unit: count
numerator: accounts.staff_in_post
denominator: null
kind: stock
higher_is_better: true
owner: accounts
"""


def write(directory: Path, code: str, text: str) -> Path:
    path = directory / f"{code}.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_every_shipped_declaration_loads():
    files = sorted(Path(settings.CATALOG_DIR, "indicators").glob("*.yaml"))
    assert files, "catalog/indicators/ holds the foundation's indicators"
    for path in files:
        indicator = load_file(path)
        assert indicator.code == path.stem
        assert indicator.numerator in registry.indicator_queries
    loaded = indicators()
    assert {"staff_count", "staff_per_100k", "citizens_registered", "citizens_total"} <= set(loaded)
    assert len(loaded) == len(files)


def test_shipped_declarations_say_what_they_are():
    loaded = indicators()
    assert loaded["staff_count"].unit == Unit.COUNT
    assert loaded["staff_count"].kind == Kind.STOCK
    assert loaded["staff_per_100k"].unit == Unit.PER_100K
    assert loaded["staff_per_100k"].denominator is None
    assert loaded["citizens_registered"].kind == Kind.FLOW
    assert loaded["citizens_total"].kind == Kind.STOCK
    # Same registered query: a stock is the flow counted from the beginning of records.
    assert loaded["citizens_total"].numerator == loaded["citizens_registered"].numerator
    assert list(loaded)[:2] == ["staff_count", "staff_per_100k"]  # by ``order``


def test_names_follow_the_active_language():
    indicator = indicators()["staff_count"]
    with translation.override("zh-hans"):
        assert indicator.name == "在岗民警数"
    with translation.override("en"):
        assert indicator.name == "Staff in post"


def test_a_valid_file_loads(tmp_path):
    indicator = load_file(write(tmp_path, "test_one", VALID.format(code="test_one")))
    assert indicator.code == "test_one"
    assert indicator.name_en == "Test indicator"
    assert indicator.higher_is_better is True
    assert indicator.order == 100
    assert indicator.source.endswith("test_one.yaml:1")


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("unit: count", "unit: percentage", 4, "unknown unit 'percentage'"),
        ("kind: stock", "kind: level", 7, "unknown kind 'level'"),
        ("numerator: accounts.staff_in_post", "numerator: accounts.nope", 5, "not a registered indicator query"),
        ("denominator: null", "denominator: accounts.citizens_registered", 6, "takes no denominator"),
        ("unit: count", "unit: percent", 4, "needs a denominator"),
        ("higher_is_better: true", "higher_is_better: yes please", 8, "must be true or false"),
        ("owner: accounts", "owner: nobody", 9, "not an installed app label"),
        ("name: {zh-hans: 测试指标, en: Test indicator}", "name: 测试指标", 2, "must be a mapping"),
        ("name: {zh-hans: 测试指标, en: Test indicator}", "name: {zh-hans: 测试指标}", 2, "non-empty 'en'"),
        ("name: {zh-hans: 测试指标, en: Test indicator}", "name: {zh-hans: 测试, fr: Test}", 2, "unknown languages"),
        ("owner: accounts", "owner: accounts\nowner_email: x@y", 10, "unknown key 'owner_email'"),
        ("higher_is_better: true", "", 1, "missing required key 'higher_is_better'"),
        ("unit: count", "unit: count\nunit: percent", 5, "duplicate key 'unit'"),
        ("unit: count", "unit: [count", 5, "expected"),
    ],
)
def test_errors_name_the_file_and_line(tmp_path, old, new, line, message):
    text = VALID.format(code="broken").replace(old, new)
    path = write(tmp_path, "broken", text)
    with pytest.raises(CatalogError, match=message) as error:
        load_file(path)
    assert error.value.line == line
    assert str(error.value).startswith(f"{path}:{line}: ")


def test_an_unknown_denominator_is_named_with_its_line(tmp_path):
    text = VALID.format(code="share").replace("unit: count", "unit: percent")
    text = text.replace("denominator: null", "denominator: accounts.nope")
    with pytest.raises(CatalogError, match=r"denominator 'accounts\.nope' is not a registered") as error:
        load_file(write(tmp_path, "share", text))
    assert error.value.line == 6


def test_per_100k_refuses_a_denominator_because_it_divides_by_population(tmp_path):
    text = VALID.format(code="density").replace("unit: count", "unit: per_100k")
    text = text.replace("denominator: null", "denominator: accounts.staff_in_post")
    with pytest.raises(CatalogError, match="census population"):
        load_file(write(tmp_path, "density", text))


def test_code_must_match_the_file_name(tmp_path):
    path = write(tmp_path, "other_name", VALID.format(code="test_one"))
    with pytest.raises(CatalogError, match=r"must match the file name \(other_name.yaml\)") as error:
        load_file(path)
    assert error.value.line == 1


def test_code_must_be_a_plain_identifier(tmp_path):
    path = write(tmp_path, "Bad-Code", VALID.format(code="Bad-Code"))
    with pytest.raises(CatalogError, match="lower-case letters"):
        load_file(path)


def test_a_file_must_hold_a_mapping(tmp_path):
    path = write(tmp_path, "listed", "- code: listed\n")
    with pytest.raises(CatalogError, match="must be a YAML mapping") as error:
        load_file(path)
    assert error.value.line == 1


def test_directory_loads_in_display_order(tmp_path):
    write(tmp_path, "second", VALID.format(code="second") + "order: 20\n")
    write(tmp_path, "first", VALID.format(code="first") + "order: 10\n")
    write(tmp_path, "last", VALID.format(code="last"))
    assert list(load_directory(tmp_path)) == ["first", "second", "last"]


def test_order_must_be_a_whole_number(tmp_path):
    path = write(tmp_path, "ordered", VALID.format(code="ordered") + "order: first\n")
    with pytest.raises(CatalogError, match="order must be a whole number") as error:
        load_file(path)
    assert error.value.line == 10


def test_the_system_check_reports_a_broken_catalogue(settings, tmp_path):
    (tmp_path / "indicators").mkdir()
    write(tmp_path / "indicators", "broken", VALID.format(code="broken").replace("kind: stock", "kind: level"))
    settings.CATALOG_DIR = tmp_path
    indicators.cache_clear()
    try:
        errors = indicator_catalogue()
    finally:
        indicators.cache_clear()  # the next caller loads the real catalogue again
    assert [error.id for error in errors] == ["indicators.E001"]
    assert errors[0].level == checks.ERROR
    assert "broken.yaml:7: unknown kind 'level'" in errors[0].msg


def test_the_system_check_passes_on_the_shipped_catalogue():
    assert indicator_catalogue() == []
    assert indicator_catalogue in checks.registry.registry.get_checks()
