"""Make a new credential signing key active; the old one is retired and stays published.

python manage.py rotate_credential_key [--suite Ed25519|ES256]
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from pingan.core import context
from pingan.credentials import actions, suites


class Command(BaseCommand):
    help = "Rotate the credential signing key (old keys stay published for verification)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--suite", choices=suites.names(), help="signature suite of the new key")

    def handle(self, *args: Any, **options: Any) -> None:
        with context.acting_as(None, channel="command"):
            try:
                key = actions.rotate_key(actor=None, suite=options["suite"])
            except ValidationError as error:
                raise CommandError("; ".join(error.messages)) from None
        self.stdout.write(f"active key: {key.kid} ({key.suite}); retired keys stay in keys.json")
