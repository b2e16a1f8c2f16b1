"""Offline verification of credential presentations (the text inside a credential's QR code).

Pure: the standard library, ``cryptography`` and :mod:`pingan.credentials.suites` — no
Django, no database, no network. A relying party needs this file, ``suites.py`` and the
published ``keys.json`` (and, to see revocations, ``revoked.json``)::

    import json
    from pingan.credentials import verify

    keyset = verify.KeySet.from_json(json.load(open("keys.json")))
    revoked = verify.load_revocation_list(json.load(open("revoked.json")), keyset)
    result = verify.verify(payload, keyset, revoked=revoked)
    result.valid, result.code, result.reason, result.reason_en, result.disclosed

The format (docs/credentials.md):

    PA1.<base64url(JSON body, UTF-8)>.<base64url(signature over "PA1.<base64url(body)>")>

Body keys: ``v`` (1), ``kid``, ``k`` (kind), ``id`` (serial), ``st`` (status at generation),
``iat`` (issued, YYYY-MM-DD), ``exp`` (valid until, YYYY-MM-DD or null), ``gen`` and ``pex``
(generated at / presentation expires at, Unix seconds), ``c`` (disclosed claims), ``p``
(disclosed predicates, true/false). Dates are China Standard Time (UTC+8, no DST).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from json.scanner import make_scanner
from typing import Any

from pingan.credentials import suites

PREFIX = "PA1"
VERSION = 1
MAX_PAYLOAD_CHARS = 4096
MAX_TIMESTAMP = 2**40  # Unix seconds: far beyond any real date, within what datetime represents
# A presentation generated up to this many seconds "in the future" is accepted (clock skew).
CLOCK_SKEW_SECONDS = 30
CHINA_OFFSET_SECONDS = 8 * 3600
CHINA = dt.timezone(dt.timedelta(seconds=CHINA_OFFSET_SECONDS), "CST")
EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
STATUSES = ("valid", "suspended", "revoked")

# code -> (zh-hans, en). The zh text is what users read; the code is for programs.
REASONS: dict[str, tuple[str, str]] = {
    "valid": (
        "有效：签名正确，证照状态正常。",
        "Valid: the signature is correct and the credential is in good standing.",
    ),
    "malformed": (
        "格式错误：这不是本平台电子证照出示码的内容，或内容不完整。",
        "Malformed: not a Pingan credential presentation, or incomplete.",
    ),
    "unknown_key": (
        "签名密钥未知：该密钥不在已公布的密钥列表中。",
        "Unknown key: the signing key is not among the published keys.",
    ),
    "key_retired": (
        "签名密钥已停用：出示码的生成时间晚于该密钥停用时间。",
        "Retired key: the presentation was generated after its signing key was retired.",
    ),
    "wrong_signature": (
        "签名错误：签名格式不符合所用算法，或并非由所标示的密钥签发。",
        "Wrong signature: malformed for its suite, or made by a different key than the one named.",
    ),
    "tampered": (
        "内容被篡改：内容与签名不符。",
        "Tampered: the content does not match its signature.",
    ),
    "not_yet_valid": (
        "生成时间晚于当前时间：请核对本设备的时钟。",
        "Generated in the future: check this device's clock.",
    ),
    "presentation_expired": (
        "出示码已过期：请持证人刷新后重新出示（截图无效）。",
        "Presentation expired: ask the holder to refresh it (screenshots go stale).",
    ),
    "credential_expired": ("证照已超过有效期。", "The credential has expired."),
    "revoked": ("证照已被撤销。", "The credential has been revoked."),
    "suspended": ("证照已暂停使用。", "The credential is suspended."),
}


class KeySetError(ValueError):
    """``keys.json`` is not a valid key set."""


class RevocationListError(ValueError):
    """``revoked.json`` is malformed, or its signature does not verify."""


# --- Keys ------------------------------------------------------------------------------


def _timestamp(value: Any, what: str) -> float | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise KeySetError(f"{what}: expected an ISO 8601 time")
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise KeySetError(f"{what}: not an ISO 8601 time: {value!r}") from None
    if moment.tzinfo is None:
        raise KeySetError(f"{what}: the time must carry a zone (e.g. Z)")
    return moment.timestamp()


@dataclass(frozen=True)
class PublishedKey:
    kid: str
    suite: str
    public_key: Any
    valid_from: float | None = None
    retired_at: float | None = None

    @property
    def scheme(self) -> suites.Suite:
        return suites.get(self.suite)


class KeySet:
    """The published public keys by key id (build once, verify many)."""

    def __init__(self, keys: Iterable[PublishedKey]) -> None:
        self.keys: dict[str, PublishedKey] = {}
        self.suites: dict[str, suites.Suite] = {}  # each key's suite, looked up once
        for key in keys:
            if key.kid in self.keys:
                raise KeySetError(f"key {key.kid!r} listed twice")
            try:
                self.suites[key.kid] = suites.get(key.suite)
            except LookupError as error:
                raise KeySetError(f"key {key.kid!r}: {error}") from None
            self.keys[key.kid] = key

    @classmethod
    def from_json(cls, document: Mapping[str, Any] | str | bytes) -> KeySet:
        """From the ``keys.json`` document (parsed, or its text)."""
        if isinstance(document, str | bytes):
            try:
                document = json.loads(document)
            except ValueError as error:
                raise KeySetError(f"not JSON: {error}") from None
        if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
            raise KeySetError('a key set is an object with a "keys" list')
        keys = []
        for index, entry in enumerate(document["keys"]):
            if not isinstance(entry, Mapping):
                raise KeySetError(f"keys[{index}]: expected an object")
            kid, suite_name, public = entry.get("kid"), entry.get("suite"), entry.get("public_key")
            if not isinstance(kid, str) or not kid or not isinstance(suite_name, str) or not isinstance(public, str):
                raise KeySetError(f"keys[{index}]: kid, suite and public_key are required strings")
            try:
                suite = suites.get(suite_name)
            except LookupError as error:
                raise KeySetError(f"keys[{index}] ({kid}): {error}") from None
            try:
                loaded = suite.load_public(public)
            except ValueError as error:
                raise KeySetError(f"keys[{index}] ({kid}): bad public key: {error}") from None
            keys.append(
                PublishedKey(
                    kid=kid,
                    suite=suite_name,
                    public_key=loaded,
                    valid_from=_timestamp(entry.get("valid_from"), f"keys[{index}].valid_from"),
                    retired_at=_timestamp(entry.get("retired_at"), f"keys[{index}].retired_at"),
                )
            )
        return cls(keys)

    def get(self, kid: str) -> PublishedKey | None:
        return self.keys.get(kid)

    def __len__(self) -> int:
        return len(self.keys)


# The last document turned into a KeySet, and a copy of it as it was then: a verifier that
# hands ``verify()`` the ``keys.json`` document on every call (or a server that reads it
# from its database on every request) parses and loads its public keys once, not on every
# call. Reused only for a document *equal* to the copy, so a changed document (a new key,
# a retirement) is loaded afresh.
_loaded_keyset: tuple[Any, KeySet] | None = None


def load_keyset(document: Mapping[str, Any] | str | bytes) -> KeySet:
    """:meth:`KeySet.from_json`, remembering the last document loaded."""
    global _loaded_keyset
    cached = _loaded_keyset
    if cached is not None and type(cached[0]) is type(document) and cached[0] == document:
        return cached[1]
    keyset = KeySet.from_json(document)
    _loaded_keyset = (copy.deepcopy(document), keyset)
    return keyset


# --- Revocation list ---------------------------------------------------------------------


def canonical_json(body: Any) -> bytes:
    """The bytes a revocation list's signature covers (sorted keys, no spaces, ASCII)."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


