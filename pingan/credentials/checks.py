"""System check: the credentials catalogue loads (``manage.py check``)."""

from __future__ import annotations

from typing import Any

from django.core import checks

from pingan.core.catalog import CatalogError


@checks.register()
def credentials_catalog_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from pingan.credentials import catalog

    catalog.reload()
    try:
        catalog.kinds()
    except CatalogError as error:
        return [checks.Error(str(error), id="pingan.credentials.E001")]
    return []
