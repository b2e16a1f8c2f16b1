"""Plates under concurrent registration: never two bicycles with one plate, on real
concurrent connections (each thread its own connection).

On PostgreSQL the city's counter row is held locked by one connection until every
registering connection is seen waiting for a lock in ``pg_stat_activity``; then they all
go at once. The server's ``max_connections`` bounds how many connections one test may
open (100 by default, shared with everyone else using the server): the 100 registrations
run on as many simultaneous connections as the server leaves free (up to 100), each
connection taking its share. On SQLite, writers queue on the database lock (the project
opens write transactions IMMEDIATE), so the same test checks the allocation's logic
under threads without row locks.

Transactional tests (the threads must see committed rows); ``pingan.testing.browser``
restores the reference data after each flush.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import OperationalError, connection, transaction

from pingan.core import timeline, workflow
from pingan.ebikes import actions, rules
from pingan.ebikes.models import EBike, Plate, PlateCounter
from pingan.ebikes.tests.conftest import QINGDAO_STATION, bike_data
from pingan.testing import factories

pytestmark = pytest.mark.django_db(transaction=True)

ALLOCATIONS = 100
# Connections left for everyone else on the server (other test runs, psql sessions).
SPARE_CONNECTIONS = 12


def postgres() -> bool:
    return connection.vendor == "postgresql"


def wait_for(condition: Callable[[], bool], seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def lock_waiters() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def free_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int"
            " - (SELECT count(*) FROM pg_stat_activity)"
        )
        return cursor.fetchone()[0]


def inspected_bikes(count: int, *, station: str = "370102001") -> list[EBike]:
    """``count`` bicycles of different owners, inspected and waiting for their plates."""
    bikes = []
    for _ in range(count):
        owner = factories.citizen(home_org_code=station)
        ebike = actions.ebike_preregister(actor=None, owner=owner, data=bike_data())
        actions.ebike_inspect(ebike=ebike, actor=None)
        bikes.append(ebike)
    return bikes


def retry_while_locked(call: Callable[[], Any], attempts: int = 2000) -> Any:
    """SQLite: the suite's in-memory test database shares one cache between connections,
    where a writer that finds the database locked fails at once ("database table is
    locked") instead of waiting as a file database does (busy_timeout). Waiting and trying
    the whole registration again is what the busy handler would have done. The call runs
    in one transaction (BEGIN IMMEDIATE takes the write lock first), so a refused attempt
    leaves nothing behind, and its reads after the action cannot be refused either."""
    for _attempt in range(attempts):
        try:
            with transaction.atomic():
                return call()
        except OperationalError as error:
            if "locked" not in str(error):
                raise
            time.sleep(0.005)
    raise AssertionError("the database stayed locked")


def run_threads(shares: list[list[Callable[[], Any]]], *, before_start: Callable[[], None] | None = None) -> list[Any]:
    """Each share runs on its own thread and connection; all start together. Returns every
    call's result or exception."""
    barrier = threading.Barrier(len(shares))
    results: list[Any] = []
    lock = threading.Lock()

    def run(calls: list[Callable[[], Any]]) -> None:
        try:
            barrier.wait(30)
            for call in calls:
                try:
                    outcome = call() if postgres() else retry_while_locked(call)
                except Exception as error:  # the refusal is a result under test
                    outcome = error
                with lock:
                    results.append(outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(share,)) for share in shares]
    for thread in threads:
        thread.start()
    if before_start is not None:
        before_start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads), "a registration hung"
    return results


class CounterHold:
    """On PostgreSQL: one connection holds the city's counter row locked until released."""

    def __init__(self, city: Any) -> None:
        self.city = city
        self.locked = threading.Event()
        self.release = threading.Event()
        self.thread = threading.Thread(target=self._hold)

    def _hold(self) -> None:
        try:
            with transaction.atomic():
                PlateCounter.objects.select_for_update().get(city=self.city)
                self.locked.set()
                self.release.wait(60)
        finally:
            connection.close()

    def __enter__(self) -> CounterHold:
        self.thread.start()
        assert self.locked.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.thread.join(30)


def test_100_concurrent_registrations_get_100_distinct_plates():
    bikes = inspected_bikes(ALLOCATIONS)
    city = bikes[0].city
    PlateCounter.objects.create(city=city, prefix=rules.city_prefix(city.name), last_serial=0)
    width = max(2, min(ALLOCATIONS, free_connections() - SPARE_CONNECTIONS)) if postgres() else 25
    shares: list[list[Callable[[], Any]]] = [[] for _ in range(width)]
    for index, ebike in enumerate(bikes):
        shares[index % width].append(lambda ebike=ebike: actions.ebike_register(ebike=ebike, actor=None))

    if postgres():
        seen: list[int] = []
        with CounterHold(city) as hold:

            def release_once_all_wait() -> None:
                # Every registering connection is blocked behind the held counter row
                # (directly, or behind a timeline chain head another of them holds).
                wait_for(lambda: lock_waiters() >= width)
                seen.append(lock_waiters())
                hold.release.set()

            results = run_threads(shares, before_start=release_once_all_wait)
        assert seen[0] >= width, f"only {seen[0]} of {width} connections waited for the lock"
        print(f"{ALLOCATIONS} registrations on {width} concurrent connections; {seen[0]} waited for the lock")
    else:
        results = run_threads(shares)

    failures = [r for r in results if isinstance(r, Exception)]
    assert failures == []
    assert len(results) == ALLOCATIONS
    numbers = list(Plate.objects.filter(city=city).values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == ALLOCATIONS
    assert sorted(Plate.objects.filter(city=city).values_list("serial", flat=True)) == list(range(1, ALLOCATIONS + 1))
    assert PlateCounter.objects.get(city=city).last_serial == ALLOCATIONS
    plated = EBike.objects.filter(pk__in=[b.pk for b in bikes])
    assert plated.filter(state="registered", plate__isnull=False).count() == ALLOCATIONS
    assert len(set(plated.values_list("plate_id", flat=True))) == ALLOCATIONS
    assert all(rules.plate_well_formed(number) for number in numbers)
    assert timeline.verify() == []


def test_the_first_plates_of_a_city_allocated_at_once_are_distinct():
    """No counter row yet: concurrent first allocations create it once and queue on it."""
    bikes = inspected_bikes(12, station=QINGDAO_STATION)
    city = bikes[0].city
    assert not PlateCounter.objects.filter(city=city).exists()
    results = run_threads([[lambda ebike=ebike: actions.ebike_register(ebike=ebike, actor=None)] for ebike in bikes])
    assert [r for r in results if isinstance(r, Exception)] == []
    assert PlateCounter.objects.filter(city=city).count() == 1
    assert sorted(Plate.objects.filter(city=city).values_list("number", flat=True)) == [
        f"青岛A{serial:06d}" for serial in range(1, 13)
    ]


def test_one_bicycle_registered_from_several_counters_at_once_gets_one_plate():
    (ebike,) = inspected_bikes(1)
    officers = [factories.staff("370102001", ["counter_officer"]) for _ in range(4)]
    results = run_threads(
        [
            [lambda officer=officer: actions.ebike_register(ebike=EBike.objects.get(pk=ebike.pk), actor=officer)]
            for officer in officers
        ]
    )
    registered = [r for r in results if isinstance(r, EBike)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(registered) == 1, results
    assert len(refused) == 3
    assert all(isinstance(r, workflow.IllegalTransition) for r in refused), refused
    assert Plate.objects.count() == 1
    assert EBike.objects.get(pk=ebike.pk).plate.number == "济南A000001"
