"""The e-bike registration certificate (电动自行车登记证, credential kind
``ebike_registration``): issued through ``pingan.credentials.actions`` — one call — and
revoked there when the bicycle changes owner or its registration is cancelled.

Issued as the acting officer where one acts (the credentials app checks their
jurisdiction again), otherwise as the system: a citizen confirming a transfer, or an
e-services step already authorised by the application's workflow.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from pingan.core import access
from pingan.ebikes.models import EBike
from pingan.orgs.models import Kind as OrgKind
from pingan.orgs.models import OrgUnit

KIND = "ebike_registration"
SOURCE_TYPE = "ebikes.ebike"


def claims_for(ebike: EBike, *, registered_on: dt.date | None = None) -> dict[str, Any]:
    """The claims the certificate carries (catalog/credentials.yaml, kind ebike_registration)."""
    owner = ebike.owner
    if owner is None or ebike.plate is None:
        raise ValueError("an e-bike certificate needs an owner and a plate")
    day = registered_on or timezone.localdate(ebike.registered_at or timezone.now())
    return {
        "name": owner.name,
        "id_number": owner.citizen.id_number,
        "plate_number": ebike.plate.number,
        "brand_model": f"{ebike.brand} {ebike.model}",
        "frame_number": ebike.frame_number,
        "motor_number": ebike.motor_number,
        "color": ebike.colour,
        "registered_on": day.isoformat(),
    }


def issuing_org(ebike: EBike) -> OrgUnit:
    """The unit that signs: the handling unit (a grid's station; a department's bureau)."""
    org = ebike.org
    if org.kind == OrgKind.GRID and org.parent is not None:
        return org.parent
    if org.kind == OrgKind.DEPARTMENT and org.department != "traffic" and org.parent is not None:
        return org.parent
    return org


def issue(ebike: EBike, *, actor: Any, registered_on: dt.date | None = None) -> str:
    """Issue the certificate to the bicycle's owner; returns its serial."""
    from pingan.credentials import actions as credentials

    signer = actor if access.user_kind(actor) == "staff" else None
    credential = credentials.issue(
        kind=KIND,
        holder=ebike.owner,
        claims=claims_for(ebike, registered_on=registered_on),
        actor=signer,
        org=issuing_org(ebike),
        source=(SOURCE_TYPE, str(ebike.pk)),
    )
    return credential.serial


def revoke(serial: str, *, reason: str) -> bool:
    """Revoke the certificate ``serial`` (as the system: the e-bike action that calls this
    has checked the actor). ``False`` if there is none or it is already revoked."""
    if not serial:
        return False
    from pingan.credentials import actions as credentials
    from pingan.credentials.models import Credential

    credential = Credential.objects.filter(serial=serial, kind=KIND).first()
    if credential is None or credential.state == "revoked":
        return False
    credentials.revoke(credential, actor=None, reason=reason)
    return True
