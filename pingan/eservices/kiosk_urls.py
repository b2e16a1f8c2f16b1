"""Self-service kiosk pages (mounted at ``/services/kiosk/`` inside the eservices namespace)."""

from django.urls import path

from pingan.eservices import kiosk

urlpatterns = [
    path("", kiosk.home, name="kiosk_home"),
    path("c/<slug:category>/", kiosk.category, name="kiosk_category"),
    path("s/<slug:code>/", kiosk.service, name="kiosk_service"),
    path("s/<slug:code>/apply/", kiosk.apply, name="kiosk_apply"),
    path("identify/", kiosk.identify, name="kiosk_identify"),
    path("verify/", kiosk.verify, name="kiosk_verify"),
    path("receipt/<str:reference>/", kiosk.receipt, name="kiosk_receipt"),
    path("end/", kiosk.end, name="kiosk_end"),
    path("language/", kiosk.language, name="kiosk_language"),
    path("ping/", kiosk.ping, name="kiosk_ping"),
]
