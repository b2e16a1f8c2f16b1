"""The DNA pages through the test client: sample registration, profile entry (with its
errors), the candidate page's figures and actions, the search log."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from pingan.dna.models import Candidate, Consent, Profile, Sample, SearchLog
from pingan.dna.tests.conftest import relative_id
from pingan.testing.signin import staff_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_examiner(examiner) -> Client:
    return staff_login(Client(), examiner)


def test_sample_registration_form(make_record, as_examiner, point):
    record = make_record("missing")
    page = as_examiner.get(f"/dna/samples/new/?record={record.reference}")
    assert page.status_code == 200
    content = page.content.decode()
    assert "父亲" in content
    assert "母亲" in content
    assert "亲属1" not in content
    # Without the consent box: refused, nothing stored.
    donor = f"relative:{relative_id(record, 'father')}"
    refused = as_examiner.post(
        "/dna/samples/new/", {"record_reference": record.reference, "donor": donor, "point": point.code}
    )
    assert refused.status_code == 400
    assert "知情同意" in refused.content.decode()
    assert not Consent.objects.exists()
    done = as_examiner.post(
        "/dna/samples/new/",
        {"record_reference": record.reference, "donor": donor, "point": point.code, "agreed": "on"},
    )
    assert done.status_code == 302
    assert done["Location"] == f"/dna/records/{record.reference}/"
    sample = Sample.objects.get()
    assert sample.consent.relation == "father"
    assert sample.state == "collected"


def test_unknown_record_reference(as_examiner):
    page = as_examiner.get("/dna/samples/new/?record=XR404")
    assert page.status_code == 200
    assert "未找到该团圆记录编号" in page.content.decode()


def _sample_at_lab(record, relation, examiner, point, client):
    from pingan.dna import actions

    sample = actions.sample_register(
        record_reference=record.reference,
        relation=relation,
        relative_id=None if relation == "self" else relative_id(record, relation),
        point=point,
        actor=examiner,
        agreed=True,
    )
    response = client.post(f"/dna/samples/{sample.code}/receive/")
    assert response.status_code == 302
    sample.refresh_from_db()
    assert sample.state == "at_lab"
    return sample


def test_profile_entry_shows_every_problem_and_stores_nothing(make_record, examiner, point, as_examiner):
    sample = _sample_at_lab(make_record("seeker"), "self", examiner, point, as_examiner)
    url = f"/dna/samples/{sample.code}/profile/"
    response = as_examiner.post(url, {"text": "D3S1358,15,16,17\nXYZ1,10,11\nTH01,9.3,7\n"})
    assert response.status_code == 400
    content = response.content.decode()
    assert "D3S1358" in content
    assert "XYZ1" in content
    assert 'data-testid="problems"' in content
    assert not Profile.objects.exists()
    response = as_examiner.post(url, {"text": "{broken"})
    assert response.status_code == 400
    assert "JSON" in response.content.decode()
    response = as_examiner.post(url, {})
    assert response.status_code == 400


def test_profile_entry_by_upload_searches_at_once(
    make_record, examiner, point, as_examiner, people, type_person, django_capture_on_commit_callbacks
):
    family = people.family()
    missing = make_record("missing")
    type_person(missing, "father", family["father"])
    type_person(missing, "mother", family["mother"])
    sample = _sample_at_lab(make_record("seeker"), "self", examiner, point, as_examiner)
    upload = SimpleUploadedFile("lab.json", json.dumps(family["child"].to_json()).encode(), "application/json")
    with django_capture_on_commit_callbacks(execute=True):
        response = as_examiner.post(f"/dna/samples/{sample.code}/profile/", {"upload": upload})
    assert response.status_code == 302
    assert response["Location"] == "/dna/searches/"
    profile = Profile.objects.get(sample=sample)
    candidate = Candidate.objects.get()
    assert candidate.person_profile == profile
    log = as_examiner.get("/dna/searches/").content.decode()
    assert candidate.code in log
    assert profile.code in log
    # trio and duo; no sibling or second-degree relative is typed yet, so those sides are empty
    assert set(SearchLog.objects.filter(profile=profile).values_list("mode", flat=True)) == {"trio", "duo"}


def test_candidate_page_figures(story, as_examiner):
    candidate = Candidate.objects.get()
    content = as_examiner.get(f"/dna/candidates/{candidate.code}/").content.decode()
    for testid in ("combined-lr", "expected-false-hits", "posterior", "attribute-bf", "inconsistent", "loci"):
        assert f'data-testid="{testid}"' in content
    for marker in candidate.loci_lr:
        assert marker in content
    assert f"{candidate.expected_false_hits:.3f}" in content
    assert str(candidate.prior) in content
    assert 'data-action="order_retest"' in content
    assert 'data-action="exclude"' in content


def test_candidate_actions_through_the_page(story, as_examiner, point):
    candidate = Candidate.objects.get()
    url = f"/dna/candidates/{candidate.code}/"
    bad = as_examiner.post(url + "act/", {"action": "exclude", "reason": ""})
    assert bad.status_code == 400
    assert as_examiner.post(url + "act/", {"action": "nonsense"}).status_code == 400
    assert as_examiner.post(url + "act/", {"action": "order_retest"}).status_code == 302
    candidate.refresh_from_db()
    assert candidate.state == "retest_ordered"
    page = as_examiner.get(url).content.decode()
    assert 'data-action="retest"' in page
    wrong = as_examiner.post(url + "retest/", {"point": point.code, "text": "TH01,1,2,3"})
    assert wrong.status_code == 400
    text = json.dumps(story["family"]["child"].to_json())
    assert as_examiner.post(url + "retest/", {"point": point.code, "text": text}).status_code == 302
    candidate.refresh_from_db()
    assert candidate.state == "confirmed"
    assert 'data-action="reunion"' in as_examiner.get(url).content.decode()


def test_counter_officer_may_register_samples_but_not_see_the_lab(counter_officer):
    client = staff_login(Client(), counter_officer)
    assert client.get("/dna/samples/").status_code == 200
    assert client.get("/dna/review/").status_code == 403
    assert client.get("/dna/").status_code == 302


def test_unknown_codes_are_not_found(as_examiner):
    assert as_examiner.get("/dna/candidates/KNOPE/").status_code == 404
    assert as_examiner.get("/dna/profiles/PNOPE/").status_code == 404
    assert as_examiner.get("/dna/samples/SNOPE/profile/").status_code == 404


def test_list_pages_do_not_grow_queries_with_rows(story, as_examiner, make_record, type_person, people):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert as_examiner.get(url).status_code == 200
        return len(queries)

    pages = ("/dna/review/", "/dna/samples/", "/dna/searches/")
    before = {url: count(url) for url in pages}
    other = people.family()
    missing = make_record("missing", relations=("mother",))
    type_person(missing, "mother", other["mother"])
    type_person(make_record("found"), "self", other["child"])
    assert Candidate.objects.count() == 2
    assert {url: count(url) for url in pages} == before


def test_failed_typing_is_recorded(make_record, examiner, point, as_examiner):
    sample = _sample_at_lab(make_record("seeker"), "self", examiner, point, as_examiner)
    assert as_examiner.post(f"/dna/samples/{sample.code}/fail/", {"reason": ""}).status_code == 302
    sample.refresh_from_db()
    assert sample.state == "at_lab"  # refused without a reason
    as_examiner.post(f"/dna/samples/{sample.code}/fail/", {"reason": "DNA含量不足"})
    sample.refresh_from_db()
    assert sample.state == "failed"
    assert sample.failure_reason == "DNA含量不足"


def test_my_work_lists_the_dna_work(story, examiner, investigator, make_record, point):
    from pingan.dna import actions
    from pingan.dna import inbox as dna_inbox

    candidate = Candidate.objects.get()
    assert [e.reference for e in dna_inbox.review_entries(examiner, 10)] == [candidate.code]
    assert dna_inbox.review_entries(investigator, 10) == []
    record = make_record("seeker")
    sample = actions.sample_register(
        record_reference=record.reference, relation="self", relative_id=None, point=point, actor=examiner, agreed=True
    )
    assert [e.reference for e in dna_inbox.lab_entries(examiner, 10)] == [sample.code]
    assert dna_inbox.lab_entries(investigator, 10) == []
    actions.candidate_request_relative(candidate=candidate, actor=examiner, relation="full_sibling")
    entries = dna_inbox.relative_entries(investigator, 10)
    assert [e.reference for e in entries] == [candidate.code]
    assert "同胞" in entries[0].title
    client = staff_login(Client(), examiner)
    assert candidate.code not in client.get("/inbox/").content.decode()  # no longer under review
    assert sample.code in client.get("/inbox/").content.decode()
