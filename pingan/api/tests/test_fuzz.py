"""Schema-driven fuzzing (schemathesis 4) of every operation in the committed OpenAPI schema,
in-process through the project's real WSGI application — signed in as staff with a knox
token, and anonymously. No input may produce a 5xx; every response must use a status code
and content type the schema declares and match its response schema.

Bounded and reproducible: a fixed number of examples per operation, derandomized
generation, no example database, no shrinking.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from knox.models import AuthToken
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from pingan.wsgi import application

pytestmark = pytest.mark.django_db

SCHEMA = Path(settings.BASE_DIR) / "docs" / "api" / "openapi.yaml"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
FUZZ = hypothesis_settings(
    max_examples=8,
    derandomize=True,
    database=None,
    deadline=None,
    # explicit: schemathesis's coverage cases (boundaries, missing and malformed values);
    # generate: random positive and negative cases. No shrinking: a failure is reported as found.
    phases=[Phase.explicit, Phase.generate],
    # Fixtures are per test, not per example, on purpose: one signed-in officer for the whole run.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
# Anonymous calls stop at authentication on all but the public endpoints: random cases suffice.
FUZZ_ANONYMOUS = hypothesis_settings(FUZZ, phases=[Phase.generate])

schema = schemathesis.openapi.from_path(SCHEMA)
schema.app = application


@pytest.fixture
def in_process() -> Iterator[None]:
    """Serve through the real WSGI handler while keeping the test's transaction: a real server
    closes the database connection after each request, which would end the test transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def staff_headers(in_process: None, officer: Any, resident: Any, other_resident: Any) -> dict[str, str]:
    """A Jinan counter officer's token (jurisdiction over ``resident``, not ``other_resident``)."""
    _, token = AuthToken.objects.create(user=officer)
    return {"Authorization": f"Token {token}"}


@schema.parametrize()
@FUZZ
def test_no_server_error_as_staff(case: schemathesis.Case, staff_headers: dict[str, str]) -> None:
    case.call_and_validate(headers=staff_headers, checks=CHECKS)


@schema.parametrize()
@FUZZ_ANONYMOUS
def test_no_server_error_anonymously(case: schemathesis.Case, in_process: None) -> None:
    case.call_and_validate(checks=CHECKS)
