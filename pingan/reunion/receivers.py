"""Reactions of 团圆 records to other apps' events: a clue the public sent about an alert
goes onto the record's timeline (the case officer reads it there, with the alert's page
one click away), and so does the alert's withdrawal."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from pingan.alerts import events as alert_events
from pingan.core import context, timeline
from pingan.reunion.actions import SUBJECT_TYPE
from pingan.reunion.models import PersonRecord


def _record_of(alert: Any) -> PersonRecord | None:
    if getattr(alert, "subject_type", None) != SUBJECT_TYPE:
        return None
    return PersonRecord.objects.filter(reference=alert.subject_id).first()


@receiver(alert_events.clue_received, dispatch_uid="reunion.clue_to_record")
def clue_to_record(sender: Any, alert: Any, clue: Any, **kwargs: Any) -> None:
    record = _record_of(alert)
    if record is None:
        return
    timeline.record(
        record,
        "reunion.clue_received",
        actor=None,
        data={
            "alert": alert.reference,
            "clue": clue.pk,
            "place": clue.place[:200],
            "seen_at": clue.seen_at.isoformat() if clue.seen_at else None,
            "located": clue.latitude is not None,
            "photo": bool(clue.photo),
        },
    )
    PersonRecord.objects.filter(pk=record.pk).update(last_action_at=context.now())


@receiver(alert_events.alert_withdrawn, dispatch_uid="reunion.alert_withdrawn")
def alert_withdrawn(sender: Any, alert: Any, reason: str, **kwargs: Any) -> None:
    record = _record_of(alert)
    if record is None:
        return
    timeline.record(
        record,
        "reunion.alert_withdrawn",
        actor=getattr(alert, "withdrawn_by", None),
        data={"alert": alert.reference, "reason": reason},
    )
