"""The SMS gateway interface: a backend class chosen by ``settings.NOTIFY_SMS_BACKEND``
(a dotted path; default :class:`FileBackend`), like Django's e-mail backends.

A backend implements ``send(*, phone, text, reference) -> str`` (the gateway's id for
the message) and raises :class:`TemporaryFailure` (gateway down, throttled: retried) or
:class:`PermanentFailure` (number refused: never retried). Anything else it raises is
treated as temporary. A real gateway (运营商短信平台, 政务短信平台) is one more class.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import uuid
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

DEFAULT_BACKEND = "pingan.notify.sms.FileBackend"


class SmsError(Exception):
    pass


class TemporaryFailure(SmsError):
    """The gateway could not take the message now; the outbox retries it."""


class PermanentFailure(SmsError):
    """The gateway will never take this message (e.g. the number does not exist)."""


class SmsBackend(Protocol):
    def send(self, *, phone: str, text: str, reference: str) -> str: ...


class FileBackend:
    """Demo and development: appends one JSON line per message to
    ``<VAR_DIR>/sms/<date>.jsonl`` (``settings.NOTIFY_SMS_DIR`` to change the directory).

    The file holds the full mobile number, as a gateway would receive it: the directory is
    created mode 0700 and each file 0600.
    """

    _lock = threading.Lock()

    def __init__(self, directory: str | Path | None = None) -> None:
        configured = directory or getattr(settings, "NOTIFY_SMS_DIR", None)
        self.directory = Path(configured) if configured else Path(settings.VAR_DIR) / "sms"

    def path_for(self, day: dt.date) -> Path:
        return self.directory / f"{day.isoformat()}.jsonl"

    def send(self, *, phone: str, text: str, reference: str) -> str:
        gateway_id = uuid.uuid4().hex
        line = json.dumps(
            {
                "id": gateway_id,
                "at": timezone.now().isoformat(),
                "reference": reference,
                "phone": phone,
                "text": text,
            },
            ensure_ascii=False,
        )
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            path = self.path_for(timezone.localdate())
            with self._lock:
                fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                with os.fdopen(fd, "a", encoding="utf-8") as handle:
                    handle.write(line + "\n")
        except OSError as error:  # a full disk is an outage, not a bad number
            raise TemporaryFailure(f"cannot write {self.directory}: {error}") from error
        return gateway_id


class LocmemBackend:
    """Tests: keeps what was sent in ``LocmemBackend.outbox`` (a list of dicts)."""

    outbox: list[dict[str, Any]] = []

    def send(self, *, phone: str, text: str, reference: str) -> str:
        gateway_id = uuid.uuid4().hex
        LocmemBackend.outbox.append({"id": gateway_id, "phone": phone, "text": text, "reference": reference})
        return gateway_id


def get_backend() -> SmsBackend:
    """A new instance of the configured backend."""
    path = getattr(settings, "NOTIFY_SMS_BACKEND", None) or DEFAULT_BACKEND
    return import_string(path)()


def send(*, phone: str, text: str, reference: str) -> str:
    """Send one SMS through the configured backend (raises :class:`SmsError` subclasses)."""
    return get_backend().send(phone=phone, text=text, reference=reference)
