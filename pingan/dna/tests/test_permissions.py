"""The permission matrix of the DNA store: only the DNA examiner sees genotypes, and every
genotype read is on the timeline. Others may see that a candidate exists (for the records
their unit handles) and its state, never an allele."""

from __future__ import annotations

import pytest
from django.test import Client

from pingan.core import access, timeline
from pingan.dna import queries
from pingan.dna.models import Candidate
from pingan.testing import factories
from pingan.testing.signin import staff_login

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    if user is None:
        return client
    if getattr(user, "kind", "") == "staff":
        return staff_login(client, user)
    client.force_login(user)
    return client


@pytest.fixture
def users(examiner, investigator, counter_officer):
    return {
        "anonymous": None,
        "citizen": factories.citizen(),
        "counter_officer": counter_officer,
        "investigator": investigator,
        "investigator_elsewhere": factories.staff("370202-criminal", ["investigator"]),
        "administrator": factories.staff("37", ["administrator"]),
        "auditor": factories.staff("37", ["auditor"]),
        "examiner": examiner,
    }


def _genotype_strings(profile) -> list[str]:
    return ["/".join(pair) for pair in profile.alleles().values() if pair[0] != pair[1]][:6]


def _reads(profile) -> int:
    return timeline.events_for(profile).filter(action="personal_data.read").count()


@pytest.mark.parametrize("who", ["anonymous", "citizen", "counter_officer", "investigator", "administrator", "auditor"])
def test_only_the_examiner_reads_genotypes_through_queries(story, users, who):
    profile = story["child"]
    with pytest.raises(access.AccessDenied):
        queries.profile_genotype(users[who], profile)
    assert _reads(profile) == 0
    assert not queries.profiles_for(users[who]).filter(pk=profile.pk).exists()


def test_examiner_reads_genotype_and_the_read_is_logged(story, users):
    profile = story["child"]
    alleles = queries.profile_genotype(users["examiner"], profile, purpose="test")
    assert alleles == story["family"]["child"].to_json()
    read = timeline.events_for(profile).filter(action="personal_data.read").get()
    assert read.actor_id == users["examiner"].pk
    assert read.data == {"fields": ["genotype"], "purpose": "test"}


EXPECTED_PROFILE_PAGE = {
    "anonymous": 302,
    "citizen": 403,
    "counter_officer": 403,
    "investigator": 403,
    "investigator_elsewhere": 403,
    "administrator": 403,
    "auditor": 403,
    "examiner": 200,
}


@pytest.mark.parametrize("who", list(EXPECTED_PROFILE_PAGE))
def test_profile_page(story, users, who):
    profile = story["child"]
    response = _client(users[who]).get(f"/dna/profiles/{profile.code}/")
    assert response.status_code == EXPECTED_PROFILE_PAGE[who]
    content = response.content.decode()
    if who == "examiner":
        assert all(text in content for text in _genotype_strings(profile))
        assert _reads(profile) == 1
    else:
        assert not any(text in content for text in _genotype_strings(profile))
        assert _reads(profile) == 0


EXPECTED_CANDIDATE_PAGE = {
    "anonymous": 302,
    "citizen": 403,
    "counter_officer": 404,  # Jinan: not their records
    "investigator": 200,  # Liaocheng: handles both records — the state, no alleles
    "investigator_elsewhere": 404,
    "administrator": 200,  # sees every row, never an allele
    "auditor": 200,
    "examiner": 200,
}


@pytest.mark.parametrize("who", list(EXPECTED_CANDIDATE_PAGE))
def test_candidate_page(story, users, who):
    candidate = Candidate.objects.get()
    response = _client(users[who]).get(f"/dna/candidates/{candidate.code}/")
    assert response.status_code == EXPECTED_CANDIDATE_PAGE[who]
    content = response.content.decode()
    profiles = [story["child"], *story["parents"]]
    if who == "examiner":
        assert 'data-testid="loci"' in content
        assert all(text in content for text in _genotype_strings(story["child"]))
        assert all(_reads(profile) == 1 for profile in profiles)
    else:
        assert 'data-testid="loci"' not in content
        assert not any(text in content for profile in profiles for text in _genotype_strings(profile))
        assert all(_reads(profile) == 0 for profile in profiles)
        if response.status_code == 200:
            assert candidate.state_name in content
            assert 'data-action="order_retest"' not in content


EXPECTED_REVIEW = {
    "anonymous": 302,
    "citizen": 403,
    "counter_officer": 403,
    "investigator": 403,
    "administrator": 403,
    "examiner": 200,
}


@pytest.mark.parametrize("who", list(EXPECTED_REVIEW))
def test_review_queue_and_search_log_are_the_examiners(story, users, who):
    for url in ("/dna/review/", "/dna/searches/"):
        response = _client(users[who]).get(url)
        assert response.status_code == EXPECTED_REVIEW[who], url
    if who == "examiner":
        assert Candidate.objects.get().code in _client(users[who]).get("/dna/review/").content.decode()


def test_candidate_queries_by_jurisdiction(story, users):
    candidate = Candidate.objects.get()
    assert list(queries.candidates_for(users["investigator"])) == [candidate]
    assert not queries.candidates_for(users["investigator_elsewhere"]).exists()
    assert not queries.candidates_for(users["counter_officer"]).exists()
    assert not queries.candidates_for(users["citizen"]).exists()
    assert not queries.candidates_for(None).exists()
    assert not queries.review_queue(users["investigator"]).exists()
    assert list(queries.review_queue(users["examiner"])) == [candidate]


def test_record_page_shows_states_not_alleles(story, users):
    reference = story["seeker"].reference
    response = _client(users["investigator"]).get(f"/dna/records/{reference}/")
    assert response.status_code == 200
    content = response.content.decode()
    assert Candidate.objects.get().state_name in content
    assert story["child"].sample.code in content
    assert not any(text in content for text in _genotype_strings(story["child"]))
    assert _client(users["citizen"]).get(f"/dna/records/{reference}/").status_code == 403


def test_sampling_points_are_public(point, users):
    response = _client(None).get("/dna/points/")
    assert response.status_code == 200
    assert point.name in response.content.decode()
