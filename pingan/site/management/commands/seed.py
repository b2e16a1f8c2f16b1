"""``manage.py seed --scale small|city|province``: the demo province (pingan.core.seeding)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pingan.core import seeding


class Command(BaseCommand):
    help = (
        "Seed the demo province: the org tree, staff, citizens, partners and the documented demo accounts. "
        "Deterministic for a --seed; re-running adds only what is missing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", choices=seeding.SCALES, default="small")
        parser.add_argument("--seed", type=int, default=1, help="random seed (same seed, same data)")
        parser.add_argument(
            "--fraction",
            type=float,
            default=None,
            help="share of each city's 2020 population seeded as citizens (city: default 0.01 for Jinan; "
            "province: default 0.001)",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bars")
        parser.add_argument(
            "--credentials-file",
            type=Path,
            default=None,
            help="where the demo password is written (default: var/demo-credentials.txt)",
        )
        parser.add_argument(
            "--only",
            action="append",
            default=[],
            metavar="STEP",
            help="run only this step (a name or pattern such as 'accounts.*'; repeatable)",
        )
        parser.add_argument(
            "--recheck",
            action="store_true",
            help="run steps already recorded as done too (they check by natural keys and add what is missing)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        try:
            outcomes = seeding.run(
                scale=options["scale"],
                seed=options["seed"],
                fraction=options["fraction"],
                progress=not options["no_progress"],
                writer=self.stdout.write,
                credentials_file=options["credentials_file"],
                recheck=options["recheck"],
                only=options["only"],
            )
        except seeding.SeedError as error:
            raise CommandError(str(error)) from error
        ran = sum(not outcome.skipped for outcome in outcomes)
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded scale={options['scale']} seed={options['seed']}: {ran} step(s) run, "
                f"{len(outcomes) - ran} already done, {time.perf_counter() - started:.1f} s"
            )
        )
