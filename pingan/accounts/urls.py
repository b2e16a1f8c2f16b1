from django.urls import path

from pingan.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/otp/", views.otp_view, name="otp"),
    path("otp/setup/", views.otp_setup_view, name="otp_setup"),
    path("logout/", views.logout_view, name="logout"),
    path("signup/", views.signup_view, name="signup"),
    path("me/", views.me_view, name="me"),
    path("me/reveal/", views.me_reveal_view, name="me_reveal"),
    path("me/password/", views.password_view, name="password"),
    path("staff/", views.staff_list_view, name="staff_list"),
    path("staff/new/", views.staff_create_view, name="staff_create"),
    path("staff/<str:badge_number>/", views.staff_detail_view, name="staff_detail"),
    path("staff/<str:badge_number>/posts/", views.post_add_view, name="post_add"),
    path("staff/<str:badge_number>/posts/<int:post_id>/end/", views.post_end_view, name="post_end"),
    path("staff/<str:badge_number>/totp/reset/", views.totp_reset_view, name="totp_reset"),
    path("citizens/lookup/", views.citizen_lookup_view, name="citizen_lookup"),
    path("citizens/<int:pk>/reveal/", views.citizen_reveal_view, name="citizen_reveal"),
]
