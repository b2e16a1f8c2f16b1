"""Declarative state machines: workflows are YAML under ``catalog/workflows/`` (see
``docs/how-to/add-a-workflow.md``), checked when loaded, and ``transition()`` is the only
way an item's ``state`` changes.

    step = workflow.transition(item, action="approve", actor=user, data={"comment": "同意"},
                               expected_version=version_the_user_saw)

``transition()`` locks the item's row, checks the move (state, role, in person, input,
guards), applies the clock effects (``core.deadlines``), records the step on the timeline
and sends ``events.workflow_transitioned`` once the transaction commits. Refusals are
:class:`WorkflowError` subclasses with a message for the user and an HTTP status.
"""

from __future__ import annotations

import functools
import threading
import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import jsonschema
from django.apps import apps as django_apps
from django.conf import settings
from django.db import models, transaction
from django.db.models.query_utils import DeferredAttribute
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from pingan.core import access, context, deadlines, events, registry, timeline
from pingan.core.catalog import CatalogError, Located, line_at, load_yaml, plain, relative
from pingan.core.catalog import roles as role_catalog

IN_PERSON_CHANNELS = frozenset({"counter", "kiosk"})
CLOCK_EFFECTS = ("start", "pause", "resume", "stop")

# --- The YAML format -----------------------------------------------------------------

_NAME = {
    "type": "object",
    "required": ["zh-hans", "en"],
    "properties": {"zh-hans": {"type": "string", "minLength": 1}, "en": {"type": "string", "minLength": 1}},
    "additionalProperties": False,
}
_CODE = {"type": "string", "pattern": "^[a-z][a-z0-9_]*$", "maxLength": 40}
_ROLES = {"type": "array", "items": {"type": "string"}, "uniqueItems": True}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["code", "version", "name", "initial", "states", "transitions"],
    "additionalProperties": False,
    "properties": {
        "code": {"type": "string", "pattern": "^[a-z][a-z0-9_-]*$", "maxLength": 60},
        "version": {"type": "integer", "minimum": 1},
        "name": _NAME,
        "description": {"type": "string"},
        "initial": {"type": "string"},
        "states": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": _CODE,
            "additionalProperties": {
                "type": "object",
                "required": ["name"],
                "additionalProperties": False,
                "properties": {
                    "name": _NAME,
                    "final": {"type": "boolean"},
                    "waiting_for": _ROLES,
                    "description": {"type": "string"},
                },
            },
        },
        "clocks": {
            "type": "object",
            "propertyNames": _CODE,
            "additionalProperties": {
                "type": "object",
                "required": ["name"],
                "additionalProperties": False,
                "properties": {"name": _NAME, "description": {"type": "string"}},
            },
        },
        "transitions": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["action", "name", "from", "to", "roles"],
                "additionalProperties": False,
                "properties": {
                    "action": _CODE,
                    "name": _NAME,
                    "from": {"type": "array", "items": {"type": "string"}, "minItems": 1, "uniqueItems": True},
                    "to": {"type": "string"},
                    "roles": {**_ROLES, "minItems": 1},
                    "guards": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
                    "input": {"type": "object"},
                    "in_person": {"type": "boolean"},
                    "clocks": {"type": "object", "additionalProperties": {"enum": list(CLOCK_EFFECTS)}},
                    "description": {"type": "string"},
                },
            },
        },
    },
}


def _localised(zh: str, en: str) -> str:
    return en if (get_language() or "").startswith("en") else zh


@dataclass(frozen=True)
class State:
    code: str
    name_zh: str
    name_en: str
    final: bool = False
    waiting_for: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return _localised(self.name_zh, self.name_en)

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class ClockSpec:
    code: str
    name_zh: str
    name_en: str

    @property
    def name(self) -> str:
        return _localised(self.name_zh, self.name_en)


