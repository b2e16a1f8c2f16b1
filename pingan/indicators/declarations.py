"""Indicator declarations: one YAML file per indicator under ``catalog/indicators/``,
validated when loaded (every error names the file and line an official has to fix).

    code: staff_per_100k
    name: {zh-hans: 每十万人口民警数, en: Staff per 100,000 residents}
    description: {zh-hans: ..., en: ...}
    unit: per_100k           # count | percent | per_100k | ratio | days
    numerator: accounts.staff_in_post
    denominator: null        # a registered query; percent and ratio need one
    kind: stock              # stock (value at period end) | flow (during the period)
    higher_is_better: true
    owner: accounts          # the app label that registers the queries
    order: 30                # optional: position in lists (default 100)

``numerator`` and ``denominator`` name queries registered at start-up in
``pingan.core.registry.indicator_queries`` (see docs/how-to/add-an-indicator.md).
"""

from __future__ import annotations

import enum
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps
from django.utils.translation import get_language

from pingan.core import registry
from pingan.core.catalog import CatalogError, Located, catalog_path, load_yaml, relative


class Unit(enum.StrEnum):
    COUNT = "count"
    PERCENT = "percent"
    PER_100K = "per_100k"
    RATIO = "ratio"
    DAYS = "days"


class Kind(enum.StrEnum):
    STOCK = "stock"  # the value at the end of the period (people in post)
    FLOW = "flow"  # what happened during the period (citizens registered)


CODE_RE = re.compile(r"[a-z][a-z0-9_]{1,62}")
REQUIRED = ("code", "name", "unit", "numerator", "kind", "higher_is_better", "owner")
OPTIONAL = ("description", "denominator", "order")
# Which units take a denominator query: percent and ratio need one; per_100k divides by the
# census population of the unit instead; count is the numerator itself; days may be either
# a total (no denominator) or an average (days / items).
DENOMINATOR = {
    Unit.COUNT: "forbidden",
    Unit.PER_100K: "forbidden",
    Unit.PERCENT: "required",
    Unit.RATIO: "required",
    Unit.DAYS: "optional",
}


@dataclass(frozen=True)
class Indicator:
    code: str
    name_zh: str
    name_en: str
    unit: Unit
    numerator: str
    kind: Kind
    higher_is_better: bool
    owner: str
    denominator: str | None = None
    description_zh: str = ""
    description_en: str = ""
    order: int = 100
    source: str = ""  # file:line it was declared at

    @property
    def name(self) -> str:
        return self.name_en if _english() else self.name_zh

    @property
    def description(self) -> str:
        return self.description_en if _english() else self.description_zh


def _english() -> bool:
    return (get_language() or "").startswith("en")


def _texts(path: str, document: Located, key: str, *, required: bool) -> tuple[str, str]:
    value = document.get(key)
    if value is None and not required:
        return "", ""
    line = document.line_of(key)
    if not isinstance(value, dict):
        raise CatalogError(path, line, f"{key!r} must be a mapping with 'zh-hans' and 'en' texts")
    unknown = sorted(set(value) - {"zh-hans", "en"})
    if unknown:
        raise CatalogError(path, line, f"{key!r} has unknown languages {unknown}; use 'zh-hans' and 'en'")
    texts = []
    for language in ("zh-hans", "en"):
        text = value.get(language)
        if not isinstance(text, str) or not text.strip():
            raise CatalogError(path, line, f"{key!r} needs a non-empty {language!r} text")
        texts.append(text.strip())
    return texts[0], texts[1]


def _choice(path: str, document: Located, key: str, choices: type[enum.StrEnum]) -> Any:
    value = document.get(key)
    allowed = [choice.value for choice in choices]
    if value not in allowed:
        raise CatalogError(path, document.line_of(key), f"unknown {key} {value!r}; expected one of {allowed}")
    return choices(value)


def _query(path: str, document: Located, key: str) -> str:
    name = document.get(key)
    if not isinstance(name, str) or name not in registry.indicator_queries:
        known = ", ".join(sorted(registry.indicator_queries)) or "none"
        raise CatalogError(
            path,
            document.line_of(key),
            f"{key} {name!r} is not a registered indicator query (registered: {known}); "
            "register it in the owning app's AppConfig.ready()",
        )
    return name


