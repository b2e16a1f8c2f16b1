"""The service catalogue: one definition per online police service, as data officials
change (``catalog/services/*.yaml``, format in ``docs/catalogue.md``).

Every file is checked when loaded: first against a JSON Schema of the definition format,
then for meaning (known department, life events, workflow and its actions, credential
kind, time limits, the form's JSON Schema subset, documents). Each problem is a
:class:`~pingan.core.catalog.CatalogError` naming the file and line an official has to fix.

"Zero trips" (零跑腿) and "done in one go" (一次办好) are computed from the in-person steps
of each definition, never typed:

    visits = len(in_person_steps); zero_trip = visits == 0; one_go = visits <= 1
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import threading
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

import jsonschema
from django.utils.translation import get_language

from pingan.core.catalog import (
    CatalogError,
    Located,
    LocatedList,
    catalog_path,
    check_schema,
    line_at,
    load_yaml,
    plain,
    relative,
)

CHANNELS = ("online", "app", "kiosk", "counter")
# The four self-service categories of the smart police stations (智慧警局, S12).
KIOSK_CATEGORIES = ("id_card", "residence", "exit_entry", "vehicle")
HANDLED_AT = ("station", "county", "city")
LIMIT_UNITS = ("working", "calendar")
DOCUMENT_TYPES = frozenset({"pdf", "jpg", "jpeg", "png"})
MAX_DOCUMENT_MB = 20

# --- The form subset (what the form generator renders) ---------------------------------

FORM_TOP_KEYS = frozenset({"type", "properties", "required", "additionalProperties"})
FORM_PROPERTY_TYPES = ("string", "integer", "number", "boolean")
FORM_PROPERTY_KEYS = frozenset(
    {
        "type",
        "title",
        "x-title-en",
        "description",
        "enum",
        "minLength",
        "maxLength",
        "pattern",
        "minimum",
        "maximum",
        "format",
        "x-widget",
    }
)
FORM_FORMATS = {"string": ("date", "resident-id", "mobile", "email", "year"), "integer": ("year",)}
FORM_WIDGETS = ("textarea",)
_STRING_ONLY = ("minLength", "maxLength", "pattern", "x-widget", "enum")
_NUMBER_ONLY = ("minimum", "maximum")

# --- The definition format -------------------------------------------------------------

_TEXTS = {
    "type": "object",
    "required": ["zh-hans", "en"],
    "properties": {"zh-hans": {"type": "string", "minLength": 1}, "en": {"type": "string", "minLength": 1}},
    "additionalProperties": False,
}
_LIMIT = {
    "type": "object",
    "required": ["days", "unit"],
    "properties": {"days": {"type": "integer", "minimum": 1, "maximum": 366}, "unit": {"enum": list(LIMIT_UNITS)}},
    "additionalProperties": False,
}
_CODES = {"type": "array", "items": {"type": "string"}, "uniqueItems": True}
_DOCUMENT = {
    "type": "object",
    "required": ["code", "name", "required", "types", "max_mb"],
    "properties": {
        "code": {"type": "string", "pattern": "^[a-z][a-z0-9_]{1,39}$"},
        "name": _TEXTS,
        "required": {"type": "boolean"},
        "types": {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"type": "string"}},
        "max_mb": {"type": "integer", "minimum": 1},
    },
    "additionalProperties": False,
}
SERVICE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "code",
        "name",
        "department",
        "category",
        "legal_limit",
        "promised_limit",
        "fee",
        "channels",
        "handled_at",
        "workflow",
        "in_person_steps",
        "form",
        "documents",
        "guide",
    ],
    "properties": {
        "code": {"type": "string", "pattern": "^[a-z][a-z0-9_]{2,59}$"},
        "name": _TEXTS,
        "department": {"type": "string"},
        "category": _TEXTS,
        "life_events": _CODES,
        "keywords": {"type": "array", "items": {"type": "string", "minLength": 1}, "uniqueItems": True},
        "legal_basis": {"type": "string"},
        "legal_limit": _LIMIT,
        "promised_limit": _LIMIT,
        "fee": {
            "type": "object",
            "required": ["amount"],
            "properties": {"amount": {"type": "string", "pattern": r"^\d{1,6}\.\d{2}$"}, "note": _TEXTS},
            "additionalProperties": False,
        },
        "channels": {**_CODES, "minItems": 1},
        "handled_at": {"enum": list(HANDLED_AT)},
        "workflow": {"type": "string"},
        "in_person_steps": _CODES,
        "form": {"type": "object"},
        "documents": {"type": "array", "items": _DOCUMENT},
        "credential": {"type": "string"},
        "handler": {"type": "string"},
        "kiosk": {"type": "string"},
        "guide": _TEXTS,
    },
    "additionalProperties": False,
}
FILE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["services"],
    "properties": {"services": {"type": "array", "items": SERVICE_SCHEMA}},
    "additionalProperties": False,
}
LIFE_EVENTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["life_events"],
    "properties": {
        "life_events": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["code", "name"],
                "properties": {
                    "code": {"type": "string", "pattern": "^[a-z][a-z0-9_]{1,39}$"},
                    "name": _TEXTS,
                    "description": _TEXTS,
                },
                "additionalProperties": False,
            },
        }
    },
    "additionalProperties": False,
}


def _english() -> bool:
    return (get_language() or "").startswith("en")


@dataclass(frozen=True)
class TimeLimit:
    days: int
    unit: str  # "working" | "calendar"

    def working_days_from(self, day: dt.date) -> int:
        """The limit in working days for a period starting on ``day``: a working-day limit
        is itself; a calendar limit counts the working days in ``[day, day + days)``."""
        if self.unit == "working":
            return self.days
        from pingan.core import calendar

        return calendar.working_days_between(day - dt.timedelta(days=1), day + dt.timedelta(days=self.days - 1))

    def __str__(self) -> str:
        return f"{self.days} {self.unit} days"


@dataclass(frozen=True)
class DocumentSpec:
    code: str
    name_zh: str
    name_en: str
    required: bool
    types: tuple[str, ...]
    max_mb: int

    @property
    def name(self) -> str:
        return self.name_en if _english() else self.name_zh


@dataclass(frozen=True)
class LifeEvent:
    code: str
    name_zh: str
    name_en: str
    description_zh: str = ""
    description_en: str = ""

    @property
    def name(self) -> str:
        return self.name_en if _english() else self.name_zh

    @property
    def description(self) -> str:
        return self.description_en if _english() else self.description_zh


@dataclass(frozen=True)
class ServiceDefinition:
    code: str
    name_zh: str
    name_en: str
    department: str
    category_zh: str
    category_en: str
    life_events: tuple[str, ...]
    keywords: tuple[str, ...]
    legal_basis: str
    legal_limit: TimeLimit
    promised_limit: TimeLimit
    fee_amount: Decimal
    fee_note_zh: str
    fee_note_en: str
    channels: tuple[str, ...]
    handled_at: str
    workflow: str
    in_person_steps: tuple[str, ...]
    form: dict = field(hash=False, compare=False)
    documents: tuple[DocumentSpec, ...] = ()
    credential: str | None = None
    handler: str | None = None
    kiosk: str | None = None
    guide_zh: str = ""
    guide_en: str = ""
    source_file: str = ""
    line: int = 0
    # Line of each top-level key (for errors found after loading, e.g. unknown handlers).
    lines: dict = field(default_factory=dict, hash=False, compare=False, repr=False)

    @property
    def name(self) -> str:
        return self.name_en if _english() else self.name_zh

    @property
    def category(self) -> str:
        return self.category_en if _english() else self.category_zh

    @property
    def guide(self) -> str:
        return self.guide_en if _english() else self.guide_zh

    @property
    def fee_note(self) -> str:
        return self.fee_note_en if _english() else self.fee_note_zh

    @property
    def visits(self) -> int:
        return len(self.in_person_steps)

    @property
    def zero_trip(self) -> bool:
        return self.visits == 0

    @property
    def one_go(self) -> bool:
        return self.visits <= 1

    @property
    def source(self) -> str:
        return f"{self.source_file}:{self.line}"


# --- Located helpers -------------------------------------------------------------------


# --- Reference data the definitions point to ------------------------------------------


def _department_codes() -> set[str]:
    from pingan.orgs import queries as orgs

    return set(orgs.departments())


def credential_kinds() -> set[str]:
    """Credential kind codes (``catalog/credentials.yaml``, read by ``pingan.credentials``)."""
    from pingan.credentials.catalog import kinds

    return set(kinds())


def _workflow_actions(code: str) -> list[str] | None:
    from pingan.core import workflow

    try:
        return workflow.get(code).actions
    except LookupError:
        return None


@functools.cache
def _working_day_counts() -> tuple[int, ...]:
    """``counts[i]``: working days in the first ``i`` days of the years the holiday calendar
    covers (a prefix sum, so any period's count is one subtraction)."""
    from pingan.core import calendar

    years = sorted(calendar.covered_years()) or [dt.date.today().year]  # noqa: DTZ011
    day, last = dt.date(years[0], 1, 1), dt.date(years[-1], 12, 31)
    counts = [0]
    while day <= last:
        counts.append(counts[-1] + calendar.is_working_day(day))
        day += dt.timedelta(days=1)
    return tuple(counts)


@functools.cache
def _working_day_range(days: int) -> tuple[int, int]:
    """Fewest and most working days a ``days``-calendar-day period holds, over every start
    day of the years the holiday calendar covers (so comparisons are conservative)."""
    counts = _working_day_counts()
    spans = [counts[start + days] - counts[start] for start in range(len(counts) - days)]
    return min(spans), max(spans)


def promise_exceeds_law(promised: TimeLimit, legal: TimeLimit) -> bool:
    """Whether the promise may end after the legal limit. Same units compare directly;
    otherwise in working days, assuming the worst start day (a calendar legal limit by the
    fewest working days it can hold, a calendar promise by the most)."""
    if promised.unit == legal.unit:
        return promised.days > legal.days
    if legal.unit == "calendar":
        return promised.days > _working_day_range(legal.days)[0]
    return _working_day_range(promised.days)[1] > legal.days


# --- Life events -------------------------------------------------------------------------


def load_life_events(path: Path | None = None) -> dict[str, LifeEvent]:
    path = path or catalog_path("life_events.yaml")
    where = relative(path)
    document = load_yaml(path)
    check_schema(where, document, LIFE_EVENTS_SCHEMA)
    result: dict[str, LifeEvent] = {}
    for spec in document["life_events"]:
        code = spec["code"]
        if code in result:
            raise CatalogError(where, spec.line_of("code"), f"duplicate life event {code!r}")
        description = spec.get("description") or {}
        result[code] = LifeEvent(
            code=code,
            name_zh=spec["name"]["zh-hans"],
            name_en=spec["name"]["en"],
            description_zh=description.get("zh-hans", ""),
            description_en=description.get("en", ""),
        )
    return result


# --- Checking one definition -------------------------------------------------------------


@dataclass
class _Context:
    departments: set[str]
    life_events: Collection[str]
    credentials: set[str]


class _ServiceChecker:
    def __init__(self, where: str, spec: Located, context: _Context) -> None:
        self.where, self.spec, self.context = where, spec, context
        self.code = spec["code"]

    def fail(self, line: int | None, message: str) -> NoReturn:
        raise CatalogError(self.where, line or self.spec.line, f"service {self.code!r}: {message}")

    def codes(self, key: str, known: Collection[str], what: str) -> None:
        values = self.spec.get(key) or LocatedList()
        for index, value in enumerate(values):
            if value not in known:
                self.fail(values.line_at(index), f"unknown {what} {value!r} (known: {', '.join(sorted(known))})")

    def check(self) -> ServiceDefinition:
        spec = self.spec
        if spec["department"] not in self.context.departments:
            self.fail(
                spec.line_of("department"),
                f"unknown department {spec['department']!r} (catalog/departments.yaml has: "
                f"{', '.join(sorted(self.context.departments))})",
            )
        self.codes("life_events", self.context.life_events, "life event")
        self.codes("channels", CHANNELS, "channel")
        actions = _workflow_actions(spec["workflow"])
        if actions is None:
            self.fail(spec.line_of("workflow"), f"unknown workflow {spec['workflow']!r}")
        steps = spec["in_person_steps"]
        for index, step in enumerate(steps):
            if step not in actions:
                self.fail(
                    steps.line_at(index),
                    f"in-person step {step!r} is not an action of workflow {spec['workflow']!r} ({', '.join(actions)})",
                )
        legal = TimeLimit(**plain(spec["legal_limit"]))
        promised = TimeLimit(**plain(spec["promised_limit"]))
        if promise_exceeds_law(promised, legal):
            self.fail(
                spec.line_of("promised_limit"),
                f"promised limit ({promised}) is longer than the legal limit ({legal})",
            )
        kiosk = spec.get("kiosk")
        if kiosk is not None and kiosk not in KIOSK_CATEGORIES:
            self.fail(spec.line_of("kiosk"), f"unknown kiosk category {kiosk!r} (known: {', '.join(KIOSK_CATEGORIES)})")
        if (kiosk is not None) != ("kiosk" in spec["channels"]):
            self.fail(
                spec.line_of("kiosk") if kiosk is not None else spec.line_of("channels"),
                "a kiosk item needs both a kiosk category and the kiosk channel",
            )
        if not steps and not {"online", "app"} & set(spec["channels"]):
            self.fail(spec.line_of("channels"), "a service with no in-person step needs the online or app channel")
        credential = spec.get("credential")
        if credential is not None and credential not in self.context.credentials:
            self.fail(
                spec.line_of("credential"),
                f"unknown credential kind {credential!r} (known: {', '.join(sorted(self.context.credentials))})",
            )
        self.form(spec["form"])
        documents = self.documents(spec["documents"])
        fee = spec["fee"]
        fee_note = fee.get("note") or {}
        return ServiceDefinition(
            code=self.code,
            name_zh=spec["name"]["zh-hans"],
            name_en=spec["name"]["en"],
            department=spec["department"],
            category_zh=spec["category"]["zh-hans"],
            category_en=spec["category"]["en"],
            life_events=tuple(spec.get("life_events") or ()),
            keywords=tuple(spec.get("keywords") or ()),
            legal_basis=spec.get("legal_basis", ""),
            legal_limit=legal,
            promised_limit=promised,
            fee_amount=Decimal(fee["amount"]),
            fee_note_zh=fee_note.get("zh-hans", ""),
            fee_note_en=fee_note.get("en", ""),
            channels=tuple(spec["channels"]),
            handled_at=spec["handled_at"],
            workflow=spec["workflow"],
            in_person_steps=tuple(steps),
            form=plain(spec["form"]),
            documents=documents,
            credential=credential,
            handler=spec.get("handler"),
            kiosk=kiosk,
            guide_zh=spec["guide"]["zh-hans"],
            guide_en=spec["guide"]["en"],
            source_file=self.where,
            line=spec.line or 0,
            lines=dict(spec.lines),
        )

    def form(self, form: Located) -> None:
        problem = form_schema_error(plain(form))
        if problem is not None:
            path, message = problem
            self.fail(line_at(form, path) if path else self.spec.line_of("form"), f"invalid form schema: {message}")
        for key in form:
            if key not in FORM_TOP_KEYS:
                self.fail(form.line_of(key), f"form: {key!r} is outside the supported subset ({_list(FORM_TOP_KEYS)})")
        if form.get("type") != "object":
            self.fail(form.line_of("type"), "form: the top level must be 'type: object'")
        if form.get("additionalProperties") is not False:
            self.fail(form.line_of("additionalProperties"), "form: the top level needs 'additionalProperties: false'")
        properties = form.get("properties") or Located()
        if not properties:
            self.fail(form.line_of("properties"), "form: needs at least one property")
        for name, prop in properties.items():
            self.form_property(str(name), prop, properties.line_of(str(name)))
        required = form.get("required") or LocatedList()
        for index, name in enumerate(required):
            if name not in properties:
                self.fail(required.line_at(index), f"form: required field {name!r} is not among the properties")

    def form_property(self, name: str, prop: Any, line: int | None) -> None:
        if not isinstance(prop, Located):
            self.fail(line, f"form field {name!r} must be a mapping")
        for key in prop:
            if key not in FORM_PROPERTY_KEYS:
                self.fail(
                    prop.line_of(key),
                    f"form field {name!r}: {key!r} is outside the supported subset ({_list(FORM_PROPERTY_KEYS)})",
                )
        kind = prop.get("type")
        if kind not in FORM_PROPERTY_TYPES:
            self.fail(
                prop.line_of("type"), f"form field {name!r}: type must be one of {', '.join(FORM_PROPERTY_TYPES)}"
            )
        for key in ("title", "x-title-en"):
            if not isinstance(prop.get(key), str) or not prop[key].strip():
                self.fail(prop.line_of(key), f"form field {name!r} needs a {key!r} text")
        for key in _STRING_ONLY:
            if key in prop and kind != "string":
                self.fail(prop.line_of(key), f"form field {name!r}: {key!r} applies to strings only")
        for key in _NUMBER_ONLY:
            if key in prop and kind not in ("integer", "number"):
                self.fail(prop.line_of(key), f"form field {name!r}: {key!r} applies to numbers only")
        if "enum" in prop and not all(isinstance(choice, str) and choice for choice in prop["enum"]):
            self.fail(prop.line_of("enum"), f"form field {name!r}: enum choices must be non-empty texts")
        if "format" in prop and prop["format"] not in FORM_FORMATS.get(kind, ()):
            allowed = ", ".join(FORM_FORMATS.get(kind, ())) or "none"
            self.fail(
                prop.line_of("format"),
                f"form field {name!r}: format {prop['format']!r} unsupported for {kind} ({allowed})",
            )
        if "x-widget" in prop and prop["x-widget"] not in FORM_WIDGETS:
            self.fail(prop.line_of("x-widget"), f"form field {name!r}: unknown widget {prop['x-widget']!r}")

    def documents(self, documents: LocatedList) -> tuple[DocumentSpec, ...]:
        result = []
        seen: dict[str, int | None] = {}
        for spec in documents:
            code = spec["code"]
            if code in seen:
                self.fail(spec.line_of("code"), f"document {code!r} listed twice (first at line {seen[code]})")
            seen[code] = spec.line_of("code")
            types = spec["types"]
            for index, kind in enumerate(types):
                if kind not in DOCUMENT_TYPES:
                    self.fail(
                        types.line_at(index),
                        f"document {code!r}: file type {kind!r} not accepted ({', '.join(sorted(DOCUMENT_TYPES))})",
                    )
            if spec["max_mb"] > MAX_DOCUMENT_MB:
                self.fail(
                    spec.line_of("max_mb"), f"document {code!r}: max_mb {spec['max_mb']} exceeds {MAX_DOCUMENT_MB} MB"
                )
            result.append(
                DocumentSpec(
                    code=code,
                    name_zh=spec["name"]["zh-hans"],
                    name_en=spec["name"]["en"],
                    required=spec["required"],
                    types=tuple(types),
                    max_mb=spec["max_mb"],
                )
            )
        return tuple(result)


@functools.lru_cache(maxsize=4096)
def _schema_error(text: str) -> tuple[tuple[Any, ...], str] | None:
    try:
        jsonschema.Draft202012Validator.check_schema(json.loads(text))
    except jsonschema.SchemaError as error:
        return tuple(error.path), error.message
    return None


_TEXT_KEYS = ("title", "x-title-en", "description")


def form_schema_error(schema: dict[str, Any]) -> tuple[tuple[Any, ...], str] | None:
    """The first problem ``Draft202012Validator.check_schema`` finds in ``schema``, as
    (path, message), or None.

    Checking 300 forms against the metaschema one by one takes seconds, so each form is cut
    into pieces whose validity does not depend on what was cut away: the top level with the
    field names replaced by placeholders and each field's schema left empty, then each field
    with its texts (titles, description) replaced. The metaschema checks every field's schema
    on its own and any string is a valid name or title, so the answer is the same; but the
    pieces repeat across forms and each distinct piece is checked once."""
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return _schema_error(json.dumps(schema, sort_keys=True))
    names = {name: f"p{index}" for index, name in enumerate(properties)}
    required = schema.get("required")
    if isinstance(required, list):
        extra = {name: f"r{index}" for index, name in enumerate(required) if isinstance(name, str)}
        required = [names.get(name, extra.get(name)) if isinstance(name, str) else name for name in required]
    top = {**schema, "properties": {placeholder: {} for placeholder in names.values()}}
    if "required" in schema:
        top["required"] = required
    if _schema_error(json.dumps(top, sort_keys=True)) is not None:
        # Report it in the official's own names.
        return _schema_error(json.dumps({**schema, "properties": dict.fromkeys(properties, True)}, sort_keys=True))
    for name, prop in properties.items():
        skeleton = prop
        if isinstance(prop, dict):
            skeleton = {k: "t" if k in _TEXT_KEYS and isinstance(v, str) else v for k, v in prop.items()}
        problem = _schema_error(json.dumps(skeleton, sort_keys=True))
        if problem is not None:
            return ("properties", name, *problem[0]), problem[1]
    return None


def _list(values: Iterable[str]) -> str:
    return ", ".join(sorted(values))


# --- Loading -------------------------------------------------------------------------------


def services_dir() -> Path:
    return catalog_path("services")


def load(directory: Path | None = None, *, life_events_file: Path | None = None) -> dict[str, ServiceDefinition]:
    """Load and check every ``*.yaml`` in ``directory`` (default ``catalog/services``), in
    file-name order; raises :class:`CatalogError` for the first problem."""
    directory = Path(directory) if directory is not None else services_dir()
    context = _Context(
        departments=_department_codes(),
        life_events=load_life_events(life_events_file),
        credentials=credential_kinds(),
    )
    result: dict[str, ServiceDefinition] = {}
    for path in sorted(directory.glob("*.yaml")):
        where = relative(path)
        document = load_yaml(path)
        if not isinstance(document, Located):
            raise CatalogError(where, getattr(document, "line", 1), "a service file must be a mapping with 'services'")
        check_schema(where, document, FILE_SCHEMA)
        for spec in document["services"]:
            code = spec["code"]
            if code in result:
                raise CatalogError(
                    where,
                    spec.line_of("code"),
                    f"duplicate service code {code!r}: also defined at {result[code].source}",
                )
            result[code] = _ServiceChecker(where, spec, context).check()
    return result


_cache: dict[str, ServiceDefinition] | None = None
_life_events: dict[str, LifeEvent] | None = None
_lock = threading.Lock()


def services() -> dict[str, ServiceDefinition]:
    """Every service of the catalogue by code, in catalogue order (loaded and checked once)."""
    global _cache
    if _cache is None:
        with _lock:
            if _cache is None:
                _cache = load()
    return _cache


def get(code: str) -> ServiceDefinition:
    return services()[code]


def life_events() -> dict[str, LifeEvent]:
    global _life_events
    if _life_events is None:
        with _lock:
            if _life_events is None:
                _life_events = load_life_events()
    return _life_events


def reload() -> None:
    """Forget the loaded catalogue (tests, or after officials edited the files)."""
    global _cache, _life_events
    with _lock:
        _cache = None
        _life_events = None


def departments_in_use() -> list[str]:
    """Department codes that own at least one service, in ``catalog/departments.yaml`` order."""
    from pingan.orgs import queries as orgs

    used = {service.department for service in services().values()}
    return [code for code in orgs.departments() if code in used]


def summary(definitions: dict[str, ServiceDefinition] | None = None) -> dict[str, Any]:
    """Counts: ``total``, ``zero_trip``, ``one_go``, ``kiosk`` (by category) and
    ``by_department`` (code -> the same counts for that department's services)."""
    definitions = services() if definitions is None else definitions

    def counts(items: list[ServiceDefinition]) -> dict[str, Any]:
        return {
            "total": len(items),
            "zero_trip": sum(item.zero_trip for item in items),
            "one_go": sum(item.one_go for item in items),
            "kiosk": sum(item.kiosk is not None for item in items),
        }

    everything = list(definitions.values())
    result = counts(everything)
    result["kiosk"] = {category: sum(item.kiosk == category for item in everything) for category in KIOSK_CATEGORIES}
    departments = dict.fromkeys(item.department for item in everything)
    result["by_department"] = {
        code: counts([item for item in everything if item.department == code]) for code in departments
    }
    return result


def unknown_handlers(definitions: Iterable[ServiceDefinition], known: Collection[str]) -> list[CatalogError]:
    """Handlers are registered at start-up, so names are checked after it (system check)."""
    return [
        CatalogError(
            item.source_file,
            item.lines.get("handler", item.line),
            f"service {item.code!r}: unknown handler {item.handler!r} "
            f"(registered: {', '.join(sorted(known)) or 'none'}); register it in the owning app's ready()",
        )
        for item in definitions
        if item.handler is not None and item.handler not in known
    ]
