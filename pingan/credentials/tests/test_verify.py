"""The offline verifier on its own: no database, keys made here, every refusal reason."""

from __future__ import annotations

import base64
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pingan.credentials import signing, suites, verify

NOW = 1_750_000_000  # 2025-06-15 23:06:40 CST
REPO = Path(__file__).resolve().parents[3]


class Issuer:
    """A key of one suite and the key set that publishes it."""

    def __init__(self, suite_name: str = "Ed25519", kid: str = "k1", retired_at: str | None = None) -> None:
        self.suite = suites.get(suite_name)
        self.private = self.suite.generate()
        self.kid = kid
        self.entry = {
            "kid": kid,
            "suite": suite_name,
            "public_key": self.suite.export_public(self.private),
            "valid_from": "2025-01-01T00:00:00Z",
            "retired_at": retired_at,
        }

    def body(self, **changes: object) -> dict:
        body = {
            "v": 1,
            "kid": self.kid,
            "k": "driving_licence",
            "id": "DL-2025-7KQ3M9XD",
            "st": "valid",
            "iat": "2025-01-02",
            "exp": "2031-01-01",
            "gen": NOW,
            "pex": NOW + 180,
            "c": {"vehicle_class": "C1", "name": "赵敏"},
            "p": {"over_18": True, "licence_valid": True},
        }
        body.update(changes)
        return body

    def present(self, **changes: object) -> str:
        return signing.encode_presentation(self.body(**changes), suite=self.suite, private_key=self.private)


def keyset(*issuers: Issuer) -> verify.KeySet:
    return verify.KeySet.from_json({"keys": [issuer.entry for issuer in issuers]})


@pytest.fixture
def issuer() -> Issuer:
    return Issuer()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_a_fresh_presentation_is_valid_and_carries_what_was_disclosed(issuer):
    result = verify.verify(issuer.present(), keyset(issuer), now=NOW + 10)
    assert result.valid
    assert result.code == "valid"
    assert result.reason.startswith("有效")
    assert result.reason_en.startswith("Valid")
    assert result.claims == {"vehicle_class": "C1", "name": "赵敏"}
    assert result.predicates == {"over_18": True, "licence_valid": True}
    assert result.disclosed == {"vehicle_class": "C1", "name": "赵敏", "over_18": True, "licence_valid": True}
    assert result.serial == "DL-2025-7KQ3M9XD"
    assert result.kind == "driving_licence"
    assert result.generated_at == dt.datetime.fromtimestamp(NOW, verify.CHINA)
    assert result.generated_at.utcoffset() == dt.timedelta(hours=8)
    assert result.as_dict()["valid"] is True


def test_the_key_set_document_is_accepted_as_is(issuer):
    result = verify.verify(issuer.present(), {"keys": [issuer.entry]}, now=NOW)
    assert result.valid


def test_the_payload_is_compact_text_for_a_qr_code(issuer):
    payload = issuer.present()
    prefix, body, signature = payload.split(".")
    assert prefix == "PA1"
    assert json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))["id"] == "DL-2025-7KQ3M9XD"
    assert len(base64.urlsafe_b64decode(signature + "==")) == 64
    assert len(payload) < 600


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "hello",
        "PA1",
        "PA1..",
        "PA2.eyJ2IjoxfQ.AAAA",
        "PA1.!!!.AAAA",
        "PA1.eyJ2IjoxfQ.AAAA.extra",
        "PA1." + b64(b"not json") + "." + b64(b"x" * 64),
        "PA1." + b64(b"[1,2]") + "." + b64(b"x" * 64),
        "PA1." + b64(b"\xff\xfe") + "." + b64(b"x" * 64),
        "PA1.eyJ2IjoxfQ=.AAAA",
        "PA1.eyJ2Ijo+fQ.AAAA",
        "PA1.eyJ2Ijo/fQ.AAAA",
        "PA1. eyJ2IjoxfQ.AAAA",
        "PA1." + b64(b' {"v":1}') + "." + b64(b"x" * 64),
        "PA1." + b64(b'{"v":1} ') + "." + b64(b"x" * 64),
        "PA1." + b64(b'{"v":1}{}') + "." + b64(b"x" * 64),
        "PA1." + "A" * 5000 + ".AAAA",
    ],
)
def test_malformed_payloads_are_refused(issuer, payload):
    result = verify.verify(payload, keyset(issuer), now=NOW)
    assert not result.valid
    assert result.code == "malformed"
    assert "格式错误" in result.reason
    assert result.claims == {}


