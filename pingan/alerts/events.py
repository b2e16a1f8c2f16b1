"""Domain events of alerts, sent on commit (``pingan.core.events.on_commit``).

The app that published an alert finds its own subject on the alert (``alert.subject_type``,
``alert.subject_id``) and reacts in its ``receivers.py``::

    from pingan.alerts import events as alert_events

    @receiver(alert_events.clue_received)
    def clue_to_case(sender, alert, clue, **kwargs):
        if alert.subject_type == "reunion.record": ...
"""

from django.dispatch import Signal

alert_published = Signal()  # sender=Alert; alert
alert_widened = Signal()  # sender=Alert; alert, radius_km, delivered (new deliveries in this push)
alert_withdrawn = Signal()  # sender=Alert; alert, reason ("found" | "false_report" | "other")
clue_received = Signal()  # sender=Clue; alert, clue
clue_triaged = Signal()  # sender=Clue; alert, clue
