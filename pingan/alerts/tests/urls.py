"""The site's URLs with the alert pages routed at /alerts/ (until pingan/urls.py includes
them, the tests of this app route them here)."""

from django.urls import include, path

from pingan.urls import handler400, handler403, handler404, handler500  # noqa: F401
from pingan.urls import urlpatterns as site_patterns

urlpatterns = list(site_patterns)
if not any(getattr(pattern, "namespace", None) == "alerts" for pattern in site_patterns):
    urlpatterns.append(path("alerts/", include("pingan.alerts.urls")))