@pytest.mark.parametrize(
    "change",
    [
        {"v": 2},
        {"kid": ""},
        {"st": "lost"},
        {"iat": "2025-13-01"},
        {"iat": "2025-02-30"},
        {"iat": "2025-W01-1"},  # an ISO week date: fromisoformat() takes it, the format does not
        {"iat": "２０２５-01-02"},
        {"iat": None},
        {"exp": "soon"},
        {"exp": "20310101"},
        {"gen": "1750000000"},
        {"gen": True},
        {"pex": NOW},
        {"c": []},
        {"p": {"over_18": "yes"}},
    ],
)
def test_a_signed_body_missing_fields_or_with_wrong_types_is_malformed(issuer, change):
    assert verify.verify(issuer.present(**change), keyset(issuer), now=NOW).code == "malformed"


def test_non_text_input_is_malformed(issuer):
    assert verify.verify(None, keyset(issuer), now=NOW).code == "malformed"  # type: ignore[arg-type]


def test_tampered_content_is_refused(issuer):
    payload = issuer.present()
    prefix, body, signature = payload.split(".")
    data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    data["p"]["over_18"] = True
    data["c"]["vehicle_class"] = "A1"  # upgrade the licence
    forged = f"{prefix}.{b64(json.dumps(data, ensure_ascii=False).encode())}.{signature}"
    result = verify.verify(forged, keyset(issuer), now=NOW)
    assert not result.valid
    assert result.code == "tampered"
    assert "篡改" in result.reason
    assert result.claims == {}  # nothing of a forged body is shown


def test_an_expired_presentation_is_refused(issuer):
    payload = issuer.present()
    assert verify.verify(payload, keyset(issuer), now=NOW + 180).valid
    result = verify.verify(payload, keyset(issuer), now=NOW + 181)
    assert result.code == "presentation_expired"
    assert "截图无效" in result.reason
    assert result.serial == "DL-2025-7KQ3M9XD"  # the verifier learns which credential, not its content
    assert result.claims == {}


def test_a_presentation_from_the_future_is_refused(issuer):
    payload = issuer.present()
    assert verify.verify(payload, keyset(issuer), now=NOW - verify.CLOCK_SKEW_SECONDS).valid
    assert verify.verify(payload, keyset(issuer), now=NOW - 31).code == "not_yet_valid"


def test_an_expired_credential_is_refused(issuer):
    # exp is the last valid day, China time: 2025-06-15 23:06 CST is still on it.
    payload = issuer.present(exp="2025-06-15")
    assert verify.verify(payload, keyset(issuer), now=NOW).valid
    expired = issuer.present(exp="2025-06-14")
    result = verify.verify(expired, keyset(issuer), now=NOW)
    assert result.code == "credential_expired"
    assert result.reason == "证照已超过有效期。"
    assert result.reason_en == "The credential has expired."


def test_a_credential_without_expiry_is_valid(issuer):
    assert verify.verify(issuer.present(exp=None), keyset(issuer), now=NOW).valid


def test_revoked_at_generation_is_refused(issuer):
    result = verify.verify(issuer.present(st="revoked"), keyset(issuer), now=NOW)
    assert result.code == "revoked"
    assert result.reason == "证照已被撤销。"


def test_suspended_at_generation_is_refused(issuer):
    result = verify.verify(issuer.present(st="suspended"), keyset(issuer), now=NOW)
    assert result.code == "suspended"
    assert result.reason == "证照已暂停使用。"


def test_revoked_since_generation_per_the_list(issuer):
    payload = issuer.present()
    assert verify.verify(payload, keyset(issuer), revoked=["DL-2025-OTHER"], now=NOW).valid
    assert verify.verify(payload, keyset(issuer), revoked=["DL-2025-7KQ3M9XD"], now=NOW).code == "revoked"


def test_a_signed_revocation_list_is_checked_and_used(issuer):
    keys = keyset(issuer)
    body = {
        "v": 1,
        "kid": issuer.kid,
        "issued_at": "2025-06-15T15:00:00Z",
        "revoked": [{"id": "DL-2025-AAAAAAAA", "at": "2025-06-01T00:00:00Z"}],
        "suspended": [{"id": "DL-2025-7KQ3M9XD", "at": "2025-06-15T14:00:00Z"}],
    }
    document = signing.sign_document(body, suite=issuer.suite, private_key=issuer.private)
    revocations = verify.load_revocation_list(json.dumps(document), keys)
    assert revocations.revoked == {"DL-2025-AAAAAAAA"}
    result = verify.verify(issuer.present(), keys, revoked=revocations, now=NOW)
    assert result.code == "suspended"
    assert verify.verify(issuer.present(), keys, revoked=document, now=NOW).code == "suspended"

    altered = json.loads(json.dumps(document))
    altered["body"]["suspended"] = []  # someone hides the suspension
    with pytest.raises(verify.RevocationListError, match="altered"):
        verify.verify(issuer.present(), keys, revoked=altered, now=NOW)
    stranger = Issuer(kid="k-stranger")
    foreign = signing.sign_document({**body, "kid": "k-stranger"}, suite=stranger.suite, private_key=stranger.private)
    with pytest.raises(verify.RevocationListError, match="unknown key"):
        verify.load_revocation_list(foreign, keys)
    with pytest.raises(verify.RevocationListError):
        verify.load_revocation_list({"body": {"kid": issuer.kid}}, keys)
    with pytest.raises(verify.RevocationListError):
        verify.load_revocation_list("not json", keys)


