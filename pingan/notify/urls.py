from django.urls import path

from pingan.notify import views

app_name = "notify"

urlpatterns = [
    path("", views.message_list, name="list"),
    path("read-all/", views.read_all, name="read_all"),
    path("<int:pk>/read/", views.message_read, name="read"),
]
