"""Test doubles for the mail system and the SMS gateway: down for a number of sends,
then up; they keep what they sent so a test can count each message."""

from __future__ import annotations

import smtplib
import threading
import time
from typing import Any

from django.core.mail.backends.base import BaseEmailBackend

from pingan.notify import sms


class Outage:
    """Shared state of a flaky backend: fail the next ``failures`` sends, then work."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self, failures: int = 0, delay: float = 0.0) -> None:
        with self.lock:
            self.failures = failures
            self.delay = delay
            self.calls = 0
            self.sent: list[Any] = []

    def attempt(self, item: Any) -> bool:
        """Count one send; ``True`` if it goes through (and is kept)."""
        with self.lock:
            self.calls += 1
            if self.failures > 0:
                self.failures -= 1
                return False
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            self.sent.append(item)
        return True


MAIL = Outage()
SMS = Outage()


class FlakyEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Any) -> int:
        count = 0
        for message in email_messages:
            if not MAIL.attempt(message):
                raise smtplib.SMTPServerDisconnected("mail relay unreachable")
            count += 1
        return count


class RefusingEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Any) -> int:
        raise smtplib.SMTPRecipientsRefused({"x@example.invalid": (550, b"no such user")})


class FlakySmsBackend:
    def send(self, *, phone: str, text: str, reference: str) -> str:
        if not SMS.attempt({"phone": phone, "text": text, "reference": reference}):
            raise sms.TemporaryFailure("gateway timeout")
        return f"gw-{reference}"


class RefusingSmsBackend:
    def send(self, *, phone: str, text: str, reference: str) -> str:
        raise sms.PermanentFailure("number not in service")


class BrokenSmsBackend:
    """A gateway client with a bug: raises something that is not an SmsError."""

    def send(self, *, phone: str, text: str, reference: str) -> str:
        raise KeyError("response had no 'msgid'")
