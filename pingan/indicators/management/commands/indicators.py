"""``python manage.py indicators --org 3701 --period 2021``: every indicator for a unit and
period, with 同比 and 环比; ``--children`` ranks the unit's children; ``--json`` for scripts.

An operator's tool on the server: it sees the whole tree (no user, no jurisdiction).
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from pingan.indicators import engine, formatting
from pingan.indicators.declarations import Indicator, indicators
from pingan.indicators.periods import PeriodError, parse
from pingan.indicators.queries import children_of
from pingan.orgs import queries as orgs
from pingan.orgs.models import OrgUnit


def width(text: str) -> int:
    """Columns ``text`` takes in a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def pad(text: str, columns: int, *, right: bool = False) -> str:
    space = " " * max(columns - width(text), 0)
    return space + text if right else text + space


def table(header: list[str], rows: list[list[str]], *, right: set[int]) -> list[str]:
    """Aligned plain-text columns (numbers right-aligned)."""
    widths = [max(width(row[index]) for row in [header, *rows]) for index in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [pad(cell, widths[index], right=index in right) for index, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "  ".join("-" * column for column in widths))
    return lines


class Command(BaseCommand):
    help = "Print the indicators of an org unit for a period, with year-on-year and period-on-period change."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="org unit code, e.g. 3701 (Jinan)")
        parser.add_argument("--period", required=True, help="2021, 2021Q3, 2021-07 or 2021-07-15")
        parser.add_argument("--indicator", action="append", help="indicator code (repeatable); default: all")
        parser.add_argument("--children", action="store_true", help="also rank the unit's children")
        parser.add_argument("--json", action="store_true", help="machine-readable output with exact values")
        parser.add_argument(
            "--language",
            default=settings.LANGUAGE_CODE,
            choices=[code for code, _name in settings.LANGUAGES],
            help="language of names and labels",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with translation.override(options["language"]):
            self._handle(**options)

    def _handle(self, **options: Any) -> None:
        try:
            period = parse(options["period"])
        except PeriodError as error:
            raise CommandError(str(error)) from None
        chosen = self._indicators(options["indicator"])
        try:
            unit = orgs.unit_get(options["org"].strip())
        except OrgUnit.DoesNotExist:
            raise CommandError(_("未找到单位代码“%(code)s”。") % {"code": options["org"]}) from None

        cache = engine.QueryCache()
        results = engine.compute_all(chosen, org=unit, period=period, cache=cache)
        rankings: dict[str, list[engine.RankedUnit]] = {}
        if options["children"]:
            children = children_of(unit)
            for indicator in chosen:
                rankings[indicator.code] = engine.ranking(
                    indicator, parent=unit, period=period, cache=cache, children=children
                )

        if options["json"]:
            report = formatting.report_json(unit, period, results, rankings if options["children"] else None)
            self.stdout.write(json.dumps(report, ensure_ascii=False, indent=2))
            return
        self._print(unit, period, results, rankings)

    def _indicators(self, codes: list[str] | None) -> list[Indicator]:
        declared = indicators()
        if not codes:
            return list(declared.values())
        unknown = [code for code in codes if code not in declared]
        if unknown:
            raise CommandError(
                _("未知指标：%(codes)s。可用指标：%(known)s")
                % {"codes": "、".join(unknown), "known": "、".join(declared)}
            )
        return [declared[code] for code in codes]

    def _print(self, unit: OrgUnit, period: Any, results: list[engine.Result], rankings: dict[str, list]) -> None:
        first = results[0] if results else None
        self.stdout.write(_("单位：%(name)s（%(code)s）") % {"name": unit.name, "code": unit.code})
        line = _("期间：%(period)s") % {"period": period.label}
        if first is not None:
            line += "  " + _("同比对照：%(last_year)s  环比对照：%(previous)s") % {
                "last_year": first.last_year_period.label,
                "previous": first.previous_period.label,
            }
        self.stdout.write(line)
        self.stdout.write("")
        header = [_("指标"), _("数值"), _("单位"), _("上年同期"), _("同比"), _("上期"), _("环比")]
        rows = []
        for result in results:
            unit_kind = result.indicator.unit
            rows.append(
                [
                    result.indicator.name,
                    formatting.value_text(result.value, unit_kind),
                    formatting.unit_text(unit_kind),
                    formatting.value_text(result.last_year.value, unit_kind),
                    formatting.change_text(result.year_change, unit_kind),
                    formatting.value_text(result.previous.value, unit_kind),
                    formatting.change_text(result.period_change, unit_kind),
                ]
            )
        for text in table(header, rows, right={1, 3, 5}):
            self.stdout.write(text)
        reasons = sorted({r.current.missing_reason for r in results if r.current.missing})
        for reason in reasons:
            self.stdout.write(f"{formatting.NOT_AVAILABLE} {reason}")

        for result in results:
            ranked = rankings.get(result.indicator.code)
            if ranked is None:
                continue
            self.stdout.write("")
            self.stdout.write(_("%(indicator)s · 下级单位排名") % {"indicator": result.indicator.name})
            if not ranked:
                self.stdout.write(_("（无下级单位）"))
                continue
            rows = [
                [
                    str(position) if position is not None else formatting.NOT_AVAILABLE,
                    child.code,
                    child.name,
                    formatting.value_text(value, result.indicator.unit),
                ]
                for child, value, position in ranked
            ]
            for text in table([_("排名"), _("代码"), _("单位"), _("数值")], rows, right={0, 3}):
                self.stdout.write(text)
