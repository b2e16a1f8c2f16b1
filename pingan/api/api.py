"""The foundation's own endpoints, registered like any other app's (see ``routes``)."""

from django.urls import path

from pingan.api import routes, views

routes.register("orgs", views.OrgUnitViewSet, basename="org")
routes.register("staff", views.StaffViewSet, basename="staff")
routes.register("citizens", views.CitizenViewSet, basename="citizen")
routes.register("timeline", views.TimelineViewSet, basename="timeline")
routes.add_path(path("me/", views.MeView.as_view(), name="me"))
