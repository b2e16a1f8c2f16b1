"""Sample answers and service picks, for the demo seed, the benchmarks and the tests: pick
services from the real catalogue by what they are, and fill their forms with valid answers
generated from their schemas."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable
from typing import Any

from pingan.core.identity import make_resident_id
from pingan.eservices import catalog

_sequence = itertools.count(500)


def answer_for(name: str, spec: dict[str, Any]) -> Any:
    if "enum" in spec:
        return spec["enum"][0]
    kind, fmt = spec.get("type"), spec.get("format")
    if kind == "boolean":
        return True
    if kind in ("integer", "number"):
        low = spec.get("minimum", 1)
        return int(low) if kind == "integer" else float(low)
    if fmt == "date":
        return "2020-06-01"
    if fmt == "year":
        return "2020"
    if fmt == "resident-id":
        return make_resident_id("370102", dt.date(1988, 6, 15), next(_sequence))
    if fmt == "mobile":
        return "13905310001"
    if fmt == "email":
        return "someone@example.cn"
    low, high = spec.get("minLength", 1), spec.get("maxLength", 50)
    pattern = spec.get("pattern")
    if pattern:
        candidates = ("LFV2A21K5A3000001", "AB12345678", "1234567890", "ABC123", "12345", "鲁A12345", "济南A123456")
        for candidate in candidates:
            if re.search(pattern, candidate) and low <= len(candidate) <= high:
                return candidate
        raise ValueError(f"no sample answer for {name} (pattern {pattern})")
    text = "测试填写内容"
    while len(text) < low:
        text += "内容"
    return text[:high]


def answers(schema: dict[str, Any], *, only_required: bool = False) -> dict[str, Any]:
    required = set(schema.get("required", []))
    return {
        name: answer_for(name, spec)
        for name, spec in schema.get("properties", {}).items()
        if not only_required or name in required
    }


def fillable(service: catalog.ServiceDefinition) -> bool:
    try:
        answers(service.form)
    except ValueError:
        return False
    return True


def pick(predicate: Callable[[catalog.ServiceDefinition], bool]) -> catalog.ServiceDefinition:
    """The first service (by code) that matches and whose form we can fill."""
    for code in sorted(catalog.services()):
        service = catalog.services()[code]
        if service.handler is None and fillable(service) and predicate(service):
            return service
    raise LookupError("no service in the catalogue matches")


MINIMAL_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
MINIMAL_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32

MINIMAL_JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
_SAMPLE_BY_TYPE = {"pdf": MINIMAL_PDF, "png": MINIMAL_PNG, "jpg": MINIMAL_JPEG, "jpeg": MINIMAL_JPEG}


def document_for(spec: catalog.DocumentSpec) -> tuple[str, bytes]:
    """A file name and content the upload checks accept for ``spec``."""
    extension = "pdf" if "pdf" in spec.types else spec.types[0]
    return f"{spec.code}.{extension}", _SAMPLE_BY_TYPE[extension]