def test_an_unknown_key_is_refused(issuer):
    stranger = Issuer(kid="k-unknown")
    result = verify.verify(stranger.present(), keyset(issuer), now=NOW)
    assert result.code == "unknown_key"
    assert result.kid == "k-unknown"
    assert "不在已公布的密钥列表中" in result.reason


def test_a_signature_by_another_published_key_is_a_wrong_signature(issuer):
    other = Issuer(kid="k2")
    # Signed by k2 while claiming to be k1.
    payload = signing.encode_presentation(issuer.body(), suite=other.suite, private_key=other.private)
    result = verify.verify(payload, keyset(issuer, other), now=NOW)
    assert result.code == "wrong_signature"
    assert "签名错误" in result.reason


def test_a_signature_of_the_wrong_size_is_a_wrong_signature(issuer):
    prefix, body, _signature = issuer.present().split(".")
    assert verify.verify(f"{prefix}.{body}.{b64(b'x' * 63)}", keyset(issuer), now=NOW).code == "wrong_signature"


def test_a_signature_by_an_unpublished_key_under_a_published_kid_is_tampering(issuer):
    forger = Issuer(kid=issuer.kid)
    result = verify.verify(forger.present(), keyset(issuer), now=NOW)
    assert result.code == "tampered"


def test_a_retired_key_verifies_what_it_signed_before_retirement():
    retired = Issuer(kid="k-old", retired_at="2025-06-15T15:10:00Z")  # 23:10 CST, after NOW
    new = Issuer(kid="k-new")
    keys = keyset(retired, new)
    assert verify.verify(retired.present(), keys, now=NOW + 60).valid
    late = retired.present(gen=NOW + 600, pex=NOW + 780)
    result = verify.verify(late, keys, now=NOW + 620)
    assert result.code == "key_retired"
    assert verify.verify(new.present(), keys, now=NOW).valid


def test_es256_is_a_second_real_suite():
    issuer = Issuer("ES256", kid="p256")
    assert issuer.entry["suite"] == "ES256"
    payload = issuer.present()
    assert len(payload.split(".")[2]) == 86  # 64 bytes r||s
    assert verify.verify(payload, keyset(issuer), now=NOW).valid
    prefix, _body, signature = payload.split(".")
    tampered = f"{prefix}.{b64(json.dumps(issuer.body(st='valid', id='DL-2025-FORGED00')).encode())}.{signature}"
    assert verify.verify(tampered, keyset(issuer), now=NOW).code == "tampered"
    # A mixed key set: each key verifies with its own suite.
    ed = Issuer(kid="ed")
    assert verify.verify(ed.present(), keyset(issuer, ed), now=NOW).valid
    assert verify.verify(payload, keyset(issuer, ed), now=NOW).valid


def test_suites_export_and_load_their_keys():
    for name in suites.names():
        suite = suites.get(name)
        private = suite.generate()
        again = suite.load_private(suite.export_private(private))
        signature = suite.sign(again, b"data")
        public = suite.load_public(suite.export_public(private))
        assert suite.verify(public, signature, b"data")
        assert not suite.verify(public, signature, b"other")
    assert set(suites.names()) >= {"Ed25519", "ES256"}
    with pytest.raises(LookupError, match="SM2"):
        suites.get("SM2")
    with pytest.raises(KeyError):
        suites.register(suites.Ed25519Suite())


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("not json", "not JSON"),
        ({"keys": "k1"}, "keys"),
        ({"keys": [{"kid": "k1"}]}, "required"),
        ({"keys": [{"kid": "k1", "suite": "SM2", "public_key": "AAAA"}]}, "unknown signature suite"),
        ({"keys": [{"kid": "k1", "suite": "Ed25519", "public_key": "AAAA"}]}, "bad public key"),
        ({"keys": [{"kid": "k1", "suite": "Ed25519", "public_key": b64(b"k" * 32), "retired_at": "yesterday"}]}, "ISO"),
        (
            {"keys": [{"kid": "k1", "suite": "Ed25519", "public_key": b64(b"k" * 32), "valid_from": "2025-01-01"}]},
            "zone",
        ),
    ],
)
def test_a_broken_key_set_is_refused_with_a_reason(document, message):
    with pytest.raises(verify.KeySetError, match=message):
        verify.KeySet.from_json(document)


