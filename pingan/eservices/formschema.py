"""Application forms from the service's JSON Schema: a Django form to fill in, and the same
rules checked again on submit (the schema is the single source; see catalog/services/).

The supported subset (checked when the catalogue loads): string / integer / number /
boolean properties with ``title`` and ``x-title-en``, ``enum``, lengths, ``pattern``,
``minimum``/``maximum`` and the formats ``date``, ``year``, ``resident-id`` (GB 11643),
``mobile`` and ``email``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import jsonschema
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from pingan.core import identity

FORMAT_CHECKER = jsonschema.FormatChecker(formats=())


def _checks(name: str) -> Any:
    def decorate(func: Any) -> Any:
        FORMAT_CHECKER.checks(name, raises=(ValueError, ValidationError))(func)
        return func

    return decorate


@_checks("date")
def _is_date(value: Any) -> bool:
    if not isinstance(value, str):
        return True
    day = dt.date.fromisoformat(value)
    return dt.date(1900, 1, 1) <= day <= dt.date(2100, 12, 31)


@_checks("year")
def _is_year(value: Any) -> bool:
    return not isinstance(value, str) or bool(re.fullmatch(r"(19|20)\d\d", value))


@_checks("resident-id")
def _is_resident_id(value: Any) -> bool:
    if isinstance(value, str):
        identity.validate_resident_id(value)
    return True


@_checks("mobile")
def _is_mobile(value: Any) -> bool:
    if isinstance(value, str):
        identity.validate_mobile(value)
    return True


@_checks("email")
def _is_email(value: Any) -> bool:
    if isinstance(value, str):
        validate_email(value)
    return True


def title(spec: Mapping[str, Any]) -> str:
    if (get_language() or "").startswith("en") and spec.get("x-title-en"):
        return str(spec["x-title-en"])
    return str(spec.get("title", ""))


def _message(error: jsonschema.ValidationError, schema: Mapping[str, Any]) -> tuple[str, str]:
    """(field, message) for one schema error, in the user's words."""
    field = str(error.path[0]) if error.path else "__all__"
    spec = schema.get("properties", {}).get(field, {})
    label = title(spec) or field
    validator = error.validator
    if validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        missing_spec = schema.get("properties", {}).get(missing, {})
        return missing, _("请填写「%(field)s」。") % {"field": title(missing_spec) or missing}
    if validator == "format":
        fmt = error.validator_value
        cause = getattr(error, "cause", None)
        if isinstance(cause, ValidationError) and cause.messages:
            return field, cause.messages[0]
        return field, {
            "date": _("「%(field)s」应为有效日期（年-月-日）。"),
            "year": _("「%(field)s」应为四位年份。"),
            "resident-id": _("「%(field)s」不是有效的居民身份证号码。"),
            "mobile": _("「%(field)s」不是有效的手机号码。"),
            "email": _("「%(field)s」不是有效的电子邮箱。"),
        }.get(fmt, _("「%(field)s」格式不正确。")) % {"field": label}
    if validator == "enum":
        return field, _("「%(field)s」请从列表中选择。") % {"field": label}
    if validator == "maxLength":
        return field, _("「%(field)s」最多%(n)s个字。") % {"field": label, "n": error.validator_value}
    if validator == "minLength":
        return field, _("「%(field)s」至少%(n)s个字。") % {"field": label, "n": error.validator_value}
    if validator == "pattern":
        return field, _("「%(field)s」格式不正确。") % {"field": label}
    if validator in ("minimum", "maximum"):
        return field, _("「%(field)s」超出允许范围。") % {"field": label}
    if validator == "type":
        return field, _("「%(field)s」的值类型不正确。") % {"field": label}
    if validator == "additionalProperties":
        return "__all__", _("表单包含未知字段。")
    return field, _("「%(field)s」填写有误。") % {"field": label}


