from django.urls import include, path

from pingan.eservices import views

app_name = "eservices"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("s/<slug:code>/", views.service_detail, name="service"),
    path("s/<slug:code>/apply/", views.apply_start, name="apply"),
    path("mine/", views.my_applications, name="mine"),
    path("workbench/", views.workbench, name="workbench"),
    path("workbench/bulk/", views.workbench_bulk, name="workbench_bulk"),
    path("counter/", views.counter, name="counter"),
    path("counter/<slug:code>/", views.counter_apply, name="counter_apply"),
    path("a/<str:reference>/", views.application_detail, name="application"),
    path("a/<str:reference>/edit/", views.application_edit, name="edit"),
    path("a/<str:reference>/documents/", views.application_documents, name="documents"),
    path("a/<str:reference>/documents/<str:token>/", views.document_download, name="document"),
    path("a/<str:reference>/check/", views.application_check, name="check"),
    path("a/<str:reference>/submitted/", views.application_submitted, name="submitted"),
    path("a/<str:reference>/act/", views.application_act, name="act"),
    path("a/<str:reference>/counter-complete/", views.application_counter_complete, name="counter_complete"),
    path("a/<str:reference>/receipt/", views.application_receipt, name="receipt"),
    path("kiosk/", include("pingan.eservices.kiosk_urls")),
]
