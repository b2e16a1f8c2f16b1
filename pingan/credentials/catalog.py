"""The kinds of credential, declared in ``catalog/credentials.yaml`` and checked when loaded.

    from pingan.credentials.catalog import kinds
    kind = kinds()["driving_licence"]
    kind.name, kind.claims["vehicle_class"].label, kind.disclosable, kind.valid_until(issued_on)

Every error names the file and line (``CatalogError``).
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils.translation import get_language

from pingan.core.catalog import CatalogError, Located, catalog_path, load_yaml, relative

# Other modules issue these by code: the catalogue must keep declaring them.
REQUIRED_KINDS = ("driving_licence", "ebike_registration", "residence_permit", "no_criminal_record", "network_id")
CLAIM_TYPES = ("text", "name", "resident_id", "date", "sex", "pseudonym")
MASKS = ("none", "name", "resident_id", "partial", "full", "year")
DEFAULT_MASK = {
    "text": "partial",
    "name": "name",
    "resident_id": "resident_id",
    "date": "none",
    "sex": "none",
    "pseudonym": "partial",
}
RULES = ("age_at_least", "credential_valid")
IDENTIFYING_TYPES = ("name", "resident_id")
CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
PREFIX = re.compile(r"^[A-Z]{2,4}$")


def _localised(zh: str, en: str) -> str:
    return en if (get_language() or "").startswith("en") else zh


@dataclass(frozen=True)
class Claim:
    code: str
    label_zh: str
    label_en: str
    type: str
    mask: str
    required: bool = True

    @property
    def label(self) -> str:
        return _localised(self.label_zh, self.label_en)


@dataclass(frozen=True)
class Predicate:
    code: str
    label_zh: str
    label_en: str
    rule: str
    claim: str | None = None
    years: int | None = None

    @property
    def label(self) -> str:
        return _localised(self.label_zh, self.label_en)


@dataclass(frozen=True)
class Validity:
    years: int = 0
    months: int = 0
    days: int = 0

    def after(self, day: dt.date) -> dt.date:
        """The last day of validity for a credential issued on ``day``."""
        months = self.years * 12 + self.months
        if months:
            year, month = divmod(day.month - 1 + months, 12)
            year += day.year
            month += 1
            day = dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
        return day + dt.timedelta(days=self.days) - dt.timedelta(days=1)

    def __str__(self) -> str:
        parts = [(self.years, "年"), (self.months, "个月"), (self.days, "天")]
        return "".join(f"{n}{unit}" for n, unit in parts if n)


@dataclass(frozen=True)
class CredentialKind:
    code: str
    name_zh: str
    name_en: str
    department: str
    serial_prefix: str
    validity: Validity | None
    deidentified: bool
    claims: dict[str, Claim]
    predicates: dict[str, Predicate]
    disclosable: tuple[str, ...]
    default_disclosure: tuple[str, ...]

    @property
    def name(self) -> str:
        return _localised(self.name_zh, self.name_en)

    def label_of(self, code: str) -> str:
        item = self.claims.get(code) or self.predicates.get(code)
        return item.label if item is not None else code

    def valid_until(self, issued_on: dt.date) -> dt.date | None:
        return self.validity.after(issued_on) if self.validity is not None else None

    def __str__(self) -> str:
        return self.name


# --- Loading -----------------------------------------------------------------------------


class _Checker:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = relative(path)

    def fail(self, line: int | None, message: str) -> None:
        raise CatalogError(self.where, line, message)

    def mapping(self, value: Any, line: int | None, what: str) -> Located:
        if not isinstance(value, dict):
            self.fail(getattr(value, "line", None) or line, f"{what} must be a mapping")
        return value  # type: ignore[return-value]

    def only(
        self, spec: Located, allowed: set[str], what: str, required: frozenset[str] | set[str] = frozenset()
    ) -> None:
        for key in spec:
            if key not in allowed:
                self.fail(
                    spec.line_of(str(key)), f"{what}: unknown key {key!r} (allowed: {', '.join(sorted(allowed))})"
                )
        for key in sorted(required - set(spec)):
            self.fail(spec.line, f"{what}: {key!r} is required")

    def name(self, spec: Located, key: str, what: str) -> tuple[str, str]:
        value = spec.get(key)
        if not isinstance(value, dict) or set(value) != {"zh-hans", "en"}:
            self.fail(spec.line_of(key), f"{what}: {key} must be {{zh-hans: …, en: …}}")
        for language in ("zh-hans", "en"):
            if not isinstance(value[language], str) or not value[language].strip():
                self.fail(value.line_of(language), f"{what}: {key}.{language} must be non-empty text")
        return value["zh-hans"].strip(), value["en"].strip()

    def code(self, code: Any, line: int | None, what: str) -> str:
        if not isinstance(code, str) or not CODE.match(code):
            self.fail(line, f"{what}: {code!r} is not a code (lower case letters, digits, _; up to 40)")
        return code

    def load(self, departments: set[str]) -> dict[str, CredentialKind]:
        document = load_yaml(self.path)
        document = self.mapping(document, 1, "the file")
        self.only(document, {"kinds"}, "the file", {"kinds"})
        specs = self.mapping(document["kinds"], document.line_of("kinds"), "kinds")
        result: dict[str, CredentialKind] = {}
        prefixes: dict[str, str] = {}
        for code, spec in specs.items():
            line = specs.line_of(str(code))
            self.code(code, line, "kind")
            kind = self.kind(code, self.mapping(spec, line, f"kind {code!r}"), departments)
            if kind.serial_prefix in prefixes:
                self.fail(
                    spec.line_of("serial_prefix"),
                    f"kind {code!r}: serial_prefix {kind.serial_prefix!r} "
                    f"already used by {prefixes[kind.serial_prefix]!r}",
                )
            prefixes[kind.serial_prefix] = code
            result[code] = kind
        missing = [code for code in REQUIRED_KINDS if code not in result]
        if missing:
            self.fail(document.line_of("kinds"), f"kinds {', '.join(missing)} are missing (other modules issue them)")
        return result

    def kind(self, code: str, spec: Located, departments: set[str]) -> CredentialKind:
        what = f"kind {code!r}"
        self.only(
            spec,
            {
                "name",
                "department",
                "serial_prefix",
                "validity",
                "deidentified",
                "claims",
                "predicates",
                "disclosable",
                "default_disclosure",
            },
            what,
            {"name", "department", "serial_prefix", "validity", "claims", "disclosable"},
        )
        name_zh, name_en = self.name(spec, "name", what)
        department = spec["department"]
        if department not in departments:
            self.fail(
                spec.line_of("department"), f"{what}: unknown department {department!r} (catalog/departments.yaml)"
            )
        prefix = spec["serial_prefix"]
        if not isinstance(prefix, str) or not PREFIX.match(prefix):
            self.fail(spec.line_of("serial_prefix"), f"{what}: serial_prefix must be 2 to 4 capital letters")
        validity = self.validity(spec, what)
        deidentified = spec.get("deidentified", False)
        if not isinstance(deidentified, bool):
            self.fail(spec.line_of("deidentified"), f"{what}: deidentified must be true or false")
        claims_spec = self.mapping(spec["claims"], spec.line_of("claims"), f"{what}: claims")
        if not claims_spec:
            self.fail(spec.line_of("claims"), f"{what}: declare at least one claim")
        claims = {}
        for claim_code, claim_spec in claims_spec.items():
            line = claims_spec.line_of(str(claim_code))
            self.code(claim_code, line, f"{what}: claim")
            claim = self.claim(claim_code, self.mapping(claim_spec, line, f"{what}: claim {claim_code!r}"), what)
            if deidentified and claim.type in IDENTIFYING_TYPES:
                self.fail(
                    line,
                    f"{what} is deidentified: claim {claim_code!r} of type {claim.type} would identify the person",
                )
            claims[claim_code] = claim
        predicates = {}
        predicates_spec = spec.get("predicates") or Located()
        predicates_spec = self.mapping(predicates_spec, spec.line_of("predicates"), f"{what}: predicates")
        for predicate_code, predicate_spec in predicates_spec.items():
            line = predicates_spec.line_of(str(predicate_code))
            self.code(predicate_code, line, f"{what}: predicate")
            if predicate_code in claims:
                self.fail(line, f"{what}: {predicate_code!r} is both a claim and a predicate")
            predicates[predicate_code] = self.predicate(
                predicate_code,
                self.mapping(predicate_spec, line, f"{what}: predicate {predicate_code!r}"),
                what,
                claims,
            )
        disclosable = self.codes(spec, "disclosable", what, set(claims) | set(predicates))
        if not disclosable:
            self.fail(spec.line_of("disclosable"), f"{what}: disclosable must list at least one item")
        default = self.codes(spec, "default_disclosure", what, set(disclosable)) if "default_disclosure" in spec else ()
        return CredentialKind(
            code=code,
            name_zh=name_zh,
            name_en=name_en,
            department=department,
            serial_prefix=prefix,
            validity=validity,
            deidentified=deidentified,
            claims=claims,
            predicates=predicates,
            disclosable=disclosable,
            default_disclosure=default,
        )

    def validity(self, spec: Located, what: str) -> Validity | None:
        value = spec["validity"]
        if value is None:
            return None
        value = self.mapping(value, spec.line_of("validity"), f"{what}: validity")
        units = {"years", "months", "days"}
        if len(value) != 1 or set(value) - units:
            self.fail(spec.line_of("validity"), f"{what}: validity is one of {{years: N}}, {{months: N}}, {{days: N}}")
        unit, number = next(iter(value.items()))
        if type(number) is not int or not 1 <= number <= 100 * (
            365 if unit == "days" else 12 if unit == "months" else 1
        ):
            self.fail(value.line_of(unit), f"{what}: validity {unit} must be a positive whole number")
        return Validity(**{unit: number})

    def claim(self, code: str, spec: Located, what: str) -> Claim:
        where = f"{what}: claim {code!r}"
        self.only(spec, {"label", "type", "mask", "required"}, where, {"label", "type"})
        label_zh, label_en = self.name(spec, "label", where)
        claim_type = spec["type"]
        if claim_type not in CLAIM_TYPES:
            self.fail(spec.line_of("type"), f"{where}: type must be one of {', '.join(CLAIM_TYPES)}")
        mask = spec.get("mask", DEFAULT_MASK[claim_type])
        if mask not in MASKS:
            self.fail(spec.line_of("mask"), f"{where}: mask must be one of {', '.join(MASKS)}")
        required = spec.get("required", True)
        if not isinstance(required, bool):
            self.fail(spec.line_of("required"), f"{where}: required must be true or false")
        return Claim(code=code, label_zh=label_zh, label_en=label_en, type=claim_type, mask=mask, required=required)

    def predicate(self, code: str, spec: Located, what: str, claims: dict[str, Claim]) -> Predicate:
        where = f"{what}: predicate {code!r}"
        self.only(spec, {"label", "rule", "claim", "years"}, where, {"label", "rule"})
        label_zh, label_en = self.name(spec, "label", where)
        rule = spec["rule"]
        if rule not in RULES:
            self.fail(spec.line_of("rule"), f"{where}: rule must be one of {', '.join(RULES)}")
        if rule == "credential_valid":
            for key in ("claim", "years"):
                if key in spec:
                    self.fail(spec.line_of(key), f"{where}: rule credential_valid takes no {key}")
            return Predicate(code=code, label_zh=label_zh, label_en=label_en, rule=rule)
        claim, years = spec.get("claim"), spec.get("years")
        if claim not in claims:
            self.fail(spec.line_of("claim"), f"{where}: claim {claim!r} is not a claim of this kind")
        if claims[claim].type != "date":
            self.fail(spec.line_of("claim"), f"{where}: rule age_at_least needs a date claim, {claim!r} is not one")
        if type(years) is not int or not 1 <= years <= 150:
            self.fail(spec.line_of("years") or spec.line, f"{where}: years must be a whole number from 1 to 150")
        return Predicate(code=code, label_zh=label_zh, label_en=label_en, rule=rule, claim=claim, years=years)

    def codes(self, spec: Located, key: str, what: str, allowed: set[str]) -> tuple[str, ...]:
        value = spec[key]
        if not isinstance(value, list):
            self.fail(spec.line_of(key), f"{what}: {key} must be a list of codes")
        seen: list[str] = []
        for index, code in enumerate(value):
            line = value.line_at(index) if hasattr(value, "line_at") else spec.line_of(key)
            if code not in allowed:
                self.fail(line, f"{what}: {key}: {code!r} is not one of {', '.join(sorted(allowed))}")
            if code in seen:
                self.fail(line, f"{what}: {key}: {code!r} listed twice")
            seen.append(code)
        return tuple(seen)


def _departments() -> set[str]:
    document = load_yaml(catalog_path("departments.yaml"))
    return set((document or {}).get("departments") or {})


def load(path: Path | str | None = None) -> dict[str, CredentialKind]:
    """Load and check a credentials catalogue (default: ``catalog/credentials.yaml``)."""
    return _Checker(Path(path) if path else catalog_path("credentials.yaml")).load(_departments())


@functools.cache
def kinds() -> dict[str, CredentialKind]:
    """Every credential kind by code (loaded once)."""
    return load()


def reload() -> None:
    kinds.cache_clear()


def get(code: str) -> CredentialKind:
    try:
        return kinds()[code]
    except KeyError:
        raise LookupError(f"unknown credential kind {code!r}; known: {', '.join(kinds())}") from None
