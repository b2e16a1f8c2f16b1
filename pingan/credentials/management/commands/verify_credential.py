"""Verify a credential presentation (the text of its QR code), offline if given the files.

    python manage.py verify_credential 'PA1.…' --keys keys.json --revoked revoked.json
    python manage.py verify_credential - --json < payload.txt
    python manage.py verify_credential 'PA1.…'          # this server's published keys and list

Exit status: 0 valid, 1 invalid (the reason is printed), 2 malformed input (the payload, or
a keys / revocation file that cannot be read).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from pingan.credentials import verify


class Command(BaseCommand):
    help = "Verify a credential presentation; exit 0 valid, 1 invalid, 2 malformed input."
    # Offline verification must not depend on the server's own configuration being complete.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("payload", help="the presentation (PA1.…), or - to read it from standard input")
        parser.add_argument("--keys", type=Path, help="keys.json (default: this server's published keys)")
        parser.add_argument(
            "--revoked", type=Path, help="revoked.json (default: this server's list when --keys is not given)"
        )
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def fail(self, message: str) -> None:
        self.stderr.write(message)
        raise SystemExit(2)

    def _read(self, path: Path, what: str) -> Any:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            self.fail(f"{what} {path}: {error}")
            return None

    def handle(self, *args: Any, **options: Any) -> None:
        payload = options["payload"]
        if payload == "-":
            payload = sys.stdin.read()
        payload = payload.strip()
        try:
            if options["keys"] is not None:
                keyset = verify.KeySet.from_json(self._read(options["keys"], "keys"))
                source = str(options["keys"])
                revoked_document = self._read(options["revoked"], "revoked") if options["revoked"] else None
            else:
                from pingan.credentials import keys

                keyset = keys.keyset()
                source = "database"
                revoked_document = self._read(options["revoked"], "revoked") if options["revoked"] else None
            if revoked_document is not None:
                revoked = verify.load_revocation_list(revoked_document, keyset)
            elif options["keys"] is None:
                revoked = keys.revocation_list()
            else:
                revoked = None
        except (verify.KeySetError, verify.RevocationListError) as error:
            self.fail(f"{error}")
            return
        result = verify.verify(payload, keyset, revoked=revoked)
        if options["json"]:
            data = result.as_dict()
            data["keys"] = source
            data["revocation_checked"] = revoked is not None
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
        else:
            verdict = "VALID 有效" if result.valid else "INVALID 无效"
            self.stdout.write(f"{verdict}: {result.reason} / {result.reason_en}")
            for label, value in (
                ("kind", result.kind),
                ("serial", result.serial),
                ("issued", result.issued),
                ("expires", result.expires),
                ("generated_at", result.generated_at.isoformat() if result.generated_at else None),
                ("expires_at", result.expires_at.isoformat() if result.expires_at else None),
                ("kid", result.kid),
            ):
                if value:
                    self.stdout.write(f"  {label}: {value}")
            for code, value in result.disclosed.items():
                self.stdout.write(f"  {code}: {value}")
            if revoked is None:
                self.stdout.write("  (no revocation list given: revocations since generation not checked)")
        if result.code == "malformed":
            raise SystemExit(2)
        if not result.valid:
            raise SystemExit(1)
