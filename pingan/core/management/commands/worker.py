"""The background worker: every ``--interval`` seconds, sweep deadline clocks (warning at
80%, overdue) and run the periodic jobs apps registered in ``registry.periodic_jobs``.

Stops cleanly on SIGTERM/SIGINT (after the current pass). Several workers may run side
by side: the sweep skips rows another worker holds.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection

from pingan.core import context, deadlines, registry

log = logging.getLogger("pingan.worker")


def run_pass() -> dict[str, str]:
    """One pass: the sweep, then each registered job; a failing job does not stop the others."""
    outcomes: dict[str, str] = {}
    jobs = [("deadlines.sweep", deadlines.sweep), *registry.periodic_jobs.items()]
    with context.acting_as(None, channel="system"):
        for name, job in jobs:
            try:
                outcomes[name] = str(job())
            except Exception:  # a job's failure is logged; the worker keeps going
                log.exception("periodic job %s failed", name)
                outcomes[name] = "failed"
    return outcomes


class Command(BaseCommand):
    help = "Run the background worker (deadline sweep and registered periodic jobs)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--interval", type=float, default=30.0, help="seconds between passes (default 30)")
        parser.add_argument("--once", action="store_true", help="run one pass and exit")

    def handle(self, *args: Any, interval: float, once: bool, **options: Any) -> None:
        stop = threading.Event()

        def request_stop(signum: int, frame: FrameType | None) -> None:
            log.info("worker: signal %s, stopping after this pass", signum)
            stop.set()

        previous = {}
        if not once and threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                previous[signum] = signal.signal(signum, request_stop)
        passes = 0
        try:
            while True:
                if not connection.in_atomic_block:
                    close_old_connections()  # a long-running process: drop broken or expired connections
                outcomes = run_pass()
                passes += 1
                summary = "; ".join(f"{name}: {outcome}" for name, outcome in outcomes.items())
                if once:
                    self.stdout.write(summary)
                    return
                log.debug("worker pass %d: %s", passes, summary)
                if stop.wait(interval):
                    self.stdout.write(f"worker stopped after {passes} passes")
                    return
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
