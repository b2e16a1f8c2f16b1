from django.urls import path

from pingan.assignments import views

app_name = "assignments"

urlpatterns = [
    path("", views.assignment_list, name="list"),
    path("new/", views.assignment_new, name="new"),
    path("wall/", views.wall_chart, name="wall"),
    path("<str:reference>/", views.assignment_detail, name="detail"),
    path("<str:reference>/act/", views.assignment_act, name="act"),
]
