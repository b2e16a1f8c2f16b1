"""Write docs/workflows/<code>.md for every catalogue workflow: a transition table and a
Mermaid state diagram, generated from the YAML so the docs never drift from it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import translation

from pingan.core import workflow
from pingan.core.catalog import relative
from pingan.core.catalog import roles as role_catalog


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _input_cell(t: workflow.Transition) -> str:
    if not t.input_schema:
        return "—"
    required = set(t.input_schema.get("required", []))
    properties: dict[str, Any] = t.input_schema.get("properties", {})
    parts = []
    for name in t.input_fields:
        spec = properties.get(name, {})
        kind = spec.get("type", "any")
        limits = [f"{key} {spec[key]}" for key in ("minLength", "maxLength", "minimum", "maximum") if key in spec]
        text = f"`{name}`{'*' if name in required else ''} ({', '.join([kind, *limits])})"
        parts.append(text)
    return "<br>".join(parts) or "—"


def render(wf: workflow.Workflow) -> str:
    roles = role_catalog()

    def role_names(codes: tuple[str, ...]) -> str:
        return ", ".join(f"{roles[c].name_zh} `{c}`" if c in roles else f"`{c}`" for c in codes) or "—"

    lines = [
        f"# {wf.name_zh} — {wf.name_en} (`{wf.code}`, version {wf.version})",
        "",
        f"Generated from `{wf.source}` by `manage.py workflow_docs`; do not edit by hand.",
        "",
        "## States",
        "",
        "| State | Name | Final | Waiting for |",
        "| --- | --- | --- | --- |",
    ]
    for code, state in wf.states.items():
        initial = " (initial)" if code == wf.initial else ""
        lines.append(
            f"| `{code}`{initial} | {_cell(state.name_zh)} — {_cell(state.name_en)} | "
            f"{'yes' if state.final else ''} | {role_names(state.waiting_for)} |"
        )
    if wf.clocks:
        lines += ["", "## Clocks", "", "| Clock | Name |", "| --- | --- |"]
        lines += [f"| `{c.code}` | {_cell(c.name_zh)} — {_cell(c.name_en)} |" for c in wf.clocks.values()]
    lines += [
        "",
        "## Transitions",
        "",
        "Input fields marked * are required.",
        "",
        "| Action | Name | From | To | Roles | Input | In person | Guards | Clocks |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for t in wf.transitions:
        lines.append(
            "| "
            + " | ".join(
                [
                    f"`{t.action}`",
                    f"{_cell(t.name_zh)} — {_cell(t.name_en)}",
                    ", ".join(f"`{s}`" for s in t.sources),
                    f"`{t.target}`",
                    role_names(t.roles),
                    _input_cell(t),
                    "yes" if t.in_person else "",
                    ", ".join(f"`{g}`" for g in t.guards) or "",
                    ", ".join(f"{clock}: {effect}" for clock, effect in t.clocks.items()),
                ]
            )
            + " |"
        )
    lines += ["", "## Diagram", "", "```mermaid", "stateDiagram-v2", f"    [*] --> {wf.initial}"]
    for code, state in wf.states.items():
        lines.append(f"    {code}: {state.name_zh} {code}")
    for t in wf.transitions:
        for source in t.sources:
            lines.append(f"    {source} --> {t.target}: {t.action}")
    lines += [f"    {code} --> [*]" for code, state in wf.states.items() if state.final]
    lines += ["```", ""]
    return "\n".join(lines)


def write_all(output: Path) -> list[Path]:
    output.mkdir(parents=True, exist_ok=True)
    written = []
    catalog = {d.resolve() for d in workflow.catalog_dirs()}
    for wf in workflow.load_all().values():
        if (Path(settings.BASE_DIR) / wf.source).resolve().parent not in catalog:
            continue  # app-shipped (e.g. test) workflows are not catalogue documentation
        path = output / f"{wf.code}.md"
        path.write_text(render(wf), encoding="utf-8")
        written.append(path)
    return written


class Command(BaseCommand):
    help = "Write docs/workflows/<code>.md (transition table and Mermaid diagram) for each catalogue workflow."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--output", default=str(Path(settings.BASE_DIR) / "docs" / "workflows"))

    def handle(self, *args: Any, output: str, **options: Any) -> None:
        workflow.reload()
        with translation.override("zh-hans"):
            for path in write_all(Path(output)):
                self.stdout.write(f"wrote {relative(path)}")
