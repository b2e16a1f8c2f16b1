"""System check: the alert scheme (catalog/alerts.yaml) must load before the server starts."""

from __future__ import annotations

from typing import Any

from django.core import checks

from pingan.core.catalog import CatalogError


@checks.register()
def alert_scheme_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from pingan.alerts import schedule

    schedule.reload()
    try:
        schedule.scheme()
    except CatalogError as error:
        return [checks.Error(str(error), id="alerts.E001")]
    return []
