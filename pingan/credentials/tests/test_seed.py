"""The demo seed step: the demo citizen's three credentials, issued once."""

from __future__ import annotations

import pytest

from pingan.accounts import actions as accounts
from pingan.core import registry, seeding
from pingan.credentials import actions as credentials
from pingan.credentials import keys, verify
from pingan.credentials.models import Credential
from pingan.credentials.seed import DEMO_ID_NUMBER, seed_credentials
from pingan.testing import factories

pytestmark = pytest.mark.django_db


def context(lines: list[str]) -> seeding.SeedContext:
    return seeding.SeedContext(scale="small", seed=1, fraction=0.0, progress_enabled=False, writer=lines.append)


def test_the_step_is_registered():
    step = registry.seed_steps.get("credentials.demo")
    assert step.order > 20  # after the demo accounts
    assert step.always


def test_without_the_demo_citizen_nothing_is_issued():
    lines: list[str] = []
    assert seed_credentials(context(lines)) == {"created": {"credentials": 0}}
    assert "not seeded" in lines[0]
    assert not Credential.objects.exists()


def test_the_demo_citizen_gets_three_credentials_once():
    citizen = accounts.citizen_register(
        name="赵敏", id_number=DEMO_ID_NUMBER, phone="13905310001", password=None, home_org=factories.org("370102001")
    )
    lines: list[str] = []
    assert seed_credentials(context(lines)) == {"created": {"credentials": 3}}
    held = {c.kind: c for c in Credential.objects.filter(holder=citizen)}
    assert set(held) == {"driving_licence", "residence_permit", "network_id"}
    assert held["driving_licence"].org.code == "3701-traffic"
    assert held["driving_licence"].claims["id_number"] == DEMO_ID_NUMBER
    assert held["residence_permit"].claims["address"].startswith("山东省济南市历下区")
    assert "id_number" not in held["network_id"].claims
    payload = credentials.present(held["network_id"], holder=citizen, disclose=["over_18", "masked_name"])
    assert verify.verify(payload, keys.keyset()).disclosed == {"over_18": True, "masked_name": "赵*"}
    # Idempotent: a re-run issues nothing more; a revoked one is issued again.
    assert seed_credentials(context(lines)) == {"created": {"credentials": 0}}
    credentials.revoke(held["residence_permit"], actor=None, reason="演示：撤销后重新签发")
    assert seed_credentials(context(lines)) == {"created": {"credentials": 1}}
    assert Credential.objects.filter(holder=citizen).count() == 4
