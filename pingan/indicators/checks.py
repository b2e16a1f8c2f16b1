"""``manage.py check`` (and so every start-up of the server) validates the indicator
catalogue: a broken declaration is reported with its file and line before anyone asks."""

from __future__ import annotations

from typing import Any

from django.core import checks

from pingan.core.catalog import CatalogError


@checks.register()
def indicator_catalogue(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from pingan.indicators.declarations import indicators

    try:
        indicators()
    except CatalogError as error:
        return [checks.Error(str(error), id="indicators.E001")]
    return []
