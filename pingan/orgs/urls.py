from django.urls import path

from pingan.orgs import views

app_name = "orgs"

urlpatterns = [
    path("", views.directory, name="directory"),
    path("stations/", views.station_options, name="station_options"),
    path("<str:code>/", views.directory, name="unit"),
]
