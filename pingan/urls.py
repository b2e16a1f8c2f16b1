from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

urlpatterns = [
    path("", include("pingan.site.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("accounts/", include("pingan.accounts.urls")),
    path("orgs/", include("pingan.orgs.urls")),
    path("inbox/", include("pingan.inbox.urls")),
    path("assignments/", include("pingan.assignments.urls")),
    path("services/", include("pingan.eservices.urls")),
    path("credentials/", include("pingan.credentials.urls")),
    path("notifications/", include("pingan.notify.urls")),
    path("ratings/", include("pingan.ratings.urls")),
    path("ebikes/", include("pingan.ebikes.urls")),
    path("reunion/", include("pingan.reunion.urls")),
    path("alerts/", include("pingan.alerts.urls")),
    path("dna/", include("pingan.dna.urls")),
    path("indicators/", include("pingan.indicators.urls")),
    path("api/", include("pingan.api.urls")),
]

handler400 = "pingan.site.views.error_400"
handler403 = "pingan.site.views.error_403"
handler404 = "pingan.site.views.error_404"
handler500 = "pingan.site.views.error_500"
