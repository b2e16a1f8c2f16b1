"""``manage.py check`` (and so every start of the server) loads the service catalogue: a
broken definition is reported with its file and line before a citizen meets it.

Importing this module registers the checks (``EservicesConfig.ready()`` imports it).
"""

from __future__ import annotations

from typing import Any

from django.core import checks

from pingan.core.catalog import CatalogError

HINT = "Fix the file and line named above; docs/catalogue.md describes the format."


@checks.register()
def service_catalogue_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Every file under ``catalog/services/`` loads and passes validation (pingan.E300), and
    every handler a service names is registered (pingan.E301: handlers are registered in the
    owning apps' ``ready()``, so they can only be checked once start-up is over)."""
    from pingan.eservices import catalog, handlers

    try:
        definitions = catalog.services()
    except CatalogError as error:
        return [checks.Error(str(error), hint=HINT, id="pingan.E300")]
    known = set(handlers.service_handlers)
    return [
        checks.Error(str(error), hint=HINT, id="pingan.E301")
        for error in catalog.unknown_handlers(definitions.values(), known)
    ]
