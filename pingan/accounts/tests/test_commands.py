"""Operator commands of the accounts app."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from pingan.core import timeline
from pingan.testing import factories
from pingan.testing.signin import totp_device

pytestmark = pytest.mark.django_db


def test_totp_reset_removes_the_devices_and_records_it():
    officer = factories.staff(badge="450001")
    totp_device(officer)
    out = StringIO()
    call_command("totp_reset", "450001", stdout=out)
    assert "1 TOTP device(s) removed" in out.getvalue()
    assert not TOTPDevice.objects.filter(user=officer).exists()
    event = timeline.events_for(officer).get(action="accounts.totp_reset")
    assert event.actor_id is None
    assert event.channel == "command"


@pytest.mark.parametrize("badge", ["999999", "not-a-badge", ""])
def test_totp_reset_refuses_unknown_badges(badge):
    with pytest.raises(CommandError, match="no staff member"):
        call_command("totp_reset", badge)


def test_totp_reset_refuses_citizens():
    citizen = factories.citizen()
    with pytest.raises(CommandError):
        call_command("totp_reset", citizen.username)
