"""System checks: the catalogue must load before the server starts (``manage.py check``)."""

from __future__ import annotations

from django.core import checks

from pingan.core.catalog import CatalogError, roles


@checks.register()
def catalog_roles_check(app_configs=None, **kwargs):
    try:
        roles()
    except CatalogError as error:
        return [checks.Error(str(error), id="pingan.E001")]
    return []
