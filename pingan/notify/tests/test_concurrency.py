"""Several workers side by side never send one message twice (real parallel connections)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.utils import timezone

from pingan.notify import actions, delivery
from pingan.notify.models import Message, Status
from pingan.notify.tests import backends
from pingan.testing import factories

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs real concurrent connections and row locks: run with DATABASE_URL=postgres://...",
    ),
]


@pytest.mark.django_db(transaction=True)
def test_parallel_workers_send_each_message_exactly_once(settings):
    settings.NOTIFY_SEND_ON_COMMIT = False  # everything goes through the workers
    people = [factories.citizen(name=f"市民{i}") for i in range(6)]
    for person in people:
        person.email = f"p{person.pk}@example.cn"
        person.save(update_fields=["email"])
        for n in range(5):
            actions.enqueue(user=person, title=f"第{n}条", body="办理进度更新", channels=["email", "sms"])
    # Slow sends, so the workers' rounds overlap; the first sends of each channel fail.
    backends.MAIL.reset(failures=2, delay=0.005)
    backends.SMS.reset(failures=2, delay=0.005)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait(10)
            for _round in range(20):
                delivery.deliver_due(now=timezone.now() + _round * delivery.retry_delay(1), batch=4)
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert set(Message.objects.values_list("status", flat=True)) == {Status.DELIVERED}
    mail_ids = [int(m.extra_headers["X-Pingan-Message"]) for m in backends.MAIL.sent]
    sms_ids = [int(s["reference"]) for s in backends.SMS.sent]
    assert len(mail_ids) == len(set(mail_ids)) == 30
    assert len(sms_ids) == len(set(sms_ids)) == 30