@dataclass(frozen=True)
class Transition:
    action: str
    name_zh: str
    name_en: str
    sources: tuple[str, ...]
    target: str
    roles: tuple[str, ...]
    guards: tuple[str, ...] = ()
    input_schema: Mapping[str, Any] | None = None
    in_person: bool = False
    clocks: Mapping[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return _localised(self.name_zh, self.name_en)

    @property
    def input_fields(self) -> list[str]:
        """Top-level input fields, required ones first."""
        if not self.input_schema:
            return []
        required = list(self.input_schema.get("required", []))
        others = [name for name in self.input_schema.get("properties", {}) if name not in required]
        return required + others

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Workflow:
    code: str
    version: int
    name_zh: str
    name_en: str
    initial: str
    states: Mapping[str, State]
    transitions: tuple[Transition, ...]
    clocks: Mapping[str, ClockSpec]
    source: str = ""

    @property
    def name(self) -> str:
        return _localised(self.name_zh, self.name_en)

    @functools.cached_property
    def _by_source(self) -> dict[tuple[str, str], Transition]:
        return {(state, t.action): t for t in self.transitions for state in t.sources}

    def state(self, code: str) -> State:
        return self.states[code]

    def state_name(self, code: str) -> str:
        return self.states[code].name if code in self.states else code

    def transitions_from(self, state: str) -> list[Transition]:
        return [t for t in self.transitions if state in t.sources]

    def transition_for(self, state: str, action: str) -> Transition | None:
        return self._by_source.get((state, action))

    def action_name(self, action: str) -> str:
        for t in self.transitions:
            if t.action == action:
                return t.name
        return action

    @property
    def actions(self) -> list[str]:
        return list(dict.fromkeys(t.action for t in self.transitions))

    def states_waiting_for(self, roles: Iterable[str]) -> list[str]:
        """States whose items wait for someone holding one of ``roles`` (the inbox uses it)."""
        wanted = set(roles)
        return [code for code, state in self.states.items() if wanted & set(state.waiting_for)]


# --- Loading and checking ------------------------------------------------------------


class _Checker:
    def __init__(self, path: Path, document: Any) -> None:
        self.path, self.document, self.where = path, document, relative(path)

    def fail(self, line: int | None, message: str) -> None:
        raise CatalogError(self.where, line, message)

    def structure(self) -> None:
        if not isinstance(self.document, dict):
            self.fail(getattr(self.document, "line", None), "a workflow file must be a mapping")
        validator = jsonschema.Draft202012Validator(SCHEMA)
        errors = sorted(
            validator.iter_errors(plain(self.document)), key=lambda e: line_at(self.document, e.absolute_path) or 0
        )
        if errors:
            error = errors[0]
            where = "/".join(str(part) for part in error.absolute_path) or "(top)"
            self.fail(line_at(self.document, error.absolute_path), f"{where}: {error.message}")

    def semantics(self) -> Workflow:
        doc = self.document
        if doc["code"] != self.path.stem:
            self.fail(doc.line_of("code"), f"code {doc['code']!r} must equal the file name {self.path.stem!r}")
        states: Located = doc["states"]
        known_roles = role_catalog()
        if doc["initial"] not in states:
            self.fail(doc.line_of("initial"), f"unknown initial state {doc['initial']!r}")
        for code, spec in states.items():
            for index, role in enumerate(spec.get("waiting_for") or []):
                if role not in known_roles:
                    self.fail(spec["waiting_for"].line_at(index), f"state {code!r}: unknown role {role!r}")
        clocks: Located = doc.get("clocks") or Located()
        seen: dict[tuple[str, str], int] = {}
        transitions: list[Transition] = []
        for spec in doc["transitions"]:
            action = spec["action"]
            for i, source in enumerate(spec["from"]):
                if source not in states:
                    self.fail(spec["from"].line_at(i), f"transition {action!r}: unknown state {source!r}")
                if (source, action) in seen:
                    self.fail(
                        spec.line_of("action"),
                        f"duplicate action {action!r} from state {source!r} (first at line {seen[(source, action)]})",
                    )
                seen[(source, action)] = spec.line_of("action") or 0
            if spec["to"] not in states:
                self.fail(spec.line_of("to"), f"transition {action!r}: unknown state {spec['to']!r}")
            for i, role in enumerate(spec["roles"]):
                if role not in known_roles:
                    self.fail(spec["roles"].line_at(i), f"transition {action!r}: unknown role {role!r}")
            for i, guard in enumerate(spec.get("guards") or []):
                if guard not in registry.workflow_guards:
                    self.fail(
                        spec["guards"].line_at(i),
                        f"transition {action!r}: unknown guard {guard!r} (register it in registry.workflow_guards)",
                    )
            schema = spec.get("input")
            if schema is not None:
                try:
                    jsonschema.validators.validator_for(plain(schema)).check_schema(plain(schema))
                except jsonschema.SchemaError as error:
                    line = line_at(schema, error.path) if error.path else spec.line_of("input")
                    self.fail(line, f"transition {action!r}: invalid input schema: {error.message}")
                if plain(schema).get("type") != "object":
                    self.fail(spec.line_of("input"), f"transition {action!r}: input schema must have type: object")
            for clock in spec.get("clocks") or {}:
                if clock not in clocks:
                    self.fail(spec["clocks"].line_of(clock), f"transition {action!r}: unknown clock {clock!r}")
            transitions.append(
                Transition(
                    action=action,
                    name_zh=spec["name"]["zh-hans"],
                    name_en=spec["name"]["en"],
                    sources=tuple(spec["from"]),
                    target=spec["to"],
                    roles=tuple(spec["roles"]),
                    guards=tuple(spec.get("guards") or ()),
                    input_schema=plain(schema) if schema is not None else None,
                    in_person=bool(spec.get("in_person", False)),
                    clocks=dict(spec.get("clocks") or {}),
                )
            )
        self._graph(doc, states, transitions)
        self._clock_flow(doc, clocks, transitions)
        return Workflow(
            code=doc["code"],
            version=doc["version"],
            name_zh=doc["name"]["zh-hans"],
            name_en=doc["name"]["en"],
            initial=doc["initial"],
            states={
                code: State(
                    code=code,
                    name_zh=spec["name"]["zh-hans"],
                    name_en=spec["name"]["en"],
                    final=bool(spec.get("final", False)),
                    waiting_for=tuple(spec.get("waiting_for") or ()),
                )
                for code, spec in states.items()
            },
            transitions=tuple(transitions),
            clocks={
                code: ClockSpec(code=code, name_zh=spec["name"]["zh-hans"], name_en=spec["name"]["en"])
                for code, spec in clocks.items()
            },
            source=self.where,
        )

    def _graph(self, doc: Located, states: Located, transitions: list[Transition]) -> None:
        reachable, frontier = {doc["initial"]}, [doc["initial"]]
        while frontier:
            state = frontier.pop()
            for t in transitions:
                if state in t.sources and t.target not in reachable:
                    reachable.add(t.target)
                    frontier.append(t.target)
        for code, spec in states.items():
            if code not in reachable:
                self.fail(states.line_of(code), f"state {code!r} is unreachable from {doc['initial']!r}")
            has_exit = any(code in t.sources for t in transitions)
            if spec.get("final") and has_exit:
                self.fail(states.line_of(code), f"final state {code!r} has transitions out of it")
            if not spec.get("final") and not has_exit:
                self.fail(states.line_of(code), f"state {code!r} has no way out and is not final (add final: true)")

    def _clock_flow(self, doc: Located, clocks: Located, transitions: list[Transition]) -> None:
        """Follow each clock through the graph: an effect must suit every status the clock
        may have in the transition's source states (e.g. resume only a paused clock)."""
        specs = doc["transitions"]
        for clock in clocks:
            started = any(t.clocks.get(clock) == "start" for t in transitions)
            paused = any(t.clocks.get(clock) == "pause" for t in transitions)
            status: dict[str, set[str]] = {code: set() for code in doc["states"]}
            status[doc["initial"]].add("idle")
            changed = True
            while changed:
                changed = False
                for t in transitions:
                    effect = t.clocks.get(clock)
                    before = set().union(*(status[s] for s in t.sources))
                    after = {_after(effect, s) for s in before}
                    if not after <= status[t.target]:
                        status[t.target] |= after
                        changed = True
            for index, t in enumerate(transitions):
                effect = t.clocks.get(clock)
                if effect is None:
                    continue
                line = specs[index]["clocks"].line_of(clock)
                if effect != "start" and not started:
                    self.fail(line, f"transition {t.action!r}: {effect} on clock {clock!r}, which is never started")
                if effect == "resume" and not paused:
                    self.fail(line, f"transition {t.action!r}: resume on clock {clock!r}, which is never paused")
                for source in t.sources:
                    bad = sorted(s for s in status[source] if not _allowed(effect, s))
                    if bad:
                        self.fail(
                            line,
                            f"transition {t.action!r}: illegal clock effect {effect} on clock {clock!r} "
                            f"from state {source!r}, where the clock may be {'/'.join(bad)}",
                        )


def _allowed(effect: str, status: str) -> bool:
    return {
        "start": status in {"idle", "stopped"},
        "pause": status == "running",
        "resume": status == "paused",
        "stop": True,
    }[effect]


def _after(effect: str | None, status: str) -> str:
    if effect is None or not _allowed(effect, status) or (effect == "stop" and status == "idle"):
        return status  # (stopping a clock never started leaves it never started)
    return {"start": "running", "pause": "paused", "resume": "running", "stop": "stopped"}[effect]


def validate_file(path: Path | str) -> Workflow:
    """Load and check one workflow file; raises :class:`CatalogError` naming file and line."""
    path = Path(path)
    document = load_yaml(path)
    checker = _Checker(path, document)
    checker.structure()
    return checker.semantics()


def workflow_dirs() -> list[Path]:
    """``settings.WORKFLOW_DIRS`` plus any ``workflow_dirs`` an installed AppConfig declares."""
    dirs = [Path(d) for d in getattr(settings, "WORKFLOW_DIRS", [Path(settings.CATALOG_DIR) / "workflows"])]
    for config in django_apps.get_app_configs():
        dirs += [Path(d) for d in getattr(config, "workflow_dirs", ())]
    return dirs


def catalog_dirs() -> list[Path]:
    """Only the catalogue's directories (what ``workflow_docs`` documents)."""
    return [Path(d) for d in getattr(settings, "WORKFLOW_DIRS", [Path(settings.CATALOG_DIR) / "workflows"])]


_cache: dict[str, Workflow] | None = None
_lock = threading.Lock()


def load_all() -> dict[str, Workflow]:
    """Every workflow, by code (loaded once; :func:`reload` forgets them)."""
    global _cache
    if _cache is None:
        with _lock:
            if _cache is None:
                loaded: dict[str, Workflow] = {}
                for directory in workflow_dirs():
                    for path in sorted(directory.glob("*.yaml")):
                        wf = validate_file(path)
                        if wf.code in loaded:
                            raise CatalogError(
                                relative(path), 1, f"workflow {wf.code!r} also defined in {loaded[wf.code].source}"
                            )
                        loaded[wf.code] = wf
                _cache = loaded
    return _cache


def reload() -> None:
    global _cache
    with _lock:
        _cache = None


def get(code: str) -> Workflow:
    try:
        return load_all()[code]
    except KeyError:
        raise LookupError(f"no workflow {code!r} in {[str(d) for d in workflow_dirs()]}") from None


# --- Items ----------------------------------------------------------------------------


class StateProtected(AttributeError):
    """Code other than the workflow engine tried to change a saved item's state."""


class _StateDescriptor(DeferredAttribute):
    def __set__(self, instance: models.Model, value: Any) -> None:
        name = self.field.attname
        current = instance.__dict__.get(name, value)
        if (
            current != value
            and not instance._state.adding
            and not instance.__dict__.get("_workflow_may_set_state", False)
        ):
            raise StateProtected(
                f"{type(instance).__name__}.{name} changes only through workflow.transition() "
                f"(tried {current!r} -> {value!r})"
            )
        instance.__dict__[name] = value


class StateField(models.CharField):
    """The item's workflow state: set once on creation, then only by ``transition()``."""

    descriptor_class = _StateDescriptor

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault("db_index", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        # Always explicit: the default here (indexed) is not CharField's, so a model that
        # turns the index off must say so in its migrations too.
        name, path, args, kwargs = super().deconstruct()
        kwargs["db_index"] = self.db_index
        return name, path, args, kwargs


class DeadlineState(models.TextChoices):
    NONE = "", gettext_lazy("无时限")
    RUNNING = "running", gettext_lazy("计时中")
    WARNING = "warning", gettext_lazy("即将超期")
    OVERDUE = "overdue", gettext_lazy("已超期")
    PAUSED = "paused", gettext_lazy("已暂停")
    STOPPED = "stopped", gettext_lazy("已停止")


class _class_or_instance:
    """A method that receives the instance when called on one, else the class."""

    def __init__(self, method: Any) -> None:
        self.method = method
        functools.update_wrapper(self, method)  # type: ignore[arg-type]

    def __get__(self, instance: Any, owner: type) -> Any:
        return types.MethodType(self.method, owner if instance is None else instance)


def due_at_field(*, indexed: bool = True) -> models.DateTimeField:
    """``WorkflowModel.due_at``; a model whose workflow runs no clocks (the field stays empty)
    may leave it unindexed: an index costs every insert."""
    return models.DateTimeField(
        gettext_lazy("办理期限"),
        null=True,
        blank=True,
        db_index=indexed,
        editable=False,
        help_text="the nearest running deadline (denormalised from the item's clocks)",
    )


class WorkflowModel(models.Model):
    """Abstract base of every item a workflow moves (assignments, applications, …).

    Subclasses set ``workflow_code`` and override :meth:`clock_budget`; they register an
    access policy in their app's ``ready()`` (the engine checks roles through it).
    """

    workflow_code: ClassVar[str]

    state = StateField(gettext_lazy("状态"))
    version = models.PositiveIntegerField(default=0, editable=False, help_text="bumped by every transition")
    due_at = due_at_field()
    deadline_state = models.CharField(
        gettext_lazy("时限状态"), max_length=10, blank=True, default="", choices=DeadlineState.choices, editable=False
    )

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._state.adding:
            if not self.state:
                self.state = self.initial_state()
            elif self.state not in self.workflow().states:
                raise ValueError(f"{self.state!r} is not a state of workflow {self.workflow_code!r}")
        super().save(*args, **kwargs)

    @_class_or_instance
    def workflow(self_or_cls: Any) -> Workflow:
        """The item's workflow. Most models follow one workflow (a class attribute); a model
        whose items follow different workflows makes ``workflow_code`` a field."""
        return get(self_or_cls.workflow_code)

    @_class_or_instance
    def initial_state(self_or_cls: Any) -> str:
        return self_or_cls.workflow().initial

    @property
    def state_name(self) -> str:
        return self.workflow().state_name(self.state)

    def needs_person(self, step: Transition) -> bool:
        """Must the person concerned be present for ``step``? The workflow says so by default;
        an item may add steps (e.g. a service definition naming its in-person steps)."""
        return step.in_person

    def clock_budget(self, clock: str) -> int:
        """Working days allowed on ``clock``; subclasses say where the budget comes from."""
        raise NotImplementedError(f"{type(self).__name__} must define clock_budget() for clock {clock!r}")

    def refresh_from_db(self, *args: Any, **kwargs: Any) -> None:
        with _state_writable(self):
            super().refresh_from_db(*args, **kwargs)


class _state_writable:
    def __init__(self, item: models.Model) -> None:
        self.item = item

    def __enter__(self) -> None:
        self.previous = self.item.__dict__.get("_workflow_may_set_state", False)
        self.item.__dict__["_workflow_may_set_state"] = True

    def __exit__(self, *exc: object) -> None:
        self.item.__dict__["_workflow_may_set_state"] = self.previous


# --- Transitions -----------------------------------------------------------------------


class WorkflowError(Exception):
    """A refused transition; ``message`` is for the user, ``status`` for HTTP."""

    status = 409
    code = "workflow"

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class IllegalTransition(WorkflowError):
    code = "illegal_transition"


class Conflict(WorkflowError):
    code = "conflict"


class InputInvalid(WorkflowError):
    status = 400
    code = "input_invalid"

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__(
            _("输入有误：%(fields)s") % {"fields": "；".join(f"{k}：{'，'.join(v)}" for k, v in errors.items())}
        )


class GuardFailed(WorkflowError):
    code = "guard_failed"

    def __init__(self, guard: str, reason: str) -> None:
        self.guard = guard
        super().__init__(reason)


class InPersonRequired(WorkflowError):
    status = 403
    code = "in_person_required"


@dataclass(frozen=True)
class Step:
    """One transition taken: what the engine recorded."""

    action: str
    from_state: str
    to_state: str
    event: Any  # the TimelineEvent
    data: Mapping[str, Any] | None
    version: int = 0


def _input_errors(schema: Mapping[str, Any], data: Any) -> dict[str, list[str]]:
    validator_class = jsonschema.validators.validator_for(schema)
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)
    errors: dict[str, list[str]] = {}
    for error in validator.iter_errors(data):
        fields = [".".join(str(p) for p in error.absolute_path) or "__all__"]
        if error.validator == "required" and isinstance(error.instance, dict):
            prefix = ".".join(str(p) for p in error.absolute_path)
            fields = [f"{prefix}.{name}" if prefix else name for name in error.validator_value]
            fields = [name for name in fields if name.rsplit(".", 1)[-1] not in error.instance]
        elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = set(error.schema.get("properties", {}))
            fields = [name for name in error.instance if name not in allowed]
        for name in fields:
            errors.setdefault(name, []).append(_message(error))
    return errors


def _message(error: jsonschema.ValidationError) -> str:
    kind, value = str(error.validator), error.validator_value
    if kind == "required":
        return _("此项为必填项。")
    if kind == "type":
        return _("类型不正确。")
    if kind == "minLength":
        return _("至少需要 %(n)s 个字符。") % {"n": value}
    if kind == "maxLength":
        return _("最多 %(n)s 个字符。") % {"n": value}
    if kind in {"minimum", "exclusiveMinimum"}:
        return _("不能小于 %(n)s。") % {"n": value}
    if kind in {"maximum", "exclusiveMaximum"}:
        return _("不能大于 %(n)s。") % {"n": value}
    if kind == "enum":
        return _("必须是以下之一：%(values)s。") % {"values": "、".join(map(str, value))}
    if kind in {"pattern", "format"}:
        return _("格式不正确。")
    if kind == "additionalProperties":
        return _("不接受此字段。")
    if kind == "minItems":
        return _("至少需要 %(n)s 项。") % {"n": value}
    if kind == "maxItems":
        return _("最多 %(n)s 项。") % {"n": value}
    return _("输入无效。")


def _share_related(source: models.Model, target: models.Model) -> None:
    """Reuse related objects (the org unit, the owner) ``source`` already loaded, where
    ``target`` points at the same rows: the access checks need them on every step."""
    for relation in type(target)._meta.concrete_fields:
        if (
            relation.many_to_one
            and relation.is_cached(source)
            and not relation.is_cached(target)
            and getattr(source, relation.attname) == getattr(target, relation.attname)
        ):
            relation.set_cached_value(target, relation.get_cached_value(source))


def _refuse_illegal(wf: Workflow, state: str, action: str) -> IllegalTransition:
    return IllegalTransition(
        _("当前状态「%(state)s」不能执行「%(action)s」")
        % {"state": wf.state_name(state), "action": wf.action_name(action)}
    )


def transition(
    item: WorkflowModel,
    *,
    action: str,
    actor: Any,
    data: Mapping[str, Any] | None = None,
    expected_version: int | None = None,
    channel: str | None = None,
) -> Step:
    """Take ``action`` on ``item`` as ``actor`` (``None``: the system).

    Atomic; locks the item's row. Refuses with :class:`Conflict` (``expected_version`` is
    stale), :class:`IllegalTransition`, ``access.AccessDenied``, :class:`InPersonRequired`,
    :class:`InputInvalid` or :class:`GuardFailed`; a refusal changes nothing. ``item`` is
    updated in place (state, version, due_at, deadline_state).
    """
    try:
        return _transition(
            item, action=action, actor=actor, data=data, expected_version=expected_version, channel=channel
        )
    except access.AccessDenied as denied:
        # Logged after the refused transaction rolled back, so the denial is kept.
        access.log_denial(actor, f"workflow.{action}", item, denied.decision)
        raise


@transaction.atomic
def _transition(
    item: WorkflowModel,
    *,
    action: str,
    actor: Any,
    data: Mapping[str, Any] | None,
    expected_version: int | None,
    channel: str | None,
) -> Step:
    model = type(item)
    locked = model._default_manager.select_for_update().get(pk=item.pk)
    wf = locked.workflow()
    _share_related(item, locked)
    if actor is not None:
        decision = access.check(actor, "view", locked)
        if not decision:
            raise access.AccessDenied(decision)
    if expected_version is not None and locked.version != expected_version:
        raise Conflict(
            _("此事项已被他人处理（当前状态：%(state)s），请刷新后重试") % {"state": wf.state_name(locked.state)}
        )
    step = wf.transition_for(locked.state, action)
    if step is None:
        raise _refuse_illegal(wf, locked.state, action)
    if actor is None:
        if "system" not in step.roles:
            raise access.AccessDenied(
                access.Decision(False, _("此操作只能由工作人员办理，不能由系统自动执行。"), status=403)
            )
    else:
        decision = access.check(actor, "act", locked, role=[role for role in step.roles if role != "system"])
        if not decision:
            raise access.AccessDenied(decision)
    channel = channel or context.current().channel
    if locked.needs_person(step) and channel not in IN_PERSON_CHANNELS:
        raise InPersonRequired(_("「%(action)s」需要本人到场，只能在窗口或自助终端办理。") % {"action": step.name})
    payload = dict(data) if data is not None else None
    if step.input_schema is not None:
        errors = _input_errors(step.input_schema, payload if payload is not None else {})
        if errors:
            raise InputInvalid(errors)
    elif payload:
        raise InputInvalid({"__all__": [_("此操作不接受输入。")]})
    for guard in step.guards:
        reason = registry.workflow_guards.get(guard)(locked, actor=actor, data=payload, transition=step)
        if reason:
            raise GuardFailed(guard, str(reason))

    before = locked.state
    now = context.now()
    with _state_writable(locked):
        locked.state = step.target
    locked.version += 1
    deadlines.apply_effects(locked, step.clocks, now=now, reason=step.name_zh)
    locked.save(update_fields=["state", "version", "due_at", "deadline_state"])
    record: dict[str, Any] = {"input": payload, "version": locked.version}
    if step.clocks:
        record["clocks"] = dict(step.clocks)
    if channel != context.current().channel:
        record["channel"] = channel
    event = timeline.record(
        locked,
        f"workflow.{action}",
        actor=actor,
        before={"state": before},
        after={"state": step.target},
        data=record,
    )
    with _state_writable(item):
        item.state = locked.state
    _share_related(locked, item)
    item.version, item.due_at, item.deadline_state = locked.version, locked.due_at, locked.deadline_state
    result = Step(
        action=action, from_state=before, to_state=step.target, event=event, data=payload, version=locked.version
    )
    events.on_commit(events.workflow_transitioned, sender=model, item=locked, step=result, actor=actor)
    return result


def available_actions(item: WorkflowModel, user: Any) -> list[Transition]:
    """The transitions ``user`` may take on ``item`` now (the buttons to show).

    Guards are asked too (without input, which is only known when the action is taken), so
    an officer is not offered a button that would be refused; input is checked on taking.
    """
    wf = item.workflow()
    candidates = wf.transitions_from(item.state)
    if not candidates:
        return []
    if user is None:
        candidates = [t for t in candidates if "system" in t.roles]
    else:
        if not access.check(user, "view", item):
            return []
        held = access.roles_for(user, item, "act")
        candidates = [t for t in candidates if held & set(t.roles)]
    return [
        t
        for t in candidates
        if not any(registry.workflow_guards.get(guard)(item, actor=user, data=None, transition=t) for guard in t.guards)
    ]
