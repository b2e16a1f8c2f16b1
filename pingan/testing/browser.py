"""Real-browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

Registered for the whole suite in the root ``conftest.py`` (``pytest_plugins``). Use::

    import pytest
    from pingan.testing import factories

    @pytest.mark.browser
    def test_citizen_signs_up(page, settings):
        settings.DEMO_MODE = False            # the server thread reads the same settings
        officer = factories.staff(...)        # data made in the test is committed: the
        page.goto("/accounts/login/")         # server sees it (relative URLs: base_url is set)
        page.get_by_label("账号").fill(officer.username)
        ...

Fixtures:

``browser`` (session)
    One headless Chromium from ``/usr/bin/chromium`` (never a downloaded browser). The
    test is skipped, saying why, only if that executable is missing; CI installs it
    (``apt-get install -y chromium``).

``page`` (function)
    A fresh browser context per test (no cookies carried over), locale zh-CN, Asia/Shanghai
    time zone, ``base_url`` = the live server, 10 s default timeout. The test fails at
    teardown if the page logged a console error, violated the Content Security Policy or
    threw an uncaught JavaScript exception. An error status of a page the test navigated
    to itself (a 400 form re-render, a 404) is part of what the test asserts and is not
    counted; a failing script, stylesheet or image is.

Browser tests use ``live_server``, so pytest-django makes them *transactional*: what the
test writes is committed, and the whole database is flushed afterwards. This module puts
back what the rest of the suite relies on after each such flush: the organisation tree
loaded once per session, the timeline's chain heads and events written with it, and on
SQLite the append-only triggers (the flush has to delete timeline rows they refuse).
This applies to every transactional test, browser or not.

Mark browser tests ``@pytest.mark.browser`` (``-m "not browser"`` skips them).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

# Playwright's sync API runs an event loop in the test thread; Django would otherwise refuse
# to touch the database from a thread with a running loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
DEFAULT_TIMEOUT_MS = 10_000

# Reported as a console error when the server answers a navigation with 4xx/5xx.
_LOAD_FAILED = "Failed to load resource: the server responded with a status of"

_CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline"}`);
});
"""


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


class PageProblems:
    """What went wrong in the page while the test ran."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.navigated: set[str] = set()

    def console(self, message: Any) -> None:
        if message.type != "error":
            return
        text = message.text
        location = (message.location or {}).get("url", "")
        if text.startswith(_LOAD_FAILED) and location.split("#")[0] in self.navigated:
            return
        self.problems.append(f"console error: {text} ({location})")

    def page_error(self, error: Any) -> None:
        self.problems.append(f"uncaught exception: {error}")

    def frame_navigated(self, frame: Any) -> None:
        if frame.parent_frame is None:
            self.navigated.add(frame.url.split("#")[0])


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", base_url=live_server.url)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    context.add_init_script(_CSP_LISTENER)
    tab = context.new_page()
    seen = PageProblems()
    tab.on("console", seen.console)
    tab.on("pageerror", seen.page_error)
    tab.on("framenavigated", seen.frame_navigated)
    try:
        yield tab
    finally:
        context.close()
    if seen.problems:
        pytest.fail("the page reported problems:\n" + "\n".join(seen.problems), pytrace=False)


# --- Database hygiene around transactional tests ------------------------------------------

# Tables filled before the tests run (session fixtures, data migrations) that a flush empties.
REFERENCE_MODELS = ("core.TimelineHead", "core.TimelineEvent", "orgs.OrgUnit")
_snapshot: dict[str, list[dict[str, Any]]] | None = None
_triggers: list[str] = []


def _is_transactional(item: pytest.Item) -> bool:
    names = getattr(item, "fixturenames", ())
    if "live_server" in names or "transactional_db" in names or "django_db_reset_sequences" in names:
        return True
    marker = item.get_closest_marker("django_db")
    if marker is None:
        return False
    return bool(marker.kwargs.get("transaction", marker.args[0] if marker.args else False))


def _blocker(item: pytest.Item) -> Any:
    from pytest_django.plugin import blocking_manager_key

    return item.config.stash[blocking_manager_key]


def _models() -> list[Any]:
    from django.apps import apps

    return [apps.get_model(label) for label in REFERENCE_MODELS]


def _take_snapshot() -> None:
    """The reference rows as they are before the first flush (the suite's baseline)."""
    global _snapshot
    _snapshot = {
        model._meta.label: list(
            model._base_manager.order_by("pk").values(*[f.attname for f in model._meta.concrete_fields])
        )
        for model in _models()
    }


def _drop_sqlite_triggers() -> None:
    from django.db import connection

    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        rows = cursor.fetchall()
        for name, _sql in rows:
            cursor.execute(f'DROP TRIGGER "{name}"')
    _triggers[:] = [sql for _name, sql in rows]


def _insert(model: Any, rows: list[dict[str, Any]]) -> None:
    """Plain INSERTs with the fields' own database preparation: no model instances, so the
    ~20,000 reference rows go back in well under a second instead of several."""
    from django.db import connection

    fields = model._meta.concrete_fields
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608  (names quoted from model metadata)
        quote(model._meta.db_table), ", ".join(quote(f.column) for f in fields), ", ".join(["%s"] * len(fields))
    )
    values = [[f.get_db_prep_save(row[f.attname], connection) for f in fields] for row in rows]
    with connection.cursor() as cursor:
        for start in range(0, len(values), 5000):
            cursor.executemany(sql, values[start : start + 5000])


def _restore() -> None:
    from django.db import connection, connections, transaction

    with transaction.atomic():
        for model in _models():
            rows = (_snapshot or {}).get(model._meta.label, [])
            if rows and not model._base_manager.exists():
                _insert(model, rows)
    if connection.vendor == "sqlite" and _triggers:
        with connection.cursor() as cursor:
            for sql in _triggers:
                cursor.execute(sql)
        _triggers.clear()
    # Hand the connections back: on PostgreSQL an open one would stop pytest-django from
    # dropping the test database at the end of the run.
    if connection.vendor != "sqlite":
        connections.close_all()


@pytest.fixture(autouse=True)
def _reference_data_snapshot(request: pytest.FixtureRequest) -> None:
    """Before the first transactional test's own fixtures write anything, remember the baseline."""
    if _snapshot is None and _is_transactional(request.node):
        request.getfixturevalue("django_db_setup")
        with _blocker(request.node).unblock():
            _take_snapshot()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    transactional = _is_transactional(item) and _snapshot is not None
    if transactional:
        with _blocker(item).unblock():
            _drop_sqlite_triggers()
    yield
    # Not after the last test: the session's teardown has already handed the connection back
    # to the real database by then.
    if transactional and nextitem is not None:
        with _blocker(item).unblock():
            _restore()
