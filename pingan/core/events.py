"""Domain events: Django signals sent only after the surrounding transaction commits,
so no receiver ever reacts to a change that was rolled back.

Each app declares its signals in its own ``events.py``; receivers live in the reacting
app's ``receivers.py`` and are connected in its ``AppConfig.ready()``.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.dispatch import Signal

log = logging.getLogger(__name__)


def on_commit(signal: Signal, *, sender: Any = None, **payload: Any) -> None:
    """Send ``signal`` once the current transaction commits (at once outside a transaction).

    A receiver that fails is logged and does not stop the other receivers: the change it
    reacts to is already committed and must not be reported as failed.
    """

    def send() -> None:
        for receiver, result in signal.send_robust(sender=sender, **payload):
            if isinstance(result, Exception):
                log.error("receiver %r of %r failed", receiver, signal, exc_info=result)

    transaction.on_commit(send, robust=False)


# Core events.
workflow_transitioned = Signal()  # sender=model class; item, step, actor
deadline_warning = Signal()  # sender=model class; clock, item
deadline_overdue = Signal()  # sender=model class; clock, item
