"""Reactions of the e-bike register to other apps' events (connected in ``EbikesConfig.ready()``)."""

from __future__ import annotations

from typing import Any

from pingan.ebikes import actions, certificates


def credential_issued(sender: Any, *, credential: Any, **kwargs: Any) -> None:
    """An e-services application issued a bicycle's certificate: remember its serial, so a
    transfer or a cancellation revokes it. (Certificates the register issues itself carry
    their serial already.)"""
    if credential.kind != certificates.KIND or credential.source_type == certificates.SOURCE_TYPE:
        return
    plate = credential.claims.get("plate_number")
    if plate:
        actions.ebike_credential_attach(serial=credential.serial, plate_number=plate, holder=credential.holder)


def connect() -> None:
    from pingan.credentials import events as credential_events

    credential_events.credential_issued.connect(credential_issued, dispatch_uid="ebikes.credential_issued")
