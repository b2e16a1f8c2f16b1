"""Reactions of 团圆 records to other apps' events: a clue the public sent about an alert
goes onto the record's timeline (the case officer reads it there, with the alert's page
one click away), and so does the alert's withdrawal. The writes are actions'."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from pingan.alerts import events as alert_events
from pingan.reunion import actions


@receiver(alert_events.clue_received, dispatch_uid="reunion.clue_to_record")
def clue_to_record(sender: Any, alert: Any, clue: Any, **kwargs: Any) -> None:
    if getattr(alert, "subject_type", None) == actions.SUBJECT_TYPE:
        actions.record_clue_note(reference=alert.subject_id, alert=alert, clue=clue)


@receiver(alert_events.alert_withdrawn, dispatch_uid="reunion.alert_withdrawn")
def alert_withdrawn(sender: Any, alert: Any, reason: str, **kwargs: Any) -> None:
    if getattr(alert, "subject_type", None) == actions.SUBJECT_TYPE:
        actions.record_alert_withdrawn_note(reference=alert.subject_id, alert=alert, reason=reason)
