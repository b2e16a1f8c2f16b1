from __future__ import annotations

import pytest
from django.core.cache import cache

from pingan.notify import sms
from pingan.notify.tests import backends
from pingan.testing import factories


@pytest.fixture(autouse=True)
def _outbox_backends(settings):
    """Flaky doubles for mail and SMS (up unless a test says otherwise), and no memory
    of a channel being down carried over from another test."""
    settings.EMAIL_BACKEND = "pingan.notify.tests.backends.FlakyEmailBackend"
    settings.NOTIFY_SMS_BACKEND = "pingan.notify.tests.backends.FlakySmsBackend"
    backends.MAIL.reset()
    backends.SMS.reset()
    sms.LocmemBackend.outbox = []
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def resident():
    user = factories.citizen(name="王小明", phone="13912345678")
    user.email = "wang@example.cn"
    user.save(update_fields=["email"])
    return user


@pytest.fixture
def officer():
    return factories.staff("370102001", ["counter_officer"], name="赵警官")
