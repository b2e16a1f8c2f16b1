"""``manage.py api_token <username> [--expiry-days N]``: issue an API token for an integration.

The token is printed once and stored only as a hash (knox); losing it means issuing a new
one. A token authenticates on its own, without the staff second factor (TOTP): that is by
design for machine-to-machine integrations, and why only an operator with shell access
can create one. Citizens' accounts get no tokens (they use the portal).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from knox.models import get_token_model

from pingan.accounts.models import Kind, User
from pingan.core import context, timeline

MAX_EXPIRY_DAYS = 3650


class Command(BaseCommand):
    help = "Create an API token for an account (printed once; stored hashed). Tokens bypass TOTP by design."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="badge number (staff) or username (partner)")
        parser.add_argument(
            "--expiry-days",
            type=int,
            default=None,
            help=f"days until the token expires (1..{MAX_EXPIRY_DAYS}); default: never",
        )
        parser.add_argument(
            "--revoke-all", action="store_true", help="delete every token of the account instead of creating one"
        )

    def handle(self, *args: Any, username: str, expiry_days: int | None, revoke_all: bool, **options: Any) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no account with username {username!r}")
        if not user.is_active:
            raise CommandError(f"account {username!r} is inactive")
        if user.kind == Kind.CITIZEN:
            raise CommandError("citizen accounts do not get API tokens; they sign in on the portal")
        if expiry_days is not None and not 1 <= expiry_days <= MAX_EXPIRY_DAYS:
            raise CommandError(f"--expiry-days must be between 1 and {MAX_EXPIRY_DAYS}")
        tokens = get_token_model().objects
        with context.acting_as(None, channel="command"), transaction.atomic():
            if revoke_all:
                count, _ = tokens.filter(user=user).delete()
                timeline.record(user, "api.tokens_revoked", data={"count": count})
                self.stdout.write(f"revoked {count} token(s) of {username}")
                return
            expiry = dt.timedelta(days=expiry_days) if expiry_days is not None else None
            instance, token = tokens.create(user=user, expiry=expiry)
            timeline.record(
                user,
                "api.token_created",
                data={"expires": instance.expiry.isoformat() if instance.expiry else None},
            )
        expires = f"expires {instance.expiry:%Y-%m-%d %H:%M %Z}" if instance.expiry else "never expires"
        self.stderr.write(f"API token for {user} ({expires}); it is shown only once:")
        self.stdout.write(token)
