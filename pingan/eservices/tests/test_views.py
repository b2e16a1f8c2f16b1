from __future__ import annotations

import pytest
from django.urls import reverse

from pingan.eservices import actions, catalog
from pingan.eservices import samples as testing
from pingan.eservices.models import Application
from pingan.eservices.tests.conftest import station_service, upload
from pingan.testing import factories
from pingan.testing.signin import staff_login

pytestmark = pytest.mark.django_db


def login(client, user):
    if user.kind == "staff":
        return staff_login(client, user)
    client.force_login(user)
    return client


def test_catalogue_shows_the_computed_counts_and_finds_by_pinyin(client):
    response = client.get(reverse("eservices:catalogue"))
    assert response.status_code == 200
    summary = catalog.summary()
    assert str(summary["total"]) in response.text
    assert str(summary["zero_trip"]) in response.text
    for query in ("身份证", "shenfenzheng", "sfz"):
        page = client.get(reverse("eservices:catalogue"), {"q": query})
        assert page.status_code == 200
        assert "身份证" in page.text


@pytest.mark.parametrize("params", [{"department": "nope"}, {"event": "<script>"}, {"page": "-1"}, {"q": "x" * 500}])
def test_catalogue_bad_filters_never_fail(client, params):
    assert client.get(reverse("eservices:catalogue"), params).status_code == 200


def test_service_page_and_unknown_service(client):
    service = next(iter(catalog.services().values()))
    assert client.get(reverse("eservices:service", args=[service.code])).status_code == 200
    assert client.get(reverse("eservices:service", args=["no_such_service"])).status_code == 404


def test_apply_online_end_to_end(client, applicant):
    service = station_service(lambda s: s.workflow == "service_standard" and s.zero_trip)
    login(client, applicant)
    response = client.post(reverse("eservices:apply", args=[service.code]), {"key": "abc"})
    application = Application.objects.get(applicant=applicant)
    assert response.status_code == 302
    assert response.url == reverse("eservices:edit", args=[application.reference])
    # a retry of the same click makes no second draft
    client.post(reverse("eservices:apply", args=[service.code]), {"key": "abc"})
    assert Application.objects.filter(applicant=applicant).count() == 1
    answers = testing.answers(service.form)
    form_post = {name: ("on" if value is True else value) for name, value in answers.items()}
    response = client.post(reverse("eservices:edit", args=[application.reference]), {**form_post, "then": "next"})
    assert response.status_code == 302
    for spec in service.documents:
        if spec.required:
            response = client.post(
                reverse("eservices:documents", args=[application.reference]),
                {"code": spec.code, "file": upload(*testing.document_for(spec))},
            )
            assert response.status_code == 302
    page = client.get(reverse("eservices:check", args=[application.reference]))
    assert page.status_code == 200
    assert "确认提交" in page.text
    response = client.post(reverse("eservices:check", args=[application.reference]), {"key": "k"})
    assert response.status_code == 302
    response = client.post(reverse("eservices:check", args=[application.reference]), {"key": "k"})  # double click
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == "submitted"
    done = client.get(reverse("eservices:submitted", args=[application.reference]))
    assert application.reference in done.text
    assert "接下来" in done.text
    detail = client.get(application.get_absolute_url())
    assert detail.status_code == 200
    assert application.state_name in detail.text
    assert client.get(reverse("eservices:mine")).status_code == 200


def test_invalid_form_is_shown_again_with_errors(client, applicant):
    service = testing.pick(lambda s: any(p.get("format") == "mobile" for p in s.form["properties"].values()))
    field = next(name for name, p in service.form["properties"].items() if p.get("format") == "mobile")
    login(client, applicant)
    application = actions.draft_create(actor=applicant, service_code=service.code, channel=service.channels[0])
    response = client.post(reverse("eservices:edit", args=[application.reference]), {field: "12345", "then": "save"})
    assert response.status_code == 400
    assert "手机" in response.text


def test_other_people_get_404(client, submitted):
    login(client, factories.citizen("370102", name="李四"))
    assert client.get(submitted.get_absolute_url()).status_code == 404
    assert client.get(reverse("eservices:edit", args=[submitted.reference])).status_code == 404
    login(client, factories.staff("370202001", ["counter_officer"]))
    assert client.get(submitted.get_absolute_url()).status_code == 404
    response = client.post(reverse("eservices:act", args=[submitted.reference]), {"action": "accept", "version": "1"})
    assert response.status_code == 404