def errors_for(schema: Mapping[str, Any], data: Any, *, partial: bool = False) -> dict[str, list[str]]:
    """Problems of ``data`` against ``schema`` by field (``partial``: drafts may miss fields)."""
    if not isinstance(data, dict):
        return {"__all__": [_("表单数据格式不正确。")]}
    if partial:
        schema = {key: value for key, value in schema.items() if key != "required"}
    validator = jsonschema.Draft202012Validator(schema, format_checker=FORMAT_CHECKER)
    errors: dict[str, list[str]] = {}
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.path)):
        field, message = _message(error, schema)
        if message not in errors.setdefault(field, []):
            errors[field].append(message)
    return errors


def sensitive_fields(schema: Mapping[str, Any]) -> list[str]:
    """Fields holding identifiers that are masked for staff who may not unmask."""
    return [
        name for name, spec in schema.get("properties", {}).items() if spec.get("format") in ("resident-id", "mobile")
    ]


def masked(schema: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    result = dict(data)
    for name in sensitive_fields(schema):
        value = result.get(name)
        if isinstance(value, str) and value:
            spec = schema["properties"][name]
            result[name] = (
                identity.mask_resident_id(value) if spec.get("format") == "resident-id" else identity.mask_phone(value)
            )
    return result


def rows(schema: Mapping[str, Any], data: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """(label, value) in the schema's order, for the check-your-answers and detail pages."""
    return [(title(spec) or name, data.get(name, "")) for name, spec in schema.get("properties", {}).items()]


# --- The Django form ------------------------------------------------------------------


def _field(spec: Mapping[str, Any], required: bool) -> forms.Field:
    common: dict[str, Any] = {"label": title(spec), "required": required, "help_text": spec.get("description", "")}
    kind = spec.get("type")
    if "enum" in spec:
        choices = [("", "——")] + [(value, value) for value in spec["enum"]]
        return forms.ChoiceField(choices=choices, **common)
    if kind == "boolean":
        return forms.BooleanField(**{**common, "required": False})
    if kind == "integer":
        return forms.IntegerField(min_value=spec.get("minimum"), max_value=spec.get("maximum"), **common)
    if kind == "number":
        low, high = spec.get("minimum"), spec.get("maximum")
        return forms.DecimalField(
            min_value=Decimal(str(low)) if low is not None else None,
            max_value=Decimal(str(high)) if high is not None else None,
            **common,
        )
    if spec.get("format") == "date":
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    widget = forms.Textarea(attrs={"rows": 3}) if spec.get("x-widget") == "textarea" else forms.TextInput()
    attrs = {"autocomplete": "off"}
    if spec.get("format") in ("resident-id", "mobile"):
        attrs["inputmode"] = "text" if spec["format"] == "resident-id" else "tel"
    widget.attrs.update(attrs)
    return forms.CharField(
        max_length=spec.get("maxLength"), min_length=spec.get("minLength"), widget=widget, strip=True, **common
    )


class ServiceForm(forms.Form):
    """The applicant's form for one service, generated from its schema. ``cleaned_json()``
    gives the answers as JSON values (dates as ISO strings, numbers as numbers)."""

    def __init__(self, schema: Mapping[str, Any], *args: Any, require: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.schema = schema
        required = set(schema.get("required", [])) if require else set()
        for name, spec in schema.get("properties", {}).items():
            self.fields[name] = _field(spec, name in required)

    def cleaned_json(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for name, spec in self.schema.get("properties", {}).items():
            value = self.cleaned_data.get(name)
            if value in (None, ""):
                continue
            if isinstance(value, dt.date):
                value = value.isoformat()
            elif isinstance(value, Decimal):
                value = float(value)
            elif spec.get("format") == "resident-id" and isinstance(value, str):
                value = value.upper()
            result[name] = value
        return result

    def add_schema_errors(self, errors: Mapping[str, list[str]]) -> None:
        for field, problems in errors.items():
            for problem in problems:
                self.add_error(field if field in self.fields else None, problem)
