from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from pingan.eservices import samples as testing
from pingan.eservices.models import Application
from pingan.testing import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


def no_document_service():
    return testing.pick(
        lambda s: (
            s.handled_at == "station"
            and not any(d.required for d in s.documents)
            and "online" in s.channels
            and s.workflow == "service_standard"
        )
    )


def test_a_citizen_applies_once_per_idempotency_key(api, applicant):
    service = no_document_service()
    api.force_authenticate(applicant)
    body = {"service": service.code, "form": testing.answers(service.form), "submit": True}
    first = api.post("/api/v1/applications/", body, format="json", HTTP_IDEMPOTENCY_KEY="tap-1")
    assert first.status_code == 201, first.json()
    again = api.post("/api/v1/applications/", body, format="json", HTTP_IDEMPOTENCY_KEY="tap-1")
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["reference"] == first.json()["reference"]
    assert Application.objects.filter(applicant=applicant).count() == 1
    assert first.json()["state"] == "submitted"
    listed = api.get("/api/v1/applications/").json()
    assert [row["reference"] for row in listed["results"]] == [first.json()["reference"]]


def test_bad_answers_are_422_with_fields_and_nothing_is_kept(api, applicant):
    service = testing.pick(lambda s: bool(s.form.get("required")) and "online" in s.channels)
    api.force_authenticate(applicant)
    response = api.post("/api/v1/applications/", {"service": service.code, "form": {}, "submit": True}, format="json")
    assert response.status_code in (400, 422)
    assert service.form["required"][0] in str(response.json())
    assert not Application.objects.filter(applicant=applicant, state="submitted").exists()
    unknown = api.post("/api/v1/applications/", {"service": "nope"}, format="json")
    assert unknown.status_code == 400


def test_staff_take_steps_with_if_match_and_others_see_nothing(api, submitted, officer):
    api.force_authenticate(officer)
    url = f"/api/v1/applications/{submitted.reference}/"
    detail = api.get(url)
    assert detail.status_code == 200
    etag = detail["ETag"]
    moved = api.post(f"{url}transition/", {"action": "accept"}, format="json", HTTP_IF_MATCH=etag)
    assert moved.status_code == 200
    assert moved.json()["state"] == "under_review"
    stale = api.post(f"{url}transition/", {"action": "approve"}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code in (409, 412)
    api.force_authenticate(factories.staff("370202001", ["counter_officer"]))
    assert api.get(url).status_code == 404
    api.force_authenticate(factories.citizen("370102", name="李四"))
    assert api.get(url).status_code == 404


def test_staff_cannot_apply_through_the_citizen_endpoint(api, officer):
    service = no_document_service()
    api.force_authenticate(officer)
    response = api.post("/api/v1/applications/", {"service": service.code}, format="json")
    assert response.status_code == 403
    assert not Application.objects.exists()
