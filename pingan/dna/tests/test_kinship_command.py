"""``manage.py kinship``: per-locus and combined LRs, JSON for audit, clear errors."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

REPO = Path(__file__).resolve().parents[3]
with (REPO / "data" / "str-frequencies" / "east-asia.csv").open(encoding="utf-8") as _handle:
    FREQ = {(row["marker"], row["allele"]): float(row["frequency"]) for row in csv.DictReader(_handle)}

DUO = {
    "a": {"TPOX": [8, 8], "FGA": ["22", "23"], "TH01": [9, 9.3], "D6S474": [14, 15]},
    "b": {"TPOX": [8, 11], "FGA": ["22", "24"], "TH01": ["9.3", "9.3"], "vWA": [14, 17]},
}


def write(tmp_path: Path, data: object, name: str = "case.json") -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return str(path)


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("kinship", *args, stdout=out)
    return out.getvalue()


def test_duo_json(tmp_path: Path) -> None:
    output = json.loads(run("--mode", "duo", "--input", write(tmp_path, DUO), "--json"))
    assert set(output) == {"combined_lr", "loci", "inconsistent_loci", "frequencies", "skipped_markers"}
    expected = {
        "TPOX": 1 / (2 * FREQ[("TPOX", "8")]),
        "FGA": 1 / (4 * FREQ[("FGA", "22")]),
        "TH01": 1 / (2 * FREQ[("TH01", "9.3")]),
    }
    assert output["loci"] == pytest.approx(expected, rel=1e-12)
    assert output["combined_lr"] == pytest.approx(expected["TPOX"] * expected["FGA"] * expected["TH01"], rel=1e-12)
    assert output["inconsistent_loci"] == []
    assert sorted(output["skipped_markers"]) == ["D6S474", "vWA"]
    assert output["frequencies"] == "east-asia-v2023"


def test_trio_human_table(tmp_path: Path) -> None:
    case = {
        "a": {"TPOX": [8, 9], "FGA": [22, 22], "vWA": [14, 14], "TH01": [6, 6], "D8S1179": [10, 10]},
        "b": {"TPOX": [11, 12], "FGA": [23, 24], "vWA": [17, 18], "TH01": [7, 7], "D8S1179": [11, 11]},
        "c": {"TPOX": [8, 11], "FGA": [22, 23], "vWA": [15, 16], "TH01": [8, 9], "D8S1179": [12, 13]},
    }
    text = run("--mode", "trio", "--input", write(tmp_path, case))
    assert "TPOX" in text
    assert "8/11" in text
    assert "CPI" in text
    assert text.count("突变因子") == 3  # vWA, TH01, D8S1179
    assert "倾向排除" in text
    data = json.loads(run("--mode", "trio", "--input", write(tmp_path, case), "--json"))
    assert sorted(data["inconsistent_loci"]) == ["D8S1179", "TH01", "vWA"]
    assert data["loci"]["TPOX"] == pytest.approx(0.25 / (2 * FREQ[("TPOX", "8")] * FREQ[("TPOX", "11")]))


def test_sibling_and_second_degree(tmp_path: Path) -> None:
    path = write(tmp_path, {"a": {"TPOX": [8, 8]}, "b": {"TPOX": [8, 8]}})
    p = FREQ[("TPOX", "8")]
    sib = json.loads(run("--mode", "sibling", "--input", path, "--json"))
    assert sib["combined_lr"] == pytest.approx((1 + p) ** 2 / (4 * p * p), rel=1e-12)
    second = json.loads(run("--mode", "second-degree", "--input", path, "--json"))
    assert second["combined_lr"] == pytest.approx(0.5 + 0.5 / p, rel=1e-12)
    assert "未达阈值" in run("--mode", "sibling", "--input", path)


def test_supported_verdict_and_threshold(tmp_path: Path) -> None:
    case = {"a": {"TPOX": [14, 14], "Penta E": [24, 24]}, "b": {"TPOX": [14, 14], "Penta E": [24, 24]}}
    path = write(tmp_path, case)
    assert "支持所检亲缘关系" in run("--mode", "duo", "--input", path)
    assert "未达阈值" in run("--mode", "duo", "--input", path, "--threshold", "1e9")


def test_other_frequency_table(tmp_path: Path) -> None:
    table = tmp_path / "flat.csv"
    table.write_text("marker,allele,frequency\nTPOX,8,0.5\nTPOX,11,0.5\n", encoding="utf-8")
    path = write(tmp_path, {"a": {"TPOX": [8, 8]}, "b": {"TPOX": [8, 11]}})
    data = json.loads(run("--mode", "duo", "--input", path, "--json", "--frequencies", str(table)))
    assert data["frequencies"] == "flat"
    assert data["combined_lr"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("mode", "case", "message"),
    [
        ("duo", {"a": {"XYZ": [1, 2]}, "b": {"TPOX": [8, 8]}}, "XYZ"),
        ("duo", {"a": {"TPOX": [8, 11, 12]}, "b": {"TPOX": [8, 8]}}, "3 个"),
        ("duo", {"a": {"TPOX": ["abc", 8]}, "b": {"TPOX": [8, 8]}}, "abc"),
        ("trio", {"a": {"TPOX": [8, 8]}, "b": {"TPOX": [8, 8]}}, "缺少 c"),
        ("duo", {"a": {"TPOX": [8, 8]}, "b": {"TPOX": [8, 8]}, "c": {"TPOX": [8, 8]}}, "多出 c"),
        ("duo", ["a", "b"], "对象"),
        ("duo", '{"a": {"TPOX": [8, 8]},', "JSON"),
        ("sibling", {"a": {"TPOX": [8, 8]}, "b": "TPOX 8"}, "图谱"),
    ],
)
def test_bad_input_is_a_command_error(tmp_path: Path, mode: str, case: object, message: str) -> None:
    with pytest.raises(CommandError, match=message):
        run("--mode", mode, "--input", write(tmp_path, case))


def test_missing_files_and_bad_options(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="无法读取"):
        run("--mode", "duo", "--input", str(tmp_path / "nope.json"))
    path = write(tmp_path, DUO)
    with pytest.raises(CommandError, match="频率表"):
        run("--mode", "duo", "--input", path, "--frequencies", str(tmp_path / "nope.csv"))
    with pytest.raises(CommandError, match="theta"):
        run("--mode", "duo", "--input", path, "--theta", "0.9")
    with pytest.raises(CommandError, match="mutation rate"):
        run("--mode", "duo", "--input", path, "--mutation-rate", "0")


def test_from_the_shell_errors_go_to_stderr_without_a_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "PINGAN_VAR_DIR": str(tmp_path / "var")}
    bad = write(tmp_path, {"a": {"TPOX": [8, 11, 12], "FOO": [1]}, "b": {"TPOX": [9.3]}})
    done = subprocess.run(
        [sys.executable, "manage.py", "kinship", "--mode", "duo", "--input", bad],
        cwd=REPO, capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "TPOX" in done.stderr
    assert "FOO" in done.stderr
    good = subprocess.run(
        [sys.executable, "manage.py", "kinship", "--mode", "duo", "--input", write(tmp_path, DUO), "--json"],
        cwd=REPO, capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["frequencies"] == "east-asia-v2023"
