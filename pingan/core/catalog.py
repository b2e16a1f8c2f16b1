"""Loading the catalogue (YAML under ``catalog/``) with line numbers, so every
validation error names the file and line an official has to fix."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml
from django.conf import settings

T = TypeVar("T")


class CatalogError(ValueError):
    """A catalogue file is invalid; the message names the file and line."""

    def __init__(self, path: Path | str, line: int | None, message: str) -> None:
        self.path, self.line, self.message = str(path), line, message
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {message}")


class Located(dict):
    """A mapping that remembers the line of each key (``lines``) and of itself (``line``)."""

    line: int | None = None
    lines: dict[str, int]

    def line_of(self, key: str) -> int | None:
        return self.lines.get(key, self.line)


class LocatedList(list):
    line: int | None = None
    lines: list[int]

    def line_at(self, index: int) -> int | None:
        return self.lines[index] if index < len(self.lines) else self.line


# libyaml's parser when PyYAML was built with it (4-7x faster on the service catalogue;
# the same marks, so the same line numbers), else the pure-Python one.
class _LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> Located:
    result = Located()
    result.line = node.start_mark.line + 1
    result.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise CatalogError(loader.name, key_node.start_mark.line + 1, f"duplicate key {key!r}")
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[str(key)] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LocatedList:
    result = LocatedList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.lines = [child.start_mark.line + 1 for child in node.value]
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_yaml(path: Path) -> Any:
    """Parse one YAML file; mappings and lists carry their line numbers."""
    try:
        with path.open(encoding="utf-8") as handle:
            loader = _LineLoader(handle)
            loader.name = str(path)
            try:
                return loader.get_single_data()
            finally:
                loader.dispose()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        raise CatalogError(path, mark.line + 1 if mark else None, str(error.problem)) from None


def line_at(document: Any, path: Iterable[Any]) -> int | None:
    """The line of the node at ``path`` inside a located document (or of its nearest parent):
    where a JSON Schema error (``error.absolute_path``) points an official."""
    node, line = document, getattr(document, "line", None)
    for part in path:
        if isinstance(node, Located) and part in node:
            line = node.line_of(str(part))
            node = node[part]
        elif isinstance(node, LocatedList) and isinstance(part, int) and part < len(node):
            line = node.line_at(part)
            node = node[part]
        else:
            break
    return line


def plain(value: Any) -> Any:
    """Located YAML nodes as plain dicts and lists (for JSON Schema and for freezing)."""
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def check_schema(where: str, document: Any, schema: dict[str, Any]) -> None:
    """Raise ``CatalogError`` for the JSON Schema error of ``document`` that comes first in
    the file (``where``: the file, as ``relative`` names it)."""
    import jsonschema

    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(plain(document)))
    if not errors:
        return
    first = min(line_at(document, error.absolute_path) or 0 for error in errors)
    error = jsonschema.exceptions.best_match(e for e in errors if (line_at(document, e.absolute_path) or 0) == first)
    place = "/".join(str(part) for part in error.absolute_path) or "(top)"
    line = line_at(document, error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        # Point at the unexpected key itself, not at the mapping that holds it.
        allowed = error.schema.get("properties", {})
        extra = [key for key in error.instance if key not in allowed]
        line = line_at(document, [*error.absolute_path, extra[0]]) if extra else line
    raise CatalogError(where, line, f"{place}: {error.message}")


def load_mapping(path: Path, schema: dict[str, Any], what: str) -> tuple[str, Any]:
    """A catalogue file that must be one mapping valid against ``schema``: its name (for
    errors) and the document, with line numbers; ``CatalogError`` otherwise."""
    where = relative(path)
    document = load_yaml(path)
    if not isinstance(document, dict):
        raise CatalogError(where, getattr(document, "line", None), f"{what} must be a mapping")
    check_schema(where, document, schema)
    return where, document


class LoadedOnce(Generic[T]):
    """A catalogue file read on first use and kept; ``reload()`` forgets it (after an edit,
    in tests). Two threads asking at once load it once."""

    def __init__(self, name: str, load: Callable[[Path], T]) -> None:
        self._name, self._load = name, load
        self._lock = threading.Lock()
        self._value: T | None = None

    def __call__(self) -> T:
        with self._lock:
            if self._value is None:
                self._value = self._load(catalog_path(self._name))
            return self._value

    def reload(self) -> None:
        with self._lock:
            self._value = None


def catalog_path(*parts: str) -> Path:
    return Path(settings.CATALOG_DIR, *parts)


def relative(path: Path) -> str:
    try:
        return str(path.relative_to(settings.BASE_DIR))
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class Role:
    code: str
    name_zh: str
    name_en: str
    read_only: bool = False
    unmask: bool = False
    manage: bool = False
    pseudo: bool = False

    @property
    def name(self) -> str:
        from django.utils.translation import get_language

        return self.name_en if (get_language() or "").startswith("en") else self.name_zh


@functools.cache
def roles() -> dict[str, Role]:
    """Staff roles and pseudo-roles from ``catalog/roles.yaml``."""
    path = catalog_path("roles.yaml")
    document = load_yaml(path)
    result: dict[str, Role] = {}
    for section, pseudo in (("roles", False), ("pseudo_roles", True)):
        for code, spec in (document.get(section) or {}).items():
            name = spec.get("name") or {}
            if "zh-hans" not in name or "en" not in name:
                raise CatalogError(relative(path), spec.line, f"role {code!r} needs names in zh-hans and en")
            result[code] = Role(
                code=code,
                name_zh=name["zh-hans"],
                name_en=name["en"],
                read_only=bool(spec.get("read_only")),
                unmask=bool(spec.get("unmask")),
                manage=bool(spec.get("manage")),
                pseudo=pseudo,
            )
    return result


def staff_roles() -> dict[str, Role]:
    return {code: role for code, role in roles().items() if not role.pseudo}
