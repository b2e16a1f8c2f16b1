"""``/api/``: the versioned endpoints, the OpenAPI schema and its Swagger UI.

Apps add endpoints from their own ``api.py`` (``pingan.api.routes``; see
docs/how-to/add-an-api.md). Anything else under ``/api/`` is the API's JSON 404.
"""

from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView

from pingan.api import routes
from pingan.api.docs import SwaggerView
from pingan.api.errors import not_found_view

app_name = "api"

routes.discover()

urlpatterns = [
    path("v1/", include(routes.urlpatterns())),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SwaggerView.as_view(url_name="api:schema"), name="docs"),
    re_path(r"^[\s\S]*$", csrf_exempt(not_found_view), name="not-found"),  # newlines too
]
