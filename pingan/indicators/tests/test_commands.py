from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from pingan.accounts.models import CitizenProfile
from pingan.indicators.management.commands.indicators import pad, width
from pingan.indicators.periods import ZONE
from pingan.testing import factories

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("indicators", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def jinan_figures():
    """Two staff in Lixia; citizens: 3 in Lixia in 2021, 1 in Lixia in 2020, 1 in Shizhong in 2021."""
    for _ in range(2):
        factories.staff("370102001")
    for year, county in [(2021, "370102")] * 3 + [(2020, "370102"), (2021, "370103")]:
        user = factories.citizen(county)
        CitizenProfile.objects.filter(user=user).update(created_at=dt.datetime(year, 5, 5, tzinfo=ZONE))


def test_prints_each_indicator_with_year_on_year_and_period_on_period(jinan_figures):
    output = run("--org", "3701", "--period", "2021")
    lines = output.splitlines()
    assert lines[0] == "单位：济南市公安局（3701）"
    assert lines[1].startswith("期间：2021年")
    assert "同比对照：2020年" in lines[1]
    header = next(line for line in lines if line.startswith("指标"))
    assert header.split() == ["指标", "数值", "单位", "上年同期", "同比", "上期", "环比"]
    rows = {
        line.split()[0]: line for line in lines if line.split() and line.split()[0] in {"新注册群众数", "在岗民警数"}
    }
    assert rows["新注册群众数"].split()[1:5] == ["4", "1", "↑", "+3"]
    assert "(+300.0%)" in rows["新注册群众数"]
    assert rows["在岗民警数"].split()[1] == "2"
    # 2 × 100,000 ÷ 9,202,432 = 0.0217... shown with one decimal
    assert any(line.startswith("每十万人口民警数") and " 0.0 " in line for line in lines)


def test_columns_line_up_with_chinese_text(jinan_figures):
    lines = run("--org", "3701", "--period", "2021").splitlines()
    table = lines[lines.index(next(line for line in lines if line.startswith("指标"))) :]
    table = [line for line in table if line][:6]
    # The value column ends at the same terminal column on every row.
    ends = {width(line[: line.index(line.split()[1]) + len(line.split()[1])]) for line in table[2:]}
    assert len(ends) == 1


def test_children_adds_the_ranking(jinan_figures):
    output = run("--org", "3701", "--period", "2021", "--indicator", "citizens_registered", "--children")
    block = output.split("新注册群众数 · 下级单位排名")[1].splitlines()
    rows = [line.split() for line in block if line.strip() and not line.startswith(("排名", "-"))]
    assert rows[0] == ["1", "370102", "历下区公安分局", "3"]
    assert rows[1] == ["2", "370103", "市中区公安分局", "1"]
    assert {row[0] for row in rows[2:]} == {"3"}
    assert len(rows) == 13  # Jinan's county-level units


def test_json_output_keeps_exact_values(jinan_figures):
    data = json.loads(run("--org", "3701", "--period", "2021", "--json", "--children"))
    assert data["org"] == {"code": "3701", "name": "济南市公安局", "path": "37/3701/"}
    assert data["period"]["iso"] == "2021"
    assert data["period"]["start"] == "2021-01-01T00:00:00+08:00"
    assert data["period"]["days"] == 365
    by_code = {item["code"]: item for item in data["indicators"]}
    registered = by_code["citizens_registered"]
    assert registered["value"] == "4"
    assert registered["last_year"] == {
        "period": "2020",
        "value": "1",
        "numerator": "1",
        "denominator": None,
        "missing": None,
    }
    assert registered["year_change"] == {"absolute": "3", "percent": "300", "direction": "up", "good": True}
    density = by_code["staff_per_100k"]
    assert density["denominator"] == "9202432"
    assert density["value"].startswith("0.02173")  # exact, not rounded for display
    assert registered["ranking"][0] == {"code": "370102", "name": "历下区公安分局", "value": "3", "rank": 1}


def test_units_without_population_are_not_available_in_json():
    data = json.loads(run("--org", "370102", "--period", "2021", "--json", "--indicator", "staff_per_100k"))
    item = data["indicators"][0]
    assert item["value"] is None
    assert item["missing"] == "no_population"


def test_english_names(jinan_figures):
    output = run("--org", "3701", "--period", "2021Q2", "--language", "en", "--indicator", "staff_count")
    assert "Staff in post" in output
    assert "在岗民警数" not in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--org", "9999", "--period", "2021"], "未找到单位代码“9999”"),
        (["--org", "3701", "--period", "2021Q5"], "季度应为 1 至 4"),
        (["--org", "3701", "--period", "2021-13"], "月份应为 01 至 12"),
        (["--org", "3701", "--period", "last year"], "无法识别的期间"),
        (["--org", "3701", "--period", "2021", "--indicator", "nope"], "未知指标：nope"),
    ],
)
def test_bad_input_is_a_clear_command_error(args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_bad_input_exits_non_zero_without_a_traceback(tmp_path):
    env = {"PINGAN_VAR_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "indicators", "--org", "3701", "--period", "2021Q5"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "季度应为 1 至 4" in done.stderr
    assert "Traceback" not in done.stderr


def test_pad_counts_chinese_characters_as_two_columns():
    assert width("济南a") == 5
    assert pad("济南", 6) == "济南  "
    assert pad("12", 4, right=True) == "  12"
