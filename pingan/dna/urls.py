from django.urls import path

from pingan.dna import views

app_name = "dna"

urlpatterns = [
    path("", views.index, name="index"),
    path("points/", views.points, name="points"),
    path("samples/", views.samples, name="samples"),
    path("samples/new/", views.sample_register, name="sample_register"),
    path("samples/<str:code>/receive/", views.sample_receive, name="sample_receive"),
    path("samples/<str:code>/fail/", views.sample_fail, name="sample_fail"),
    path("samples/<str:code>/profile/", views.profile_enter, name="profile_enter"),
    path("profiles/<str:code>/", views.profile_detail, name="profile"),
    path("records/<str:reference>/", views.record, name="record"),
    path("review/", views.review, name="review"),
    path("candidates/<str:code>/", views.candidate_detail, name="candidate"),
    path("candidates/<str:code>/act/", views.candidate_act, name="candidate_act"),
    path("candidates/<str:code>/retest/", views.candidate_retest, name="candidate_retest"),
    path("candidates/<str:code>/reunion/", views.candidate_reunion, name="candidate_reunion"),
    path("searches/", views.searches, name="searches"),
]