def parse_declaration(document: Any, *, path: str, expected_code: str | None = None) -> Indicator:
    """Validate one declaration (a parsed YAML mapping carrying line numbers)."""
    if not isinstance(document, Located):
        raise CatalogError(path, getattr(document, "line", None), "an indicator file must be a YAML mapping")
    unknown = [key for key in document if key not in REQUIRED + OPTIONAL]
    if unknown:
        key = unknown[0]
        raise CatalogError(
            path, document.line_of(str(key)), f"unknown key {key!r}; allowed: {', '.join(REQUIRED + OPTIONAL)}"
        )
    for key in REQUIRED:
        if key not in document:
            raise CatalogError(path, document.line, f"missing required key {key!r}")

    code = document["code"]
    if not isinstance(code, str) or not CODE_RE.fullmatch(code):
        raise CatalogError(
            path, document.line_of("code"), f"code {code!r} must be lower-case letters, digits and '_' (2-63)"
        )
    if expected_code is not None and code != expected_code:
        raise CatalogError(
            path, document.line_of("code"), f"code {code!r} must match the file name ({expected_code}.yaml)"
        )
    name_zh, name_en = _texts(path, document, "name", required=True)
    description_zh, description_en = _texts(path, document, "description", required=False)
    unit = _choice(path, document, "unit", Unit)
    kind = _choice(path, document, "kind", Kind)
    numerator = _query(path, document, "numerator")

    denominator = document.get("denominator")
    rule = DENOMINATOR[unit]
    if denominator is None and rule == "required":
        raise CatalogError(path, document.line_of("unit"), f"unit {unit.value!r} needs a denominator query")
    if denominator is not None:
        if rule == "forbidden":
            why = "divides by the unit's census population" if unit == Unit.PER_100K else "is the numerator itself"
            raise CatalogError(
                path, document.line_of("denominator"), f"unit {unit.value!r} takes no denominator: it {why}"
            )
        denominator = _query(path, document, "denominator")

    higher = document["higher_is_better"]
    if not isinstance(higher, bool):
        raise CatalogError(path, document.line_of("higher_is_better"), "higher_is_better must be true or false")
    owner = document["owner"]
    if not isinstance(owner, str) or owner not in {config.label for config in apps.get_app_configs()}:
        raise CatalogError(path, document.line_of("owner"), f"owner {owner!r} is not an installed app label")
    order = document.get("order", 100)
    if not isinstance(order, int) or isinstance(order, bool):
        raise CatalogError(path, document.line_of("order"), "order must be a whole number")

    return Indicator(
        code=code,
        name_zh=name_zh,
        name_en=name_en,
        unit=unit,
        numerator=numerator,
        denominator=denominator,
        kind=kind,
        higher_is_better=higher,
        owner=owner,
        description_zh=description_zh,
        description_en=description_en,
        order=order,
        source=f"{path}:{document.line}",
    )


def load_file(path: Path) -> Indicator:
    shown = relative(path)
    try:
        document = load_yaml(path)
    except CatalogError as error:
        # load_yaml names the absolute path; name it as the official sees it.
        raise CatalogError(shown, error.line, error.message) from None
    return parse_declaration(document, path=shown, expected_code=path.stem)


def load_directory(directory: Path) -> dict[str, Indicator]:
    """Every ``*.yaml`` in ``directory``, validated, by code, in display order."""
    found: dict[str, Indicator] = {}
    for path in sorted(directory.glob("*.yaml")):
        # Codes are unique because each must match its file's name.
        indicator = load_file(path)
        found[indicator.code] = indicator
    return dict(sorted(found.items(), key=lambda item: (item[1].order, item[0])))


@functools.cache
def indicators() -> dict[str, Indicator]:
    """The declared indicators (``catalog/indicators/``), loaded once per process."""
    return load_directory(catalog_path("indicators"))


def indicator_get(code: str) -> Indicator:
    """The indicator ``code``; raises ``KeyError`` naming the known codes."""
    try:
        return indicators()[code]
    except KeyError:
        raise KeyError(code) from None
