"""The rating scheme (``catalog/ratings.yaml``): the five levels, the channels and their
indicators, the satisfied threshold and the rectification time limit — data an official
changes, checked when loaded so every error names the file and line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils.translation import get_language

from pingan.core.catalog import CatalogError, LoadedOnce, load_mapping

CHANNELS = ("online", "counter", "kiosk")  # what a Rateable's channel may be
LEVEL_VALUES = (5, 4, 3, 2, 1)

_NAME = {
    "type": "object",
    "required": ["zh-hans", "en"],
    "properties": {"zh-hans": {"type": "string", "minLength": 1}, "en": {"type": "string", "minLength": 1}},
    "additionalProperties": False,
}
_CODE = {"type": "string", "pattern": "^[a-z][a-z0-9_]*$", "maxLength": 40}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["levels", "satisfied_from", "channels", "rectification"],
    "additionalProperties": False,
    "properties": {
        "levels": {
            "type": "array",
            "minItems": 5,
            "maxItems": 5,
            "items": {
                "type": "object",
                "required": ["value", "code", "name"],
                "additionalProperties": False,
                "properties": {"value": {"enum": list(LEVEL_VALUES)}, "code": _CODE, "name": _NAME},
            },
        },
        "satisfied_from": {"type": "integer", "minimum": 2, "maximum": 5},
        "channels": {
            "type": "object",
            "propertyNames": {"enum": list(CHANNELS)},
            "required": list(CHANNELS),
            "additionalProperties": {
                "type": "object",
                "required": ["name", "indicators"],
                "additionalProperties": False,
                "properties": {
                    "name": _NAME,
                    "indicators": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["code", "name"],
                            "additionalProperties": False,
                            "properties": {"code": _CODE, "name": _NAME, "overall": {"type": "boolean"}},
                        },
                    },
                },
            },
        },
        "rectification": {
            "type": "object",
            "required": ["working_days"],
            "additionalProperties": False,
            "properties": {"working_days": {"type": "integer", "minimum": 1, "maximum": 60}},
        },
    },
}


def _localised(zh: str, en: str) -> str:
    return en if (get_language() or "").startswith("en") else zh


@dataclass(frozen=True)
class Level:
    value: int
    code: str
    name_zh: str
    name_en: str

    @property
    def name(self) -> str:
        return _localised(self.name_zh, self.name_en)

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Indicator:
    code: str
    name_zh: str
    name_en: str
    overall: bool = False

    @property
    def name(self) -> str:
        return _localised(self.name_zh, self.name_en)


@dataclass(frozen=True)
class Channel:
    code: str
    name_zh: str
    name_en: str
    indicators: tuple[Indicator, ...]

    @property
    def name(self) -> str:
        return _localised(self.name_zh, self.name_en)

    @property
    def overall(self) -> Indicator:
        return next(indicator for indicator in self.indicators if indicator.overall)

    @property
    def scored(self) -> tuple[Indicator, ...]:
        """The indicators scored besides the level (the overall one *is* the level)."""
        return tuple(indicator for indicator in self.indicators if not indicator.overall)


@dataclass(frozen=True)
class Scheme:
    levels: dict[int, Level]  # 5..1
    satisfied_from: int
    channels: dict[str, Channel]
    rectification_working_days: int
    source: str = ""

    def level(self, value: int) -> Level:
        return self.levels[value]

    def is_bad(self, value: int) -> bool:
        """A bad rating (差评): below the satisfied threshold (不满意, 非常不满意)."""
        return value < self.satisfied_from

    def level_choices(self) -> list[tuple[int, str]]:
        return [(value, level.name) for value, level in self.levels.items()]


def load(path: Path) -> Scheme:
    """Load and check a scheme file (``CatalogError`` naming file and line if invalid)."""
    where, document = load_mapping(path, SCHEMA, "the rating scheme")
    levels: dict[int, Level] = {}
    codes: set[str] = set()
    for index, spec in enumerate(document["levels"]):
        line = document["levels"].line_at(index)
        if spec["value"] in levels:
            raise CatalogError(where, line, f"level {spec['value']} is declared twice")
        if spec["code"] in codes:
            raise CatalogError(where, line, f"level code {spec['code']!r} is declared twice")
        codes.add(spec["code"])
        levels[spec["value"]] = Level(spec["value"], spec["code"], spec["name"]["zh-hans"], spec["name"]["en"])
    channels: dict[str, Channel] = {}
    for code in CHANNELS:
        spec = document["channels"][code]
        seen: set[str] = set()
        for index, indicator in enumerate(spec["indicators"]):
            if indicator["code"] in seen:
                line = spec["indicators"].line_at(index)
                raise CatalogError(where, line, f"channel {code!r}: indicator {indicator['code']!r} is declared twice")
            seen.add(indicator["code"])
        overall = [i for i in spec["indicators"] if i.get("overall")]
        if len(overall) != 1:
            raise CatalogError(
                where,
                spec.line_of("indicators"),
                f"channel {code!r} needs exactly one indicator with overall: true (it has {len(overall)})",
            )
        channels[code] = Channel(
            code=code,
            name_zh=spec["name"]["zh-hans"],
            name_en=spec["name"]["en"],
            indicators=tuple(
                Indicator(i["code"], i["name"]["zh-hans"], i["name"]["en"], bool(i.get("overall", False)))
                for i in spec["indicators"]
            ),
        )
    return Scheme(
        levels={value: levels[value] for value in LEVEL_VALUES},
        satisfied_from=document["satisfied_from"],
        channels=channels,
        rectification_working_days=document["rectification"]["working_days"],
        source=where,
    )


_loaded = LoadedOnce("ratings.yaml", load)


def scheme() -> Scheme:
    """The scheme from ``catalog/ratings.yaml`` (loaded once; :func:`reload` forgets it)."""
    return _loaded()


def reload() -> None:
    _loaded.reload()
