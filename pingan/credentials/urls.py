from django.urls import path

from pingan.credentials import views

app_name = "credentials"

urlpatterns = [
    path("", views.wallet, name="wallet"),
    path("keys.json", views.keys_json, name="keys"),
    path("revoked.json", views.revoked_json, name="revoked"),
    path("verify/", views.verify_page, name="verify"),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/<str:serial>/", views.staff_detail, name="staff_detail"),
    path("staff/<str:serial>/act/", views.staff_act, name="staff_act"),
    path("<str:serial>/", views.credential_detail, name="detail"),
    path("<str:serial>/qr/", views.credential_qr, name="qr"),
]
