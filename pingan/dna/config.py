"""The DNA settings officials change (``catalog/dna.yaml``): thresholds per mode, the prior
that a relative is in the database, the frequency table, the re-screen hour — checked when
loaded so every error names the file and line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils.translation import get_language

from pingan.core.catalog import LoadedOnce, load_mapping, plain

MODES = ("trio", "duo", "sibling", "second-degree")

_NAME = {
    "type": "object",
    "required": ["zh-hans", "en"],
    "properties": {"zh-hans": {"type": "string", "minLength": 1}, "en": {"type": "string", "minLength": 1}},
    "additionalProperties": False,
}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["frequencies", "modes", "prior_in_database", "rescreen_hour"],
    "additionalProperties": False,
    "properties": {
        "frequencies": {"type": "string", "minLength": 1, "maxLength": 60},
        "modes": {
            "type": "object",
            "propertyNames": {"enum": list(MODES)},
            "required": list(MODES),
            "additionalProperties": {
                "type": "object",
                "required": ["threshold_lr", "name"],
                "additionalProperties": False,
                "properties": {
                    "threshold_lr": {"type": "number", "exclusiveMinimum": 1, "maximum": 1e30},
                    "name": _NAME,
                },
            },
        },
        "prior_in_database": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        "rescreen_hour": {"type": "integer", "minimum": 0, "maximum": 23},
        "search_limit": {"type": "integer", "minimum": 1, "maximum": 1000},
        "trio_prescreen_lr": {"type": "number", "exclusiveMinimum": 0},
        "trio_prescreen_limit": {"type": "integer", "minimum": 1, "maximum": 100000},
        "kinship": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "mutation_rate": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 0.1},
                "theta": {"type": "number", "minimum": 0, "maximum": 0.1},
                "exclusion_loci": {"type": "integer", "minimum": 1, "maximum": 40},
            },
        },
    },
}


@dataclass(frozen=True)
class Mode:
    code: str
    threshold_lr: float
    name_zh: str
    name_en: str

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "").startswith("en") else self.name_zh

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class DnaConfig:
    frequencies: str
    modes: dict[str, Mode]
    prior_in_database: float
    rescreen_hour: int
    search_limit: int = 50
    trio_prescreen_lr: float = 10.0
    trio_prescreen_limit: int = 500
    kinship: dict[str, Any] = field(default_factory=dict)
    source: str = ""

    def threshold(self, mode: str) -> float:
        return self.modes[mode].threshold_lr

    def mode_name(self, mode: str) -> str:
        return self.modes[mode].name if mode in self.modes else mode


def load(path: Path) -> DnaConfig:
    """Load and check a settings file (``CatalogError`` naming file and line if invalid)."""
    where, document = load_mapping(path, SCHEMA, "the DNA settings")
    data = plain(document)
    modes = {
        code: Mode(code, float(spec["threshold_lr"]), spec["name"]["zh-hans"], spec["name"]["en"])
        for code, spec in ((code, data["modes"][code]) for code in MODES)
    }
    return DnaConfig(
        frequencies=data["frequencies"],
        modes=modes,
        prior_in_database=float(data["prior_in_database"]),
        rescreen_hour=int(data["rescreen_hour"]),
        search_limit=int(data.get("search_limit", 50)),
        trio_prescreen_lr=float(data.get("trio_prescreen_lr", 10.0)),
        trio_prescreen_limit=int(data.get("trio_prescreen_limit", 500)),
        kinship=dict(data.get("kinship") or {}),
        source=where,
    )


_loaded = LoadedOnce("dna.yaml", load)


def config() -> DnaConfig:
    """The settings in force (loaded once; :func:`reload` after a change)."""
    return _loaded()


def reload() -> None:
    _loaded.reload()