@dataclass(frozen=True)
class RevocationList:
    revoked: frozenset[str]
    suspended: frozenset[str] = frozenset()
    issued_at: float | None = None
    kid: str = ""


# The last signed revocation list read from a document, by the key set it was checked
# against and a copy of the document: ``verify(..., revoked=<document>)`` checks the list's
# signature once per document, not on every call. Reused only for an equal document and the
# same KeySet object, so an altered list is checked (and refused) afresh.
_loaded_revocations: tuple[KeySet, Any, RevocationList] | None = None


def _revocations_from_document(document: Mapping[str, Any] | str | bytes, keyset: KeySet) -> RevocationList:
    global _loaded_revocations
    cached = _loaded_revocations
    if cached is not None and cached[0] is keyset and type(cached[1]) is type(document) and cached[1] == document:
        return cached[2]
    revocations = load_revocation_list(document, keyset)
    _loaded_revocations = (keyset, copy.deepcopy(document), revocations)
    return revocations


def load_revocation_list(document: Mapping[str, Any] | str | bytes, keyset: KeySet) -> RevocationList:
    """Check the signature of a ``revoked.json`` document and read it."""
    if isinstance(document, str | bytes):
        try:
            document = json.loads(document)
        except ValueError as error:
            raise RevocationListError(f"not JSON: {error}") from None
    if not isinstance(document, Mapping):
        raise RevocationListError('a revocation list is an object with "body" and "signature"')
    body, signature = document.get("body"), document.get("signature")
    if not isinstance(body, Mapping) or not isinstance(signature, str):
        raise RevocationListError('a revocation list is an object with "body" and "signature"')
    key = keyset.get(body.get("kid")) if isinstance(body.get("kid"), str) else None
    if key is None:
        raise RevocationListError("the revocation list is signed with an unknown key")
    try:
        raw = suites.b64url_decode(signature)
    except ValueError:
        raise RevocationListError("the revocation list's signature is not base64url") from None
    if not suites.get(key.suite).verify(key.public_key, raw, canonical_json(body)):
        raise RevocationListError("the revocation list's signature does not verify: it was altered")
    revoked, suspended = body.get("revoked"), body.get("suspended", [])
    if not isinstance(revoked, list) or not isinstance(suspended, list):
        raise RevocationListError('"revoked" and "suspended" must be lists')
    try:
        revoked_ids = frozenset(entry["id"] for entry in revoked)
        suspended_ids = frozenset(entry["id"] for entry in suspended)
    except (TypeError, KeyError):
        raise RevocationListError('each entry of "revoked" and "suspended" needs an "id"') from None
    issued = body.get("issued_at")
    try:
        issued_at = _timestamp(issued, "issued_at")
    except KeySetError as error:
        raise RevocationListError(str(error)) from None
    return RevocationList(revoked=revoked_ids, suspended=suspended_ids, issued_at=issued_at, kid=key.kid)


