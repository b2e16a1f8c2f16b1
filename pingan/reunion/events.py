"""Domain events of 团圆 records, sent on commit (``pingan.core.events.on_commit``).

Other apps react in their own ``receivers.py``; the DNA store, for one, deletes relatives'
samples and profiles after a reunion unless they consented to keep them::

    from pingan.reunion import events as reunion_events

    @receiver(reunion_events.reunited)
    def forget_relatives(sender, reunion_id, missing_reference, found_reference, relative_ids, **kwargs): ...
"""

from django.dispatch import Signal

# sender=PersonRecord; record, actor — a record became active (verified, or registered by
# the police): matching and DNA searches may use it from now on.
record_activated = Signal()
# sender=PersonRecord; record, actor, close_code — a record ended without a reunion.
record_closed = Signal()
# sender=Reunion; reunion_id, missing_reference, found_reference, relative_ids (the
# Relative ids of both records), method, actor.
reunited = Signal()
