"""``manage.py totp_reset <badge>``: remove a staff member's TOTP devices (lost phone).

For operators, when no administrator can do it on the staff page (e.g. the only
administrator lost their own phone). The staff member sets up a new device at their
next sign-in. Recorded on the timeline as done by the system, from the command line.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pingan.accounts import actions
from pingan.accounts.models import Kind, User
from pingan.core import context


class Command(BaseCommand):
    help = "Remove a staff member's TOTP devices so they set up a new one at their next sign-in."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("badge", help="the staff member's badge number (6 digits)")

    def handle(self, *args: Any, badge: str, **options: Any) -> None:
        user = User.objects.filter(username=badge, kind=Kind.STAFF).first()
        if user is None:
            raise CommandError(f"no staff member with badge number {badge!r}")
        with context.acting_as(None, channel="command"):
            removed = actions.totp_device_reset(user=user, actor=None)
        self.stdout.write(
            f"{user.name} ({badge}): {removed} TOTP device(s) removed; a new one is set up at next sign-in"
        )
