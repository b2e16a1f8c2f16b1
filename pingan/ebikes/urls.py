from django.urls import path

from pingan.ebikes import views

app_name = "ebikes"

urlpatterns = [
    path("", views.mine, name="mine"),
    path("new/", views.new, name="new"),
    path("check/", views.check, name="check"),
    path("transfers/<int:pk>/", views.transfer_decide, name="transfer_decide"),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/counter/", views.counter, name="counter"),
    path("staff/counter/inspect/", views.counter_inspect, name="counter_inspect"),
    path("dealer/", views.dealer_home, name="dealer_home"),
    path("dealer/template.csv", views.import_template, {"fmt": "csv"}, name="template_csv"),
    path("dealer/template.xlsx", views.import_template, {"fmt": "xlsx"}, name="template_xlsx"),
    path("imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("imports/<int:pk>/errors.csv", views.import_errors, name="import_errors"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/act/", views.act, name="act"),
]
