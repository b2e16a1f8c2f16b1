"""Reactions to other apps' events."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from pingan.reunion import events as reunion_events


@receiver(reunion_events.reunited, dispatch_uid="dna.forget_relatives")
def forget_relatives(
    sender: Any, missing_reference: str, found_reference: str, relative_ids: list[int], **kwargs: Any
) -> None:
    """A family is reunited: the relatives' DNA is destroyed unless they consented to keep it."""
    from pingan.dna import actions

    actions.relatives_forget(
        missing_reference=missing_reference, found_reference=found_reference, relative_ids=list(relative_ids or [])
    )