# --- Results ---------------------------------------------------------------------------


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs more than the checks
class Result:
    """What a verification found. ``claims`` and ``predicates`` are filled only when valid."""

    valid: bool
    code: str
    kind: str | None = None
    serial: str | None = None
    status: str | None = None
    issued: str | None = None
    expires: str | None = None
    kid: str | None = None
    generated: int | None = None  # Unix seconds
    presentation_expires: int | None = None
    claims: dict[str, Any] = field(default_factory=dict)
    predicates: dict[str, bool] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        return REASONS[self.code][0]

    @property
    def reason_en(self) -> str:
        return REASONS[self.code][1]

    @property
    def generated_at(self) -> dt.datetime | None:
        return dt.datetime.fromtimestamp(self.generated, CHINA) if self.generated is not None else None

    @property
    def expires_at(self) -> dt.datetime | None:
        """When the presentation (not the credential) stops being valid."""
        if self.presentation_expires is None:
            return None
        return dt.datetime.fromtimestamp(self.presentation_expires, CHINA)

    @property
    def disclosed(self) -> dict[str, Any]:
        """Everything the holder disclosed: claims and predicates, by code."""
        return {**self.claims, **self.predicates}

    def as_dict(self) -> dict[str, Any]:
        generated_at, expires_at = self.generated_at, self.expires_at
        return {
            "valid": self.valid,
            "code": self.code,
            "reason": self.reason,
            "reason_en": self.reason_en,
            "kind": self.kind,
            "serial": self.serial,
            "status": self.status,
            "issued": self.issued,
            "expires": self.expires,
            "kid": self.kid,
            "generated_at": generated_at.isoformat() if generated_at else None,
            "expires_at": expires_at.isoformat() if expires_at else None,
            "claims": self.claims,
            "predicates": self.predicates,
        }


_MALFORMED = Result(valid=False, code="malformed")
# The JSON scanner itself (the C one): JSONDecoder.decode() adds two regular-expression
# passes for surrounding whitespace, which a body never has. The scanner raises
# StopIteration where there is no JSON value at all and ValueError for broken JSON.
_scan_json = make_scanner(json.JSONDecoder())
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}").fullmatch
# Date text -> proleptic ordinal (None: not a date). Bodies repeat a few dates (issued on,
# valid until) over and over, so each is parsed once; the memory is bounded.
_days: dict[str, int | None] = {}
_DAYS_KEPT = 4096
_NOT_SEEN = -1


def _day(value: Any) -> int | None:
    """The day number (``date.toordinal()``) of a ``YYYY-MM-DD`` text; ``None`` for anything else."""
    if type(value) is not str or len(value) != 10:
        return None
    day = _days.get(value, _NOT_SEEN)
    if day != _NOT_SEEN:
        return day
    day = None
    if _ISO_DATE(value):
        try:
            day = dt.date.fromisoformat(value).toordinal()
        except ValueError:
            day = None
    if len(_days) >= _DAYS_KEPT:
        _days.clear()
    _days[value] = day
    return day


