"""Kinship likelihood ratios for given profiles, for examiners and for audit.

    python manage.py kinship --mode duo --input case.json            # a alleged parent, b child
    python manage.py kinship --mode trio --input case.json --json     # a, b alleged parents, c child
    python manage.py kinship --mode sibling --input - < case.json     # a and b
    python manage.py kinship --mode second-degree --input case.json --frequencies other.csv

The input is ``{"a": {marker: [allele, allele]}, "b": {...}, "c": {...}}``. ``--json`` prints
``{"combined_lr", "loci", "inconsistent_loci", "frequencies", "skipped_markers"}``. Bad input
(unreadable file, malformed JSON, a missing person, an unknown marker, a non-numeric allele,
three alleles) is reported on standard error with exit status 1 — never a traceback.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from pingan.dna.kinship import (
    MODES,
    FrequencyTable,
    KinshipSettings,
    ProfileError,
    default_table,
    kinship,
    parse_profile,
)
from pingan.dna.kinship.engine import DEFAULT_MUTATION_RATE, DEFAULT_THRESHOLD_LR, PARENTAGE_MODES

PEOPLE = {"trio": ("a", "b", "c"), "duo": ("a", "b"), "sibling": ("a", "b"), "second-degree": ("a", "b")}
ROLES = {
    "trio": ("被检父/母 a", "被检父/母 b", "孩子 c"),
    "duo": ("被检父/母 a", "孩子 b"),
    "sibling": ("a", "b"),
    "second-degree": ("a", "b"),
}


class Command(BaseCommand):
    help = "Per-locus and combined kinship likelihood ratios of given STR profiles (trio, duo, sibling, second-degree)."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--mode", required=True, choices=MODES, help="trio | duo | sibling | second-degree")
        parser.add_argument("--input", required=True, help="case.json, or - for standard input")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")
        parser.add_argument(
            "--frequencies", type=Path, help="a marker,allele,frequency CSV (default: the shipped table)"
        )
        parser.add_argument(
            "--threshold", type=float, default=DEFAULT_THRESHOLD_LR, help="LR that supports the relationship (10000)"
        )
        parser.add_argument(
            "--mutation-rate", type=float, default=DEFAULT_MUTATION_RATE, help="μ per meiosis and locus (0.002)"
        )
        parser.add_argument("--theta", type=float, default=0.0, help="substructure correction θ (default 0: off)")

    def handle(self, *args: Any, **options: Any) -> None:
        mode: str = options["mode"]
        table = self._table(options["frequencies"])
        try:
            settings = KinshipSettings(
                mutation_rate=options["mutation_rate"], theta=options["theta"], threshold_lr=options["threshold"]
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        case = self._case(options["input"])
        people = PEOPLE[mode]
        errors: list[str] = []
        missing = [key for key in people if key not in case]
        extra = [key for key in case if key not in people]
        if missing:
            errors.append(
                _("{mode} 需要 {keys}，缺少 {missing}").format(
                    mode=mode, keys="、".join(people), missing="、".join(missing)
                )
            )
        if extra:
            errors.append(
                _("{mode} 只用 {keys}，多出 {extra}").format(
                    mode=mode, keys="、".join(people), extra="、".join(map(str, extra))
                )
            )
        profiles = {}
        for key in people:
            if key not in case:
                continue
            try:
                profiles[key] = parse_profile(case[key], table)
            except ProfileError as error:
                errors.extend(f"{key}: {message}" for message in error.errors)
        if errors:
            raise CommandError("\n".join(errors))
        result = kinship(mode, *(profiles[key] for key in people), table=table, settings=settings)
        if options["json"]:
            self.stdout.write(json.dumps(result.to_json(), ensure_ascii=False, allow_nan=False))
            return
        self._print(mode, result, [profiles[key] for key in people], settings)

    def _table(self, path: Path | None) -> FrequencyTable:
        if path is None:
            return default_table()
        try:
            return FrequencyTable.from_csv(path)
        except (OSError, ValueError, UnicodeDecodeError) as error:
            raise CommandError(_("频率表无法读取：{error}").format(error=error)) from None

    def _case(self, source: str) -> dict[str, Any]:
        try:
            text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(_("无法读取输入：{error}").format(error=error)) from None
        try:
            case = json.loads(text)
        except json.JSONDecodeError as error:
            raise CommandError(
                _("输入不是合法的 JSON（第 {line} 行第 {column} 列）：{message}").format(
                    line=error.lineno, column=error.colno, message=error.msg
                )
            ) from None
        if not isinstance(case, dict):
            raise CommandError(_('输入应为对象：{"a": {位点: [等位基因, 等位基因]}, "b": {...}}'))
        return case

    def _print(self, mode: str, result: Any, profiles: list[Any], settings: KinshipSettings) -> None:
        roles = ROLES[mode]
        header = [_("位点"), *roles, "LR", "log10 LR", ""]
        rows = []
        for marker, lr in result.loci.items():
            genotypes = ["/".join(p[marker]) if marker in p else "—" for p in profiles]
            note = _("不符合遗传规律：突变因子 μ/A") if marker in result.inconsistent_loci else ""
            rows.append([marker, *genotypes, f"{lr:.4g}", f"{math.log10(lr):+.3f}", note])
        widths = [max(_width(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            self.stdout.write("  ".join(_pad(str(cell), widths[i]) for i, cell in enumerate(row)).rstrip())
        if result.skipped_markers:
            self.stdout.write(_("跳过（并非每人都检测）：{markers}").format(markers="、".join(result.skipped_markers)))
        self.stdout.write(
            _("频率表 {table}；μ = {mu}；θ = {theta}").format(
                table=result.frequencies, mu=settings.mu("*"), theta=settings.theta
            )
        )
        name = {"trio": "CPI", "duo": "CPI", "sibling": "FSI", "second-degree": "KI"}[mode]
        self.stdout.write(
            _("{n} 个位点，合并 {name} = {lr:.4g}（log10 = {log10:.3f}），阈值 {threshold:g}").format(
                n=len(result.loci),
                name=name,
                lr=result.combined_lr,
                log10=result.log10_lr,
                threshold=result.threshold_lr,
            )
        )
        if result.likely_exclusion:
            verdict = _("结论：{n} 个位点不符合遗传规律（≥ {k}），倾向排除").format(
                n=len(result.inconsistent_loci), k=settings.exclusion_loci
            )
        elif result.supported:
            verdict = _("结论：达到阈值，支持所检亲缘关系")
        elif mode in PARENTAGE_MODES and result.combined_lr >= result.threshold_lr / 5:
            # Chinese practice: 2,000 ≤ CPI < 10,000 asks for more loci.
            verdict = _("结论：未达阈值（{low:g}–{high:g} 之间），建议增加检测位点").format(
                low=result.threshold_lr / 5, high=result.threshold_lr
            )
        else:
            verdict = _("结论：未达阈值，不足以支持所检亲缘关系")
        self.stdout.write(verdict)


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
