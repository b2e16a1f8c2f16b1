from django.urls import path

from pingan.reunion import views

app_name = "reunion"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("report/", views.report, name="report"),
    path("seek/", views.seek, name="seek"),
    path("mine/", views.mine, name="mine"),
    path("register/", views.register, name="register"),
    path("cold-cases/", views.cold_cases, name="cold_cases"),
    path("teams/", views.teams, name="teams"),
    path("reunions/", views.reunions, name="reunions"),
    path("r/<str:reference>/", views.record_detail, name="record"),
    path("r/<str:reference>/act/", views.record_act, name="act"),
    path("r/<str:reference>/unmask/", views.record_unmask, name="unmask"),
    path("r/<str:reference>/alert/", views.record_alert, name="alert"),
    path("r/<str:reference>/reunite/", views.record_reunite, name="reunite"),
    path("r/<str:reference>/relatives/", views.record_relative, name="relative_add"),
    path("r/<str:reference>/photos/", views.record_photo, name="photo_add"),
    path("r/<str:reference>/photos/<str:token>/", views.record_photo_file, name="photo"),
    path("r/<str:reference>/candidates/<int:pk>/<str:verb>/", views.candidate_review, name="candidate"),
]
