"""Check every hash chain of the timeline; name the first broken link of each."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from pingan.core import timeline


class Command(BaseCommand):
    help = "Verify the timeline's hash chains; exits non-zero and names the first broken link if any row was altered."

    def handle(self, *args: Any, **options: Any) -> None:
        report = timeline.verify_report()
        if not report.broken:
            self.stdout.write(f"intact: {report.events} events in {report.chains} chains")
            return
        for link in report.broken:
            self.stdout.write(f"BROKEN {link}")
        raise CommandError(
            f"timeline broken in {len(report.broken)} of {report.chains} chains ({report.events} events checked)"
        )
