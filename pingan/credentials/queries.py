"""Reads of credentials, scoped by the access layer (citizens: their own; staff: their
jurisdiction over the issuing unit; auditors read)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from pingan.core import access
from pingan.core.identity import mask_name, mask_resident_id
from pingan.credentials import catalog
from pingan.credentials.models import Credential


def credentials_for(
    user: Any, *, kind: str | None = None, state: str | None = None, search: str = ""
) -> QuerySet[Credential]:
    query = access.scope(user, Credential.objects.select_related("org", "holder"))
    if kind:
        query = query.filter(kind=kind)
    if state:
        query = query.filter(state=state)
    search = search.strip().upper()
    if search:
        query = query.filter(serial__startswith=search)
    return query.order_by("-issued_at", "-id")


def credential_get(user: Any, serial: str) -> Credential:
    """The credential ``serial`` if ``user`` may see it (``Credential.DoesNotExist`` otherwise)."""
    return credentials_for(user).get(serial=serial)


def wallet_for(holder: Any) -> list[Credential]:
    """A citizen's own credentials, valid ones first."""
    if access.user_kind(holder) != "citizen":
        return []
    items = list(credentials_for(holder))
    return sorted(items, key=lambda c: (c.state != "valid", c.kind_spec.code, -c.issued_at.timestamp()))


# --- Showing claims ------------------------------------------------------------------------


def mask_value(claim: catalog.Claim, value: str) -> str:
    """A claim as staff pages show it (catalogue ``mask``)."""
    if not value:
        return ""
    if claim.mask == "none":
        return value
    if claim.mask == "name":
        return mask_name(value)
    if claim.mask == "resident_id":
        return mask_resident_id(value)
    if claim.mask == "year":
        return value[:4] + "-**-**"
    if claim.mask == "full":
        return "*" * min(len(value), 8)
    if len(value) <= 2:
        return value[0] + "*"
    keep = max(1, len(value) // 4)
    return value[:keep] + "*" * (len(value) - 2 * keep) + value[-keep:]


@dataclass(frozen=True)
class ClaimRow:
    code: str
    label: str
    value: str


def claim_rows(credential: Credential, *, masked: bool) -> list[ClaimRow]:
    """The credential's claims in catalogue order, masked for staff pages."""
    spec = credential.kind_spec
    claims = credential.claims
    rows = []
    for code, claim in spec.claims.items():
        value = claims.get(code, "")
        if claim.type == "sex" and value:
            value = {"M": "男", "F": "女"}.get(value, value)
            rows.append(ClaimRow(code, claim.label, value))
            continue
        rows.append(ClaimRow(code, claim.label, mask_value(claim, value) if masked else value))
    return rows
