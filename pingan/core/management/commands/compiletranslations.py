"""Compile the .po catalogues to .mo with polib, so setting up needs no GNU gettext."""

from __future__ import annotations

from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Compile every locale/*/LC_MESSAGES/*.po under LOCALE_PATHS to .mo (only when stale)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="fail if a catalogue has untranslated or fuzzy entries"
        )

    def handle(self, *args, check: bool = False, **options):
        problems = []
        for base in settings.LOCALE_PATHS:
            for po_path in sorted(Path(base).glob("*/LC_MESSAGES/*.po")):
                catalogue = polib.pofile(str(po_path))
                missing = [entry.msgid for entry in catalogue.untranslated_entries()]
                fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]
                if check and (missing or fuzzy):
                    problems.append(
                        f"{po_path}: {len(missing)} untranslated, {len(fuzzy)} fuzzy (first: {(missing + fuzzy)[0]!r})"
                    )
                mo_path = po_path.with_suffix(".mo")
                if not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime:
                    catalogue.save_as_mofile(str(mo_path))
                    self.stdout.write(f"compiled {mo_path}")
        if problems:
            raise CommandError("\n".join(problems))
