from django.urls import path

from pingan.ratings import views

app_name = "ratings"

urlpatterns = [
    path("", views.rating_list, name="list"),
    path("mine/", views.mine, name="mine"),
    path("rate/<str:subject_type>/<str:subject_id>/", views.rate, name="rate"),
    path("rectifications/", views.rectification_list, name="rectifications"),
    path("rectifications/<str:reference>/", views.rectification_detail, name="rectification"),
    path("rectifications/<str:reference>/act/", views.rectification_act, name="rectification_act"),
    path("rectifications/<str:reference>/contact/", views.rectification_contact, name="rectification_contact"),
]