def test_workbench_lists_bulk_accepts_and_filters(client, submitted, officer):
    login(client, officer)
    page = client.get(reverse("eservices:workbench"))
    assert page.status_code == 200
    assert submitted.reference in page.text
    for params in ({"deadline": "overdue"}, {"department": "zzz"}, {"state": "bogus"}, {"page": "999"}):
        assert client.get(reverse("eservices:workbench"), params).status_code == 200
    response = client.post(reverse("eservices:workbench_bulk"), {"reference": [submitted.reference, "SQ000"]})
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.state == "under_review"


def test_staff_decide_on_the_page_with_a_stale_version(client, submitted, officer):
    login(client, officer)
    url = reverse("eservices:act", args=[submitted.reference])
    assert client.post(url, {"action": "accept", "version": str(submitted.version)}).status_code == 302
    stale = client.post(url, {"action": "approve", "version": str(submitted.version)})
    assert stale.status_code == 409
    submitted.refresh_from_db()
    missing = client.post(url, {"action": "request_supplement", "version": str(submitted.version)})
    assert missing.status_code == 400
    assert client.post(url, {"action": "accept", "version": "x"}).status_code == 400


def test_counter_pages(client, officer):
    walk_in = factories.citizen("370102", name="王五", home_org_code="370102001")
    login(client, officer)
    assert client.get(reverse("eservices:counter"), {"id_number": "123"}).status_code == 400
    number = walk_in.citizen.id_number
    page = client.get(reverse("eservices:counter"), {"id_number": number, "q": "证明"})
    assert page.status_code == 200
    assert walk_in.name in page.text
    service = testing.pick(
        lambda s: (
            s.workflow == "service_instant"
            and "counter" in s.channels
            and s.handled_at == "station"
            and not s.documents
        )
    )
    url = reverse("eservices:counter_apply", args=[service.code])
    form = {name: ("on" if v is True else v) for name, v in testing.answers(service.form).items()}
    response = client.post(url, {**form, "citizen_id": number, "org": "370102001", "key": "c1"})
    assert response.status_code == 302
    application = Application.objects.get(applicant=walk_in)
    assert application.channel == "counter"
    response = client.post(reverse("eservices:counter_complete", args=[application.reference]))
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == "completed"


def test_pages_need_the_right_kind_of_account(client, applicant):
    assert client.get(reverse("eservices:workbench")).status_code == 302
    login(client, applicant)
    assert client.get(reverse("eservices:workbench")).status_code == 403
    assert client.get(reverse("eservices:counter")).status_code == 403


def test_documents_are_served_only_to_those_who_may_see_them(client, applicant, officer):
    service = station_service(lambda s: any(d.required for d in s.documents))
    application = actions.draft_create(actor=applicant, service_code=service.code)
    spec = next(d for d in service.documents if d.required)
    name, content = testing.document_for(spec)
    doc = actions.document_add(application=application, actor=applicant, code=spec.code, upload=upload(name, content))
    url = reverse("eservices:document", args=[application.reference, doc.token])
    login(client, applicant)
    response = client.get(url)
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == content  # (read to the end: the client closes the file)
    login(client, factories.citizen("370102", name="李四"))
    assert client.get(url).status_code == 404


def test_the_unfiltered_queue_page_reuses_the_header_count(submitted, officer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from pingan.eservices import queries

    counts = queries.queue_counts(officer)
    assert counts["total"] == 1
    with CaptureQueriesContext(connection) as plain:
        page = queries.queue_page(officer, None, 1)
    with CaptureQueriesContext(connection) as counted:
        reused = queries.queue_page(officer, queries.QueueFilters(), 1, total=counts["total"])
    assert [a.reference for a in reused.object_list] == [a.reference for a in page.object_list] == [submitted.reference]
    assert (reused.paginator.count, reused.paginator.num_pages) == (1, 1)
    assert len(counted) == len(plain) - 1  # no COUNT of its own
    assert not any("COUNT(" in q["sql"].upper() for q in counted.captured_queries)
    # A filtered page counts its own rows: the header's total is not its size.
    filtered = queries.queue_page(officer, queries.QueueFilters(department="zzz"), 1, total=counts["total"])
    assert (filtered.paginator.count, list(filtered.object_list)) == (0, [])
