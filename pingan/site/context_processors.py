from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from pingan.site.menu import menu_for


def site(request: HttpRequest) -> dict[str, Any]:
    return {
        "DEMO_MODE": settings.DEMO_MODE,
        "menu": menu_for(request.user) if hasattr(request, "user") else [],
    }
