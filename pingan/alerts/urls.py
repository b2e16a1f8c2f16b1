from django.urls import path

from pingan.alerts import views

app_name = "alerts"

urlpatterns = [
    path("", views.public_list, name="public_list"),
    path("subscription/", views.subscription, name="subscription"),
    path("subscription/delete/", views.unsubscribe, name="unsubscribe"),
    path("received/", views.received, name="received"),
    path("a/<str:reference>/", views.public_detail, name="public"),
    path("a/<str:reference>/photo/", views.alert_photo, name="photo"),
    path("a/<str:reference>/clue/", views.clue_send, name="clue"),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/<str:reference>/", views.staff_detail, name="staff_detail"),
    path("staff/<str:reference>/withdraw/", views.withdraw, name="withdraw"),
    path("staff/<str:reference>/clues/<int:pk>/triage/", views.clue_triage, name="clue_triage"),
    path("staff/<str:reference>/clues/<int:pk>/photo/", views.clue_photo, name="clue_photo"),
]
