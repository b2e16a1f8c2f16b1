"""``manage.py verify_credential`` (offline with files, or the database's keys) and
``manage.py rotate_credential_key``."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from pingan.credentials import actions, keys
from pingan.credentials.models import SigningKey

pytestmark = pytest.mark.django_db
REPO = Path(__file__).resolve().parents[3]


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdin
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)
    try:
        call_command("verify_credential", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as done:
        code = int(done.code or 0)
    finally:
        sys.stdin = saved
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def published(tmp_path, licence):
    """keys.json and revoked.json written to files, as a verifier would download them."""
    keys_file = tmp_path / "keys.json"
    keys_file.write_text(json.dumps(keys.keyset_document(), ensure_ascii=False), encoding="utf-8")
    revoked_file = tmp_path / "revoked.json"
    revoked_file.write_text(json.dumps(keys.revocation_list_document()), encoding="utf-8")
    return keys_file, revoked_file


def test_a_valid_presentation_exits_0(licence, holder, published):
    keys_file, revoked_file = published
    payload = actions.present(licence, holder=holder, disclose=["over_18"])
    code, out, _ = run(payload, "--keys", str(keys_file), "--revoked", str(revoked_file))
    assert code == 0
    assert out.startswith("VALID 有效")
    assert f"serial: {licence.serial}" in out
    assert "over_18: True" in out
    code, out, _ = run(payload, "--keys", str(keys_file))
    assert code == 0
    assert "revocations since generation not checked" in out


def test_json_output(licence, holder, published):
    keys_file, _ = published
    payload = actions.present(licence, holder=holder, disclose=["vehicle_class"])
    code, out, _ = run(payload, "--keys", str(keys_file), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["valid"] is True
    assert data["claims"] == {"vehicle_class": "C1"}
    assert data["keys"] == str(keys_file)
    assert data["revocation_checked"] is False


def test_an_invalid_presentation_exits_1_with_the_reason(licence, holder, traffic_officer, tmp_path, published):
    keys_file, _ = published
    stale = actions.present(licence, holder=holder, disclose=[], now=timezone.now() - dt.timedelta(minutes=5))
    code, out, _ = run(stale, "--keys", str(keys_file))
    assert code == 1
    assert out.startswith("INVALID 无效: 出示码已过期")
    # Revoked after the presentation was made: the fresh list from the server catches it.
    payload = actions.present(licence, holder=holder, disclose=[])
    actions.revoke(licence, actor=traffic_officer, reason="吊销")
    revoked_file = tmp_path / "revoked-now.json"
    revoked_file.write_text(json.dumps(keys.revocation_list_document()), encoding="utf-8")
    code, out, _ = run(payload, "--keys", str(keys_file), "--revoked", str(revoked_file), "--json")
    assert code == 1
    assert json.loads(out)["code"] == "revoked"


def test_without_keys_the_databases_published_keys_and_list_are_used(licence, holder, traffic_officer):
    payload = actions.present(licence, holder=holder, disclose=[])
    assert run(payload)[0] == 0
    actions.suspend(licence, actor=traffic_officer, reason="暂扣")
    code, out, _ = run(payload, "--json")
    assert code == 1
    data = json.loads(out)
    assert data["code"] == "suspended"
    assert data["keys"] == "database"


def test_an_unknown_key_exits_1(licence, holder, tmp_path):
    payload = actions.present(licence, holder=holder, disclose=[])
    SigningKey.objects.all().delete()
    other = tmp_path / "other-keys.json"
    other.write_text(json.dumps(keys.keyset_document()), encoding="utf-8")  # a fresh key only
    code, out, _ = run(payload, "--keys", str(other))
    assert code == 1
    assert "签名密钥未知" in out


def test_malformed_input_exits_2(licence, tmp_path, published):
    keys_file, revoked_file = published
    assert run("not-a-payload", "--keys", str(keys_file))[0] == 2
    assert run("-", "--keys", str(keys_file), stdin="PA1.x.y\n")[0] == 2
    missing = run("PA1.x.y", "--keys", str(tmp_path / "missing.json"))
    assert missing[0] == 2
    assert "missing.json" in missing[2]
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    assert run("PA1.x.y", "--keys", str(broken))[0] == 2
    bad_keys = tmp_path / "bad-keys.json"
    bad_keys.write_text(json.dumps({"keys": [{"kid": "k"}]}), encoding="utf-8")
    code, _, err = run("PA1.x.y", "--keys", str(bad_keys))
    assert code == 2
    assert "required" in err
    altered = json.loads(revoked_file.read_text())
    altered["body"]["revoked"] = [{"id": "DL-2025-AAAAAAAA", "at": None}]
    revoked_file.write_text(json.dumps(altered), encoding="utf-8")
    code, _, err = run("PA1.x.y", "--keys", str(keys_file), "--revoked", str(revoked_file))
    assert code == 2
    assert "altered" in err


def test_reads_the_payload_from_standard_input(licence, holder, published):
    keys_file, _ = published
    payload = actions.present(licence, holder=holder, disclose=[])
    assert run("-", "--keys", str(keys_file), stdin=payload + "\n")[0] == 0


def test_the_command_runs_offline_as_a_process(licence, holder, published):
    """The real exit status of ``manage.py`` (not just SystemExit in-process)."""
    keys_file, _ = published
    payload = actions.present(licence, holder=holder, disclose=["over_18"])
    env = {**os.environ, "DATABASE_URL": "sqlite:///" + str(keys_file.parent / "empty.sqlite3")}
    command = [sys.executable, "manage.py", "verify_credential", "--keys", str(keys_file)]
    done = subprocess.run([*command, payload], cwd=REPO, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "VALID" in done.stdout
    done = subprocess.run(
        [*command, payload[:-4] + "AAAA"], cwd=REPO, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    done = subprocess.run([*command, "garbage"], cwd=REPO, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 2


def test_rotate_credential_key(licence):
    old = SigningKey.objects.get(is_active=True)
    out = io.StringIO()
    call_command("rotate_credential_key", "--suite", "ES256", stdout=out)
    new = SigningKey.objects.get(is_active=True)
    assert new.suite == "ES256"
    assert new.kid in out.getvalue()
    old.refresh_from_db()
    assert old.retired_at is not None
    with pytest.raises(CommandError):
        call_command("rotate_credential_key", "--suite", "SM2")
