"""System checks (``manage.py check``, run by ``make lint``): every API viewset that lists
records reads them through a query function scoped by the user."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core import checks

from pingan.api import base


def _overrides(cls: type, name: str) -> bool:
    """Does ``cls`` define ``name`` below the mixin that provides the default?"""
    for klass in cls.__mro__:
        if klass is base.ScopedQuerysetMixin:
            return False
        if name in vars(klass):
            return True
    return False


def unscoped_viewsets(viewsets: Iterable[type[Any]]) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    for viewset in viewsets:
        if not issubclass(viewset, base.ScopedQuerysetMixin) or viewset.__module__ == base.__name__:
            continue
        if viewset.query is None and not (
            _overrides(viewset, "scoped_queryset") or _overrides(viewset, "get_queryset")
        ):
            errors.append(
                checks.Error(
                    f"{viewset.__module__}.{viewset.__qualname__} reads records without a scoped query function",
                    hint="Declare `query = staticmethod(<app>.queries.<things>_for)` or override scoped_queryset().",
                    obj=viewset,
                    id="pingan.api.E001",
                )
            )
    return errors


@checks.register(checks.Tags.security)
def check_api_views(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from pingan.api import routes

    routes.discover()
    return unscoped_viewsets(routes.registered_viewsets())