def _fields_ok(body: dict[str, Any]) -> bool:
    """The body has every field, with the right types (nothing is trusted before this)."""
    get = body.get
    kid, kind, serial, status, expires = get("kid"), get("k"), get("id"), get("st"), get("exp")
    gen, pex, claims, predicates = get("gen"), get("pex"), get("c"), get("p")
    return (
        get("v") == VERSION
        and type(kid) is str
        and kid != ""
        and type(kind) is str
        and kind != ""
        and type(serial) is str
        and serial != ""
        and status in STATUSES
        and _day(get("iat")) is not None
        and (expires is None or _day(expires) is not None)
        and type(gen) is int
        and type(pex) is int
        and 0 <= gen < pex < MAX_TIMESTAMP
        and type(claims) is dict
        and type(predicates) is dict
        and (not predicates or all(value is True or value is False for value in predicates.values()))
    )


def _epoch(now: dt.datetime | float | None) -> float:
    if now is None:
        return time.time()
    if isinstance(now, dt.datetime):
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        return now.timestamp()
    return float(now)


def _as_keyset(keyset: KeySet | Mapping[str, Any]) -> KeySet:
    return keyset if isinstance(keyset, KeySet) else load_keyset(keyset)


def _as_revocations(
    revoked: RevocationList | Mapping[str, Any] | Iterable[str] | None, keyset: KeySet
) -> RevocationList | None:
    if revoked is None or isinstance(revoked, RevocationList):
        return revoked
    if isinstance(revoked, Mapping):
        return _revocations_from_document(revoked, keyset)
    return RevocationList(revoked=frozenset(revoked))


_b64 = suites.b64url_decode


def verify(
    payload: str,
    keyset: KeySet | Mapping[str, Any],
    revoked: RevocationList | Mapping[str, Any] | Iterable[str] | None = None,
    now: dt.datetime | float | None = None,
) -> Result:
    """Verify a presentation. ``keyset``: a :class:`KeySet` (or the ``keys.json`` document);
    ``revoked``: a :class:`RevocationList`, the signed ``revoked.json`` document (its
    signature is checked: :class:`RevocationListError` if it fails) or serials known to be
    revoked; ``now``: an aware datetime or Unix seconds (default: the system clock).

    Never raises for a bad payload: the result says what is wrong."""
    keys = keyset if type(keyset) is KeySet else _as_keyset(keyset)
    revocations = revoked if revoked is None or type(revoked) is RevocationList else _as_revocations(revoked, keys)
    moment = time.time() if now is None else _epoch(now)
    if type(payload) is not str or len(payload) > MAX_PAYLOAD_CHARS:
        return _MALFORMED
    parts = payload.strip().split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        return _MALFORMED
    encoded = parts[1]
    try:
        text = _b64(encoded).decode("utf-8")
        body, end = _scan_json(text, 0)
        signature = _b64(parts[2])
    except (ValueError, StopIteration):  # bad base64, bad UTF-8, bad JSON, no JSON
        return _MALFORMED
    if end != len(text) or type(body) is not dict or not _fields_ok(body):
        return _MALFORMED
    kid = body["kid"]
    key = keys.keys.get(kid)
    if key is None:
        return Result(valid=False, code="unknown_key", kid=kid)
    suite = keys.suites.get(kid) or key.scheme
    signed = f"{PREFIX}.{encoded}".encode("ascii")
    if not suite.signature_well_formed(signature):
        return Result(valid=False, code="wrong_signature", kid=kid)
    if not suite.verify(key.public_key, signature, signed):
        for other in keys.keys.values():
            if (
                other.kid != kid
                and other.scheme.signature_well_formed(signature)
                and other.scheme.verify(other.public_key, signature, signed)
            ):
                return Result(valid=False, code="wrong_signature", kid=kid)
        return Result(valid=False, code="tampered", kid=kid)

    # Signed by the named key: the body can be trusted from here on.
    gen, pex, serial, status, expires = body["gen"], body["pex"], body["id"], body["st"], body["exp"]
    if key.retired_at is not None and gen > key.retired_at:
        code = "key_retired"
    elif gen > moment + CLOCK_SKEW_SECONDS:
        code = "not_yet_valid"
    elif moment > pex:
        code = "presentation_expired"
    elif status == "revoked" or (revocations is not None and serial in revocations.revoked):
        code = "revoked"
    elif status == "suspended" or (revocations is not None and serial in revocations.suspended):
        code = "suspended"
    # "Today" is China's calendar day at ``moment`` (as a proleptic ordinal, like date.toordinal()).
    elif expires is not None and _day(expires) < int(moment + CHINA_OFFSET_SECONDS) // 86400 + EPOCH_ORDINAL:
        code = "credential_expired"
    else:
        code = "valid"
    if code == "valid":  # positional: this is the hot path
        return Result(True, code, body["k"], serial, status, body["iat"], expires, kid, gen, pex, body["c"], body["p"])
    return Result(False, code, body["k"], serial, status, body["iat"], expires, kid, gen, pex, {}, {})
