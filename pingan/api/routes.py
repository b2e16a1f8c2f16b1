"""Where apps plug their endpoints into ``/api/v1/`` without editing the API app.

An app's ``api.py`` registers its viewsets at import time; the API's URLconf imports the
``api`` module of every installed ``pingan.*`` app first (as the admin discovers
``admin.py``), then builds one router from what was registered:

    # pingan/assignments/api.py
    from pingan.api import routes
    routes.register("assignments", AssignmentViewSet, basename="assignment")
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from django.apps import apps
from django.urls import URLPattern, URLResolver
from rest_framework.routers import SimpleRouter

_viewsets: dict[str, tuple[type[Any], str]] = {}
_paths: list[URLPattern | URLResolver] = []


def register(prefix: str, viewset: type[Any], *, basename: str) -> None:
    """Serve ``viewset`` under ``/api/v1/<prefix>/`` (URL names ``api:<basename>-list``…)."""
    existing = _viewsets.get(prefix)
    if existing is not None and existing[0] is not viewset:
        raise KeyError(f"API prefix {prefix!r} is registered twice ({existing[0].__name__}, {viewset.__name__})")
    _viewsets[prefix] = (viewset, basename)


def add_path(pattern: URLPattern | URLResolver) -> None:
    """A plain ``path(...)`` under ``/api/v1/`` (for an APIView that is not a viewset)."""
    if not any(str(existing.pattern) == str(pattern.pattern) for existing in _paths):
        _paths.append(pattern)


def discover() -> None:
    """Import ``<app>.api`` for every installed Pingan app that has one."""
    for config in apps.get_app_configs():
        if not config.name.startswith("pingan."):
            continue
        module = f"{config.name}.api"
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)


def registered_viewsets() -> list[type[Any]]:
    return [viewset for viewset, _ in _viewsets.values()]


def urlpatterns() -> list[URLPattern | URLResolver]:
    router = SimpleRouter(trailing_slash=True)
    for prefix, (viewset, basename) in sorted(_viewsets.items()):
        router.register(prefix, viewset, basename=basename)
    return [*_paths, *router.urls]