def test_a_key_listed_twice_is_refused(issuer):
    with pytest.raises(verify.KeySetError, match="twice"):
        verify.KeySet.from_json({"keys": [issuer.entry, issuer.entry]})


def test_now_must_be_aware(issuer):
    with pytest.raises(ValueError, match="aware"):
        verify.verify(issuer.present(), keyset(issuer), now=dt.datetime(2025, 6, 15))
    assert verify.verify(issuer.present(), keyset(issuer), now=dt.datetime.fromtimestamp(NOW, dt.UTC)).valid


def test_the_verifier_is_pure():
    """verify.py needs only the standard library, cryptography and suites.py: no Django."""
    code = (
        "import sys; from pingan.credentials import verify; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'django', 'rest_framework', 'segno'}); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_a_result_never_an_exception(text):
    issuer = _SHARED
    result = verify.verify(text, _SHARED_KEYS, now=NOW)
    assert not result.valid
    assert result.code in verify.REASONS
    assert issuer is _SHARED


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=200), st.integers(min_value=0, max_value=255))
def test_flipping_any_byte_of_the_payload_invalidates_it(position, value):
    payload = _SHARED_PAYLOAD
    index = position % len(payload)
    replacement = chr(value % 128)
    if payload[index] == replacement:
        return
    changed = payload[:index] + replacement + payload[index + 1 :]
    assert not verify.verify(changed, _SHARED_KEYS, now=NOW).valid


_SHARED = Issuer(kid="shared")
_SHARED_KEYS = keyset(_SHARED)
_SHARED_PAYLOAD = _SHARED.present()


@pytest.mark.parametrize(
    "text", ["", "A", "AB", "AAB", "AA+A", "AA/A", "AAA=", "AA==", "AAAA====", "AA A", "AA!A", "ÀAAA", "AAAA\n"]
)
def test_base64url_is_strict_and_canonical(text):
    with pytest.raises(ValueError, match="base64url"):
        suites.b64url_decode(text)


def test_base64url_round_trips():
    for size in range(1, 70):
        data = bytes(range(256))[:size] + b"\xff" * (size // 3)
        assert suites.b64url_decode(suites.b64url_encode(data)) == data


def test_the_key_set_document_is_loaded_once_and_again_when_it_changes(issuer):
    document = {"keys": [issuer.entry]}
    first = verify.load_keyset(document)
    assert verify.load_keyset(json.loads(json.dumps(document))) is first  # an equal document
    assert verify.verify(issuer.present(), document, now=NOW).valid

    document["keys"][0] = {**issuer.entry, "retired_at": "2025-06-01T00:00:00Z"}  # changed in place
    retired = verify.load_keyset(document)
    assert retired is not first
    assert verify.verify(issuer.present(), document, now=NOW).code == "key_retired"
    other = Issuer(kid="k2")
    assert verify.verify(issuer.present(), {"keys": [other.entry]}, now=NOW).code == "unknown_key"
    assert verify.verify(issuer.present(), {"keys": [issuer.entry]}, now=NOW).valid


def test_a_revocation_document_changed_after_use_is_checked_again(issuer):
    keys = keyset(issuer)
    body = {"v": 1, "kid": issuer.kid, "issued_at": "2025-06-15T15:00:00Z", "revoked": [], "suspended": []}
    document = signing.sign_document(body, suite=issuer.suite, private_key=issuer.private)
    assert verify.verify(issuer.present(), keys, revoked=document, now=NOW).valid
    document["body"]["revoked"].append({"id": "DL-2025-OTHER"})  # altered in place after its first use
    with pytest.raises(verify.RevocationListError, match="altered"):
        verify.verify(issuer.present(), keys, revoked=document, now=NOW)
    document["body"]["revoked"].clear()
    assert verify.verify(issuer.present(), keys, revoked=document, now=NOW).valid
    # The same document against another key set is checked against that one.
    with pytest.raises(verify.RevocationListError, match="unknown key"):
        verify.verify(issuer.present(), keyset(Issuer(kid="k9")), revoked=document, now=NOW)


def test_many_distinct_dates_keep_the_date_memory_bounded(issuer):
    keys = keyset(issuer)
    start = dt.date(2030, 1, 1)
    for offset in range(verify._DAYS_KEPT + 10):
        day = (start + dt.timedelta(days=offset)).isoformat()
        assert verify._day(day) == (start + dt.timedelta(days=offset)).toordinal()
    assert len(verify._days) <= verify._DAYS_KEPT
    assert verify.verify(issuer.present(exp="2025-06-14"), keys, now=NOW).code == "credential_expired"
    assert verify.verify(issuer.present(exp="2025-06-15"), keys, now=NOW).valid
