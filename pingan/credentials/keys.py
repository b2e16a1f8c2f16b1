"""The server's signing keys and what is published from them: ``keys.json`` (every key,
retired ones included) and the signed revocation list ``revoked.json``.

Private keys are generated here, stored encrypted (:class:`~pingan.core.identity.EncryptedTextField`,
keys under ``var/``) and used only through :func:`sign_presentation` and
:func:`sign_document`; nothing returns them to a caller outside this module.
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from pingan.core import context, timeline
from pingan.credentials import signing, suites, verify
from pingan.credentials.models import Credential, SigningKey

ISSUER = "平安警务平台 Pingan"


def default_suite() -> str:
    return getattr(settings, "CREDENTIALS_SIGNATURE_SUITE", suites.DEFAULT)


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def new_key(suite_name: str | None = None, *, valid_from: dt.datetime | None = None) -> SigningKey:
    """A fresh key pair of ``suite_name`` (unsaved)."""
    suite = suites.get(suite_name or default_suite())
    private = suite.generate()
    moment = valid_from or timezone.now()
    return SigningKey(
        kid=f"{suite.name.lower()}-{moment:%Y%m%d}-{secrets.token_hex(3)}",
        suite=suite.name,
        public_key=suite.export_public(private),
        private_key=suites.b64url_encode(suite.export_private(private)),
        is_active=True,
        valid_from=moment,
    )


def active_key() -> SigningKey:
    """The key that signs now; the first call on a new installation creates it."""
    key = SigningKey.objects.filter(is_active=True).first()
    if key is not None:
        return key
    try:
        with transaction.atomic():
            key = new_key()
            key.save()
            timeline.record(key, "credentials.key_created", data={"kid": key.kid, "suite": key.suite})
    except IntegrityError:  # another process created it at the same moment
        key = SigningKey.objects.get(is_active=True)
    return key


@functools.lru_cache(maxsize=32)
def _private(kid: str, suite_name: str, encoded: str) -> Any:
    return suites.get(suite_name).load_private(suites.b64url_decode(encoded))


def _private_key(key: SigningKey) -> Any:
    return _private(key.kid, key.suite, key.private_key)


def rotate(*, suite_name: str | None = None, actor: Any = None) -> SigningKey:
    """Retire the active key (it stays published) and make a new one active."""
    with transaction.atomic():
        now = timezone.now()
        old = SigningKey.objects.select_for_update().filter(is_active=True).first()
        if old is not None:
            SigningKey.objects.filter(pk=old.pk).update(is_active=False, retired_at=now)
        key = new_key(suite_name, valid_from=now)
        key.save()
        timeline.record(
            key,
            "credentials.key_rotated",
            actor=actor,
            data={"kid": key.kid, "suite": key.suite, "retired": old.kid if old else None},
        )
    return key


def sign_presentation(body: dict[str, Any], key: SigningKey) -> str:
    return signing.encode_presentation(body, suite=suites.get(key.suite), private_key=_private_key(key))


def sign_document(body: Mapping[str, Any], key: SigningKey) -> dict[str, Any]:
    return signing.sign_document(body, suite=suites.get(key.suite), private_key=_private_key(key))


def sign_bytes(data: bytes, key: SigningKey) -> str:
    return suites.b64url_encode(suites.get(key.suite).sign(_private_key(key), data))


def verify_bytes(data: bytes, signature: str, kid: str) -> bool:
    """Does ``signature`` (base64url) by key ``kid`` cover ``data``? (Unknown key: no.)"""
    key = SigningKey.objects.filter(kid=kid).first()
    if key is None:
        return False
    suite = suites.get(key.suite)
    try:
        raw = suites.b64url_decode(signature)
        public = suite.load_public(key.public_key)
    except ValueError:
        return False
    return suite.signature_well_formed(raw) and suite.verify(public, raw, data)


# --- What is published ---------------------------------------------------------------------


def keyset_document() -> dict[str, Any]:
    """``keys.json``: every key ever used, with its suite and when it was active."""
    active_key()
    return {
        "issuer": ISSUER,
        "format": verify.PREFIX,
        "keys": [
            {
                "kid": key.kid,
                "suite": key.suite,
                "public_key": key.public_key,
                "valid_from": _iso(key.valid_from),
                "retired_at": _iso(key.retired_at),
                "status": "active" if key.is_active else "retired",
            }
            for key in SigningKey.objects.order_by("valid_from", "id")
        ],
    }


def keyset() -> verify.KeySet:
    """The published keys, loaded (their public keys parsed once while the list is unchanged)."""
    return verify.load_keyset(keyset_document())


def revocation_list() -> verify.RevocationList:
    """The current revocations, read from the database (what this server's own checks use)."""
    rows = Credential.objects.filter(state__in=("revoked", "suspended")).values_list("serial", "state")
    revoked, suspended = set(), set()
    for serial, state in rows.iterator():
        (revoked if state == "revoked" else suspended).add(serial)
    return verify.RevocationList(revoked=frozenset(revoked), suspended=frozenset(suspended))


def revocation_list_document(now: dt.datetime | None = None) -> dict[str, Any]:
    """``revoked.json``: serials revoked or suspended now, signed with the active key."""
    key = active_key()
    rows = Credential.objects.filter(state__in=("revoked", "suspended")).order_by("status_changed_at", "serial")
    revoked, suspended = [], []
    for serial, state, changed in rows.values_list("serial", "state", "status_changed_at").iterator():
        (revoked if state == "revoked" else suspended).append({"id": serial, "at": _iso(changed)})
    body = {
        "v": 1,
        "type": "pingan.revocation_list",
        "issuer": ISSUER,
        "kid": key.kid,
        "issued_at": _iso(now or context.now()),
        "revoked": revoked,
        "suspended": suspended,
    }
    return sign_document(body, key)
