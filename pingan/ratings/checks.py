"""System check: the rating scheme (catalog/ratings.yaml) must load before the server starts."""

from __future__ import annotations

from typing import Any

from django.core import checks

from pingan.core.catalog import CatalogError


@checks.register()
def rating_scheme_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from pingan.ratings import scheme

    scheme.reload()
    try:
        scheme.scheme()
    except CatalogError as error:
        return [checks.Error(str(error), id="ratings.E001")]
    return []
