"""System checks: the alert scheme (catalog/alerts.yaml) must load before the server
starts, and the alert pages must be routed (their menu entries appear only then)."""

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


@checks.register(checks.Tags.urls)
def alert_urls_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from pingan.alerts.menu import routed

    if not routed():
        return [
            checks.Warning(
                "the alerts pages are not routed",
                hint='add path("alerts/", include("pingan.alerts.urls")) to pingan/urls.py',
                id="alerts.W001",
            )
        ]
    return []
