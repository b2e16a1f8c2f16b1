"""The rating scheme (catalog/ratings.yaml) and its checks."""

from __future__ import annotations

import textwrap

import pytest
from django.utils import translation

from pingan.core.catalog import CatalogError, catalog_path
from pingan.ratings import scheme as scheme_module
from pingan.ratings.scheme import load, scheme


def test_the_national_five_levels():
    plan = scheme()
    assert [(level.value, level.name_zh) for level in plan.levels.values()] == [
        (5, "非常满意"),
        (4, "满意"),
        (3, "基本满意"),
        (2, "不满意"),
        (1, "非常不满意"),
    ]
    assert [value for value in plan.levels if plan.is_bad(value)] == [2, 1]
    assert plan.rectification_working_days == 15
    with translation.override("en"):
        assert plan.level(3).name == "Fairly satisfied"


def test_the_channels_and_their_indicators():
    plan = scheme()
    online, counter = plan.channels["online"], plan.channels["counter"]
    assert [i.name_zh for i in online.indicators] == [
        "整体满意度",
        "办事效率",
        "办事指南精确度",
        "办事便捷度",
        "平台操作性",
    ]
    assert [i.name_zh for i in counter.indicators] == ["整体满意度", "服务效率", "服务水平", "服务态度"]
    assert counter.overall.code == "overall"
    assert [i.code for i in counter.scored] == ["efficiency", "service_level", "attitude"]
    assert set(plan.channels) == {"online", "counter", "kiosk"}


VALID = catalog_path("ratings.yaml").read_text(encoding="utf-8")


def write(tmp_path, text: str):
    path = tmp_path / "ratings.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("satisfied_from: 3", "satisfied_from: 7"), "satisfied_from: 7 is greater than the maximum of 5"),
        (("working_days: 15", "working_days: 0"), "rectification/working_days: 0 is less than the minimum of 1"),
        (("{value: 1, code: very_dissatisfied", "{value: 2, code: very_dissatisfied"), "level 2 is declared twice"),
        (("{value: 1, code: very_dissatisfied", "{value: 1, code: dissatisfied"), "code 'dissatisfied' is declared"),
        (("  kiosk:\n", "  fax:\n"), "'fax' is not one of"),
        (
            ("{code: efficiency, name: {zh-hans: 服务效率", "{code: overall, name: {zh-hans: 服务效率"),
            "channel 'counter': indicator 'overall' is declared twice",
        ),
        (
            (
                "{code: efficiency, name: {zh-hans: 服务效率",
                "{code: efficiency, overall: true, name: {zh-hans: 服务效率",
            ),
            "channel 'counter' needs exactly one indicator with overall: true (it has 2)",
        ),
    ],
)
def test_a_broken_scheme_names_the_file_and_line(tmp_path, change, message):
    old, new = change
    assert old in VALID
    path = write(tmp_path, VALID.replace(old, new, 1))
    with pytest.raises(CatalogError) as error:
        load(path)
    assert message in str(error.value)
    assert error.value.line is not None
    assert str(error.value).startswith(f"{path}:{error.value.line}: ")


def test_the_check_reports_a_broken_scheme(settings, tmp_path):
    from pingan.ratings.checks import rating_scheme_check

    assert rating_scheme_check() == []
    (tmp_path / "ratings.yaml").write_text("levels: []\n", encoding="utf-8")
    settings.CATALOG_DIR = tmp_path
    try:
        problems = rating_scheme_check()
    finally:
        scheme_module.reload()  # the real file again once the setting is restored
    assert [p.id for p in problems] == ["ratings.E001"]
    assert problems[0].msg == f"{tmp_path / 'ratings.yaml'}:1: (top): 'satisfied_from' is a required property"
