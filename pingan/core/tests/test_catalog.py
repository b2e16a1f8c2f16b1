"""The shared catalogue helpers: a file loaded once (and again after reload), a mapping
checked against its JSON Schema with the error at the first line that has one."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from pingan.core.catalog import CatalogError, LoadedOnce, load_mapping

SCHEMA = {
    "type": "object",
    "properties": {"days": {"type": "integer"}, "name": {"type": "string"}},
    "required": ["days"],
    "additionalProperties": False,
}


def test_a_file_is_loaded_once_until_reload():
    calls: list[Path] = []

    def load(path: Path) -> int:
        calls.append(path)
        return len(calls)

    loaded = LoadedOnce("roles.yaml", load)
    assert (loaded(), loaded()) == (1, 1)
    assert calls == [Path(settings.CATALOG_DIR, "roles.yaml")]
    loaded.reload()
    assert loaded() == 2


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("- a\n- b\n", 1, "the test file must be a mapping"),
        ("name: x\ndays: soon\n", 2, "days: 'soon' is not of type 'integer'"),
        ("days: 3\ncolour: red\n", 2, "Additional properties are not allowed"),
    ],
)
def test_a_mapping_is_checked_against_its_schema(tmp_path, text, line, message):
    path = tmp_path / "test.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError) as error:
        load_mapping(path, SCHEMA, "the test file")
    assert error.value.line == line
    assert message in str(error.value)
