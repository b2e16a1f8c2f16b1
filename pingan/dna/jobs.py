"""The nightly re-screen: a periodic job (``manage.py worker`` runs it on every pass) that
re-searches the whole database once a day, at or after the configured hour
(``catalog/dna.yaml``: ``rescreen_hour``), with the current frequency table.

Idempotent: one ``Rescreen`` row per day (two workers never both run it), existing
candidates are updated in place and an excluded pair is never re-opened."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from pingan.core import timeline
from pingan.dna import screening
from pingan.dna.config import config
from pingan.dna.models import Rescreen

log = logging.getLogger(__name__)


def nightly_rescreen(*, now: dt.datetime | None = None) -> str:
    moment = timezone.localtime(now or timezone.now())
    if moment.hour < config().rescreen_hour:
        return "not yet"
    day = moment.date()
    if Rescreen.objects.filter(day=day).exists():
        return "done today"
    try:
        with transaction.atomic():
            run = Rescreen.objects.create(day=day, frequencies=screening.table().name, started_at=timezone.now())
    except IntegrityError:
        return "done today"  # another worker took it
    outcome = screening.rescreen_all()
    run.finished_at = timezone.now()
    run.searches = outcome.searches
    run.created = len(outcome.created)
    run.updated = len(outcome.updated)
    run.save(update_fields=["finished_at", "searches", "created", "updated"])
    timeline.record(
        ("dna.rescreen", day.isoformat()),
        "dna.rescreened",
        actor=None,
        data={"searches": run.searches, "created": run.created, "updated": run.updated, "frequencies": run.frequencies},
    )
    return f"{run.searches} searches, {run.created} new, {run.updated} updated"
