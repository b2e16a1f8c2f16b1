"""Who is acting, from where: set per request by middleware, per command by ``acting_as``.

The timeline and the access layer read it, so actions need not thread the request through.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ActorContext:
    user: Any = None
    ip: str | None = None
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    channel: str = "system"  # web, api, counter, kiosk, command, system


_SYSTEM = ActorContext(request_id="system")
_current: contextvars.ContextVar[ActorContext | None] = contextvars.ContextVar("pingan_actor", default=None)


def current() -> ActorContext:
    return _current.get() or _SYSTEM


@contextlib.contextmanager
def acting_as(user: Any = None, *, ip: str | None = None, channel: str = "command") -> Iterator[ActorContext]:
    token = _current.set(ActorContext(user=user, ip=ip, channel=channel))
    try:
        yield current()
    finally:
        _current.reset(token)


def set_for_request(context: ActorContext) -> contextvars.Token:
    return _current.set(context)


def reset(token: contextvars.Token) -> None:
    _current.reset(token)


def set_user(user: Any) -> None:
    """Record the user an API authenticator identified after the middleware ran."""
    now = current()
    _current.set(ActorContext(user=user, ip=now.ip, request_id=now.request_id, channel=now.channel))


# --- Back-dated history (demo seeding, imports of legacy records) ----------------------

_backdated: contextvars.ContextVar[dt.datetime | None] = contextvars.ContextVar("pingan_backdated", default=None)


def now() -> dt.datetime:
    """The moment business rules (state changes, deadlines) take as "now"."""
    from django.utils import timezone

    return _backdated.get() or timezone.now()


def backdated_to() -> dt.datetime | None:
    return _backdated.get()


@contextlib.contextmanager
def backdated(moment: dt.datetime) -> Iterator[None]:
    """Run business rules as of ``moment`` — for seeding demo history and importing legacy
    records, never reachable from a request. The timeline still records the real time of
    each event and notes the moment it stands for (``data["backdated_to"]``)."""
    token = _backdated.set(moment)
    try:
        yield
    finally:
        _backdated.reset(token)
