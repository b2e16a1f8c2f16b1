"""``python manage.py service_catalogue [--markdown] [--language en]``: the service
catalogue's counts by department — services, zero trips (零跑腿), done in one go (一次办好),
self-service kiosk items — all computed from ``catalog/services/*.yaml``.

``--markdown`` prints the table pasted into docs/catalogue.md. A catalogue that does not
load is reported with its file and line (exit status 1).
"""

from __future__ import annotations

import unicodedata
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from pingan.core.catalog import CatalogError
from pingan.eservices import catalog
from pingan.orgs import queries as orgs

KIOSK_NAMES = {
    "id_card": ("居民身份证", "ID card"),
    "residence": ("居住证", "Residence permit"),
    "exit_entry": ("出入境", "Exit and entry"),
    "vehicle": ("车驾管", "Vehicles and drivers"),
}


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def plain_table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(width(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [
            (" " * (widths[i] - width(cell)) + cell) if i else (cell + " " * (widths[i] - width(cell)))
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def markdown_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


class Command(BaseCommand):
    help = "Count the services of the catalogue by department (total, zero trips, one go, kiosk items)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--markdown", action="store_true", help="print Markdown tables (for docs/catalogue.md)")
        parser.add_argument(
            "--language",
            default=settings.LANGUAGE_CODE,
            choices=[code for code, _name in settings.LANGUAGES],
            help="language of department and category names",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with translation.override(options["language"]):
            self._handle(markdown=options["markdown"], english=options["language"].startswith("en"))

    def _handle(self, *, markdown: bool, english: bool) -> None:
        try:
            summary = catalog.summary()
        except CatalogError as error:
            raise CommandError(str(error)) from None
        names = orgs.departments()
        header = [_("部门"), _("事项"), _("零跑腿"), _("一次办好"), _("自助终端")]
        rows = []
        for code in catalog.departments_in_use():
            counts = summary["by_department"][code]
            rows.append(
                [
                    f"{names.get(code, code)} (`{code}`)" if markdown else f"{names.get(code, code)} ({code})",
                    str(counts["total"]),
                    str(counts["zero_trip"]),
                    str(counts["one_go"]),
                    str(counts["kiosk"]),
                ]
            )
        total = summary["total"]
        kiosk_total = sum(summary["kiosk"].values())
        totals = [_("合计"), str(total), str(summary["zero_trip"]), str(summary["one_go"]), str(kiosk_total)]
        rates = [_("比例"), "", percent(summary["zero_trip"], total), percent(summary["one_go"], total), ""]
        if markdown:
            rows += [[f"**{cell}**" if cell else "" for cell in totals], rates]
            lines = markdown_table(header, rows)
        else:
            lines = plain_table(header, [*rows, totals, rates])
        kiosk_header = [_("自助终端类别"), _("事项")]
        kiosk_rows = [
            [KIOSK_NAMES[code][1 if english else 0] + (f" (`{code}`)" if markdown else f" ({code})"), str(count)]
            for code, count in summary["kiosk"].items()
        ]
        lines.append("")
        lines += markdown_table(kiosk_header, kiosk_rows) if markdown else plain_table(kiosk_header, kiosk_rows)
        self.stdout.write("\n".join(lines))
