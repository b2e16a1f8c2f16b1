"""Signature suites: how a credential key signs, verifies and is exported.

Pure Python on ``cryptography`` and the standard library (no Django): the offline verifier
(:mod:`pingan.credentials.verify`) imports it, so a relying party can verify with this file,
``verify.py`` and the published ``keys.json`` alone.

A suite is named in every key (``keys.json``: ``suite``) and so in every presentation, by
way of its key id. Ed25519 is the default; ES256 (ECDSA P-256 / SHA-256) proves that the
registry is not Ed25519-shaped. SM2 with SM3 (GB/T 32918, GB/T 32905) is added the same
way: a class with these methods, registered with :func:`register`.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# base64url -> standard base64, with the three characters base64url does not have ("+",
# "/", padding "=") turned into "!", which the strict decoder refuses: one pass over the
# text checks and converts it (a membership test such as ``b"+" in raw`` would cost more
# than the decoding: bytes.__contains__ first tries its argument as an integer and formats
# the TypeError it then discards).
_TO_STANDARD = bytes.maketrans(b"-_+/=", b"+/!!!")
_PADDING = {0: b"", 2: b"==", 3: b"="}
# The last character of a canonical encoding leaves its unused low bits zero (4 bits after
# 2 characters of a group, 2 bits after 3), so each value has exactly one spelling.
_CANONICAL_LAST = {
    0: frozenset(_ALPHABET),
    2: frozenset(c for i, c in enumerate(_ALPHABET) if i % 16 == 0),
    3: frozenset(c for i, c in enumerate(_ALPHABET) if i % 4 == 0),
}


def b64url_decode(text: str) -> bytes:
    """Strict, canonical unpadded base64url (raises ``ValueError`` on anything else)."""
    if type(text) is not str:
        raise ValueError("not base64url")
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        raise ValueError("not base64url: not ASCII") from None
    remainder = len(raw) % 4
    if not raw or remainder == 1 or raw[-1] not in _CANONICAL_LAST[remainder]:
        raise ValueError("not canonical base64url")
    # strict_mode refuses any character outside the alphabet, so also "+", "/" and "="
    # (made "!" above) in the text.
    try:
        return binascii.a2b_base64(raw.translate(_TO_STANDARD) + _PADDING[remainder], strict_mode=True)
    except binascii.Error as error:
        raise ValueError(f"not base64url: {error}") from None


class Suite(Protocol):
    """What a signature suite provides. ``name`` is what ``keys.json`` carries."""

    name: str
    label: str

    def generate(self) -> Any: ...

    def sign(self, private_key: Any, data: bytes) -> bytes: ...

    def verify(self, public_key: Any, signature: bytes, data: bytes) -> bool: ...

    def signature_well_formed(self, signature: bytes) -> bool: ...

    def export_public(self, private_key: Any) -> str: ...

    def load_public(self, text: str) -> Any: ...

    def export_private(self, private_key: Any) -> bytes: ...

    def load_private(self, data: bytes) -> Any: ...


class Ed25519Suite:
    """EdDSA over Curve25519 (RFC 8032): 32-byte public keys, 64-byte signatures."""

    name = "Ed25519"
    label = "Ed25519 (RFC 8032)"

    def generate(self) -> ed25519.Ed25519PrivateKey:
        return ed25519.Ed25519PrivateKey.generate()

    def sign(self, private_key: ed25519.Ed25519PrivateKey, data: bytes) -> bytes:
        return private_key.sign(data)

    def verify(self, public_key: ed25519.Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
        try:
            public_key.verify(signature, data)
        except InvalidSignature:
            return False
        return True

    def signature_well_formed(self, signature: bytes) -> bool:
        return len(signature) == 64

    def export_public(self, private_key: ed25519.Ed25519PrivateKey) -> str:
        raw = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return b64url_encode(raw)

    def load_public(self, text: str) -> ed25519.Ed25519PublicKey:
        raw = b64url_decode(text)
        if len(raw) != 32:
            raise ValueError("an Ed25519 public key is 32 bytes")
        return ed25519.Ed25519PublicKey.from_public_bytes(raw)

    def export_private(self, private_key: ed25519.Ed25519PrivateKey) -> bytes:
        return private_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def load_private(self, data: bytes) -> ed25519.Ed25519PrivateKey:
        key = serialization.load_der_private_key(data, password=None)
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise ValueError("not an Ed25519 private key")
        return key


class ES256Suite:
    """ECDSA on NIST P-256 with SHA-256; signatures as fixed 64-byte r||s (as in JWS)."""

    name = "ES256"
    label = "ECDSA P-256 / SHA-256"
    _size = 32

    def generate(self) -> ec.EllipticCurvePrivateKey:
        return ec.generate_private_key(ec.SECP256R1())

    def sign(self, private_key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
        r, s = decode_dss_signature(private_key.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(self._size, "big") + s.to_bytes(self._size, "big")

    def verify(self, public_key: ec.EllipticCurvePublicKey, signature: bytes, data: bytes) -> bool:
        if not self.signature_well_formed(signature):
            return False
        r = int.from_bytes(signature[: self._size], "big")
        s = int.from_bytes(signature[self._size :], "big")
        try:
            public_key.verify(encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return False
        return True

    def signature_well_formed(self, signature: bytes) -> bool:
        return len(signature) == 2 * self._size

    def export_public(self, private_key: ec.EllipticCurvePrivateKey) -> str:
        point = private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
        )
        return b64url_encode(point)

    def load_public(self, text: str) -> ec.EllipticCurvePublicKey:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(text))

    def export_private(self, private_key: ec.EllipticCurvePrivateKey) -> bytes:
        return private_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def load_private(self, data: bytes) -> ec.EllipticCurvePrivateKey:
        key = serialization.load_der_private_key(data, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise ValueError("not a P-256 private key")
        return key


_SUITES: dict[str, Suite] = {}
DEFAULT = "Ed25519"


def register(suite: Suite) -> Suite:
    """Add a suite (at import time of the module that defines it)."""
    if suite.name in _SUITES and _SUITES[suite.name] is not suite:
        raise KeyError(f"signature suite {suite.name!r} registered twice")
    _SUITES[suite.name] = suite
    return suite


def get(name: str) -> Suite:
    try:
        return _SUITES[name]
    except KeyError:
        raise LookupError(f"unknown signature suite {name!r}; known: {', '.join(sorted(_SUITES))}") from None


def names() -> list[str]:
    return sorted(_SUITES)


register(Ed25519Suite())
register(ES256Suite())
