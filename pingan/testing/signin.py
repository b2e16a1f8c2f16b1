"""Signing test clients in the way the site does.

Outside demo mode (and the suite runs outside it) a staff session must have passed the
second factor, or every staff page sends it to the TOTP step. ``client.force_login``
alone gives a session that has not; use :func:`staff_login` for staff:

    from pingan.testing.signin import staff_login
    staff_login(client, officer)          # signed in, TOTP passed
    client.force_login(citizen)           # citizens and partners have no second factor
"""

from __future__ import annotations

from typing import Any

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

# A fixed 20-byte key (hex) so a test can compute tokens with ``django_otp.oath.totp``.
TEST_TOTP_KEY = "3132333435363738393031323334353637383930"


def totp_device(user: Any, *, key: str = TEST_TOTP_KEY) -> TOTPDevice:
    """The user's confirmed TOTP device with a known key (created if missing)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test", key=key, confirmed=True)
    return device


def staff_login(client: Client, user: Any) -> Client:
    """Sign ``user`` in on ``client`` with a session that has passed TOTP."""
    device = totp_device(user)
    client.force_login(user)
    # What ``django_otp.login`` stores once a token has been verified.
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def token_for(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """The device's current token (or one ``steps_ahead`` time steps later), six digits.

    A token is accepted once: a second check within the same 30 seconds needs ``steps_ahead=1``.
    """
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=steps_ahead)
    return f"{value:0{device.digits}d}"


def browser_sign_in(page: Any, user: Any, live_server: Any) -> None:
    """Give a Playwright page the session of ``user`` (staff: second factor passed; the
    sign-in form itself is tested by the accounts app's browser tests)."""
    from django.conf import settings

    client = Client()
    if getattr(user, "kind", "") == "staff":
        staff_login(client, user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = totp_device(user).persistent_id
        session.save()
    else:
        client.force_login(user)
        session = client.session
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": live_server.url}]
    )
