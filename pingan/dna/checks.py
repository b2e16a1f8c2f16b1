"""System check: the DNA settings (catalog/dna.yaml) must load, and name the frequency
table the engine ships, before the server starts."""

from __future__ import annotations

from typing import Any

from django.core import checks

from pingan.core.catalog import CatalogError


@checks.register()
def dna_settings_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from pingan.dna import config, screening

    config.reload()
    try:
        config.config()
    except CatalogError as error:
        return [checks.Error(str(error), id="dna.E001")]
    try:
        screening.table()
    except (LookupError, ImportError) as error:
        return [checks.Error(str(error), id="dna.E002")]
    return []
