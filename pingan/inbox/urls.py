from django.urls import path

from pingan.inbox import views

app_name = "inbox"

urlpatterns = [
    path("", views.home, name="home"),
    path("notices/<int:pk>/read/", views.notice_read, name="notice_read"),
]
