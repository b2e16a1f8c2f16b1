"""catalog/dna.yaml: loaded and checked, errors naming the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from pingan.core.catalog import CatalogError, catalog_path
from pingan.dna import checks, config

GOOD = catalog_path("dna.yaml").read_text(encoding="utf-8")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "dna.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_settings_load():
    settings = config.load(catalog_path("dna.yaml"))
    assert settings.threshold("trio") == 10_000
    assert settings.threshold("duo") == 10_000
    assert set(settings.modes) == {"trio", "duo", "sibling", "second-degree"}
    assert 0 < settings.prior_in_database < 1
    assert 0 <= settings.rescreen_hour <= 23
    assert settings.mode_name("trio").startswith("父母")


def test_threshold_must_exceed_one(tmp_path):
    text = GOOD.replace("threshold_lr: 1000\n", "threshold_lr: 1\n")
    with pytest.raises(CatalogError) as error:
        config.load(_write(tmp_path, text))
    line = next(n for n, row in enumerate(text.splitlines(), start=1) if "threshold_lr: 1" in row and "000" not in row)
    assert error.value.line == line
    assert "threshold_lr" in error.value.message


def test_prior_and_hour_are_checked(tmp_path):
    with pytest.raises(CatalogError, match="prior_in_database"):
        config.load(_write(tmp_path, GOOD.replace("prior_in_database: 0.5", "prior_in_database: 1.5")))
    with pytest.raises(CatalogError, match="rescreen_hour"):
        config.load(_write(tmp_path, GOOD.replace("rescreen_hour: 2", "rescreen_hour: 24")))
    with pytest.raises(CatalogError, match="modes"):
        config.load(_write(tmp_path, GOOD.replace("  sibling:\n", "  siblings:\n")))


def test_system_check_names_an_unknown_frequency_table(settings, tmp_path):
    (tmp_path / "dna.yaml").write_text(GOOD.replace("east-asia-v2023", "mars-v1"), encoding="utf-8")
    original = settings.CATALOG_DIR
    settings.CATALOG_DIR = str(tmp_path)
    try:
        problems = checks.dna_settings_check()
        assert [p.id for p in problems] == ["dna.E002"]
        assert "mars-v1" in problems[0].msg
    finally:
        settings.CATALOG_DIR = original
        config.reload()
    assert checks.dna_settings_check() == []
