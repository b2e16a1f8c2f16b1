"""Making what :mod:`pingan.credentials.verify` checks: presentations and signed revocation
lists. Pure (``cryptography`` + standard library), so benchmarks and tests can sign without
a database; the server's private keys reach it only through :mod:`pingan.credentials.keys`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pingan.credentials import suites
from pingan.credentials.verify import PREFIX, canonical_json


def encode_presentation(body: Mapping[str, Any], *, suite: suites.Suite, private_key: Any) -> str:
    """``PA1.<base64url(JSON)>.<base64url(signature)>``; the signature covers ``PA1.<body>``."""
    raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    signing_input = f"{PREFIX}.{suites.b64url_encode(raw)}"
    signature = suite.sign(private_key, signing_input.encode("ascii"))
    return f"{signing_input}.{suites.b64url_encode(signature)}"


def sign_document(body: Mapping[str, Any], *, suite: suites.Suite, private_key: Any) -> dict[str, Any]:
    """``{"body": ..., "signature": ...}`` with the signature over the canonical JSON of ``body``."""
    return {"body": dict(body), "signature": suites.b64url_encode(suite.sign(private_key, canonical_json(body)))}
