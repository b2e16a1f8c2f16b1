"""Suite-wide fixtures. The organisation tree is loaded once per test database (it is
reference data every test needs); each test then runs in its own transaction."""

from __future__ import annotations

import pytest

# Real-browser fixtures (browser, page) and the database hygiene of transactional tests.
pytest_plugins = ["pingan.testing.browser"]


def grids_for_tests(code: str) -> int:
    return 3 + int(code[-1]) % 3


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from pingan.orgs import actions

    with django_db_blocker.unblock():
        actions.tree_load(grids_per_station=grids_for_tests)
