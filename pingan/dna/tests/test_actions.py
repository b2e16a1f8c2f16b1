"""Sampling with consent, profile entry, search at once, review, re-test, deletion."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from pingan.core import access, timeline, workflow
from pingan.dna import actions, jobs, queries, screening
from pingan.dna import kinship as engine
from pingan.dna.config import config
from pingan.dna.models import Candidate, Consent, Profile, Rescreen, Sample, SamplingPoint, SearchLog
from pingan.dna.tests.conftest import People, relative_id
from pingan.testing import factories

pytestmark = pytest.mark.django_db


def _at_lab(record, relation, *, examiner, point, keep=False):
    rid = None if relation == "self" else relative_id(record, relation)
    sample = actions.sample_register(
        record_reference=record.reference,
        relation=relation,
        relative_id=rid,
        point=point,
        actor=examiner,
        agreed=True,
        keep_after_reunion=keep,
    )
    return actions.sample_receive(sample=sample, actor=examiner)


# --- Consent ------------------------------------------------------------------------------


def test_no_consent_no_sample(make_record, examiner, point):
    record = make_record("missing")
    with pytest.raises(ValidationError) as error:
        actions.sample_register(
            record_reference=record.reference,
            relation="father",
            relative_id=relative_id(record, "father"),
            point=point,
            actor=examiner,
            agreed=False,
        )
    assert "agreed" in error.value.message_dict
    assert not Consent.objects.exists()
    assert not Sample.objects.exists()


def test_consent_names_the_record_and_a_real_relative(make_record, examiner, point):
    record = make_record("missing", relations=("mother",))
    with pytest.raises(ValidationError) as error:
        actions.consent_record(record_reference="XR000000404", relation="father", actor=examiner, agreed=True)
    assert "record_reference" in error.value.message_dict
    # A missing person cannot give a sample themselves.
    with pytest.raises(ValidationError) as error:
        actions.consent_record(record_reference=record.reference, relation="self", actor=examiner, agreed=True)
    assert "relation" in error.value.message_dict
    # The relation must be the relative's own.
    with pytest.raises(ValidationError) as error:
        actions.consent_record(
            record_reference=record.reference,
            relation="father",
            relative_id=relative_id(record, "mother"),
            actor=examiner,
            agreed=True,
        )
    assert "relative_id" in error.value.message_dict
    consent = actions.consent_record(
        record_reference=record.reference,
        relation="mother",
        relative_id=relative_id(record, "mother"),
        actor=examiner,
        agreed=True,
        point=point,
    )
    assert consent.purpose == "identification"
    assert consent.org.code == "371502"
    assert consent.donor_code.startswith("D")
    assert consent.code.startswith("C")
    with pytest.raises(actions.DnaRefused):
        actions.consent_record(
            record_reference=record.reference,
            relation="mother",
            relative_id=relative_id(record, "mother"),
            actor=examiner,
            agreed=True,
        )
    assert [e.action for e in timeline.events_for(consent)] == ["dna.consent_recorded"]


def test_sampling_outside_jurisdiction_is_refused(make_record, counter_officer, point):
    record = make_record("missing")
    with pytest.raises(access.AccessDenied):
        actions.sample_register(
            record_reference=record.reference,
            relation="father",
            relative_id=relative_id(record, "father"),
            point=point,
            actor=counter_officer,  # a Jinan counter officer, a Liaocheng record and point
            agreed=True,
        )
    assert not Consent.objects.exists()


def test_local_counter_officer_records_consent_and_sample(make_record):
    station = factories.org("371502001")
    station_point = SamplingPoint.objects.create(
        code="PS371502001",
        name=station.name,
        kind="station",
        address="古楼派出所户籍窗口",
        latitude=station.latitude,
        longitude=station.longitude,
        org=station,
        division_code="371502",
    )
    officer = factories.staff("371502001", ["counter_officer"])
    record = make_record("missing")
    sample = actions.sample_register(
        record_reference=record.reference,
        relation="father",
        relative_id=relative_id(record, "father"),
        point=station_point,
        actor=officer,
        agreed=True,
    )
    assert sample.state == "collected"
    assert sample.consent.collected_by == officer
    # The officer cannot take the lab's steps.
    with pytest.raises(access.AccessDenied):
        actions.sample_receive(sample=sample, actor=officer)


def test_withdrawn_consent_stops_sampling_and_destroys_the_profile(make_record, examiner, point, people):
    record = make_record("seeker")
    sample = _at_lab(record, "self", examiner=examiner, point=point)
    profile = actions.profile_enter(sample=sample, data=people.stranger().to_json(), actor=examiner, search=False)
    actions.consent_withdraw(consent=sample.consent, actor=examiner, reason="本人要求")
    profile.refresh_from_db()
    sample.refresh_from_db()
    assert profile.deleted_at is not None
    assert profile.genotype == ""
    assert profile.alleles() == {}
    assert sample.state == "destroyed"
    with pytest.raises(actions.DnaRefused):
        actions.sample_collect(consent=sample.consent, point=point, actor=examiner)


# --- Profile entry ------------------------------------------------------------------------


def test_profile_errors_are_all_reported_and_nothing_is_stored(make_record, examiner, point):
    record = make_record("seeker")
    sample = _at_lab(record, "self", examiner=examiner, point=point)
    bad = {"D3S1358": [15, 16, 17], "NOTAMARKER": [10, 11], "TH01": ["nine"], "vWA": [16, 18]}
    with pytest.raises(engine.ProfileError) as error:
        actions.profile_enter(sample=sample, data=bad, actor=examiner)
    text = "\n".join(error.value.errors)
    assert "D3S1358" in text
    assert "NOTAMARKER" in text
    assert "TH01" in text
    assert len(error.value.errors) == 3
    sample.refresh_from_db()
    assert sample.state == "at_lab"
    assert not Profile.objects.exists()


def test_microvariant_is_kept_and_homozygote_accepted(make_record, examiner, point):
    record = make_record("seeker")
    sample = _at_lab(record, "self", examiner=examiner, point=point)
    profile = actions.profile_enter(
        sample=sample, data={"TH01": [9.3, 7], "D3S1358": [15], "vWA": ["16", "18"]}, actor=examiner, search=False
    )
    assert profile.alleles() == {"TH01": ["7", "9.3"], "D3S1358": ["15", "15"], "vWA": ["16", "18"]}
    assert profile.loci == 3
    assert profile.frequencies == screening.table().name
    # The genotype is encrypted at rest, and never written on the timeline.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT genotype FROM dna_profile WHERE id = %s", [profile.pk])
        stored = cursor.fetchone()[0]
    assert "9.3" not in stored
    assert all("9.3" not in str(event.data) for event in timeline.events_for(profile))


def test_upload_parsing_csv_and_json():
    assert actions.parse_upload("marker,allele1,allele2\nD3S1358,15,16\nTH01,9.3\n") == {
        "D3S1358": ["15", "16"],
        "TH01": ["9.3"],
    }
    assert actions.parse_upload(b'{"TH01": [9.3, 7]}', filename="x.json") == {"TH01": [9.3, 7]}
    with pytest.raises(engine.ProfileError):
        actions.parse_upload("{not json")
    with pytest.raises(engine.ProfileError):
        actions.parse_upload("D3S1358\n")
    with pytest.raises(engine.ProfileError):
        actions.parse_upload(b"\xff\xfe")


def test_a_sample_is_profiled_once(make_record, examiner, point, people):
    record = make_record("seeker")
    sample = _at_lab(record, "self", examiner=examiner, point=point)
    actions.profile_enter(sample=sample, data=people.stranger().to_json(), actor=examiner, search=False)
    with pytest.raises(actions.DnaRefused):
        actions.profile_enter(sample=sample, data=people.stranger().to_json(), actor=examiner, search=False)
    assert Profile.objects.count() == 1


# --- Search at once -----------------------------------------------------------------------


def test_new_profile_search_finds_the_planted_trio_and_not_the_lookalike(story):
    candidate = Candidate.objects.get()
    assert candidate.missing_reference == story["missing"].reference
    assert candidate.found_reference == story["seeker"].reference
    assert candidate.mode == "trio"
    assert candidate.state == "open"
    assert candidate.person_profile == story["child"]
    assert set(candidate.family_profiles.all()) == set(story["parents"])
    assert candidate.log10_lr > math.log10(config().threshold("trio"))
    assert math.isclose(candidate.log10_lr, math.log10(math.prod(candidate.loci_lr.values())), abs_tol=1e-6)
    assert not Candidate.objects.filter(found_reference=story["lookalike"].reference).exists()
    # The figures: N/T expected false hits for the families searched, the explicit prior,
    # the attribute factor and the posterior.
    assert candidate.threshold_lr == config().threshold("trio")
    assert candidate.database_size == 1  # one family with both parents typed
    assert candidate.expected_false_hits == pytest.approx(candidate.database_size / candidate.threshold_lr)
    assert candidate.prior == config().prior_in_database
    assert candidate.attribute_log10_bf is not None
    assert candidate.attribute_reasons
    assert 0.99 < candidate.posterior <= 1.0
    # The search is logged: the seeker's profile, per mode, with database size and hits.
    logs = SearchLog.objects.filter(profile=story["child"], kind="new_profile")
    trio = logs.get(mode="trio")
    assert trio.hits == 1
    assert trio.candidate_codes == [candidate.code]
    duo = logs.get(mode="duo")
    assert duo.database_size == 2  # the two parents
    assert duo.expected_false_hits == pytest.approx(2 / config().threshold("duo"))


def test_family_side_search_finds_a_person_typed_first(make_record, type_person, people):
    family = people.family()
    found = make_record("found")
    child = type_person(found, "self", family["child"])
    assert not Candidate.objects.exists()
    missing = make_record("missing", relations=("mother",))
    mother = type_person(missing, "mother", family["mother"])
    candidate = Candidate.objects.get()
    assert candidate.mode == "duo"
    assert candidate.person_profile == child
    assert list(candidate.family_profiles.all()) == [mother]
    assert SearchLog.objects.filter(profile=mother, mode="duo").get().hits == 1


def test_sibling_search(make_record, type_person, people):
    family = people.family()
    missing = make_record("missing", relations=("full_sibling",))
    sibling = type_person(missing, "full_sibling", family["full_sibling"])
    found = make_record("found")
    child = type_person(found, "self", family["child"])
    expected = engine.kinship("sibling", family["full_sibling"], family["child"], table=screening.table())
    log = SearchLog.objects.get(profile=child, mode="sibling")
    assert log.database_size == 1
    if expected.log10_lr >= math.log10(config().threshold("sibling")):
        candidate = Candidate.objects.get()
        assert candidate.mode == "sibling"
        assert list(candidate.family_profiles.all()) == [sibling]
        assert candidate.log10_lr == pytest.approx(expected.log10_lr)
        assert log.hits == 1
    else:
        assert not Candidate.objects.exists()
        assert log.hits == 0


def test_suggestion_of_the_next_relative(make_record, type_person, people):
    family = people.family()
    missing = make_record("missing", relations=("mother", "father"))
    type_person(missing, "mother", family["mother"])
    type_person(make_record("found"), "self", family["child"])
    candidate = Candidate.objects.get()
    assert candidate.mode == "duo"
    # The father is named on the record and not typed: typing him makes a trio.
    top = candidate.suggestions[0]
    assert top["relation"] == "father"
    assert top["gain"] > 0
    assert "三联体" in top["note"]


def test_request_relative_then_new_relative_reopens_with_the_trio(make_record, type_person, people, examiner):
    family = people.family()
    missing = make_record("missing", relations=("mother", "father"))
    type_person(missing, "mother", family["mother"])
    type_person(make_record("found"), "self", family["child"])
    candidate = Candidate.objects.get()
    actions.candidate_request_relative(candidate=candidate, actor=examiner, relation="father")
    assert candidate.state == "relative_requested"
    assert candidate.requested_relation == "father"
    type_person(missing, "father", family["father"])
    candidate.refresh_from_db()
    assert candidate.state == "open"
    assert candidate.mode == "trio"
    assert candidate.family_profiles.count() == 2


# --- Review -------------------------------------------------------------------------------


def test_excluded_pair_is_never_shown_again(story, examiner, type_person):
    candidate = Candidate.objects.get()
    before = candidate.log10_lr
    actions.candidate_exclude(candidate=candidate, actor=examiner, reason="复核父母身份有误")
    assert candidate.state == "excluded"
    assert candidate.exclusion_reason == "复核父母身份有误"
    assert not queries.review_queue(examiner).exists()
    # The nightly re-screen and a new search leave the pair alone.
    screening.rescreen_all()
    screening.search_new_profile(story["child"])
    candidate.refresh_from_db()
    assert candidate.state == "excluded"
    assert candidate.log10_lr == before
    assert Candidate.objects.count() == 1
    assert not queries.review_queue(examiner).exists()
    with pytest.raises(workflow.IllegalTransition):
        actions.candidate_order_retest(candidate=candidate, actor=examiner)


def test_exclusion_needs_a_reason(story, examiner):
    candidate = Candidate.objects.get()
    with pytest.raises(workflow.InputInvalid):
        actions.candidate_exclude(candidate=candidate, actor=examiner, reason="")
    candidate.refresh_from_db()
    assert candidate.state == "open"


def test_confirm_orders_retest_and_a_matching_retest_confirms(story, examiner, point):
    candidate = Candidate.objects.get()
    actions.candidate_order_retest(candidate=candidate, actor=examiner, note="请采集本人新血样")
    assert candidate.state == "retest_ordered"
    assert candidate.reviewed_by == examiner
    retest = actions.retest_collect_and_enter(
        candidate=candidate, point=point, data=story["family"]["child"].to_json(), actor=examiner
    )
    assert retest.retest_of == story["child"]
    assert retest.retest_matches is True
    assert retest.donor_code == story["child"].donor_code
    candidate.refresh_from_db()
    assert candidate.state == "confirmed"
    assert candidate.retest_profile == retest
    # A re-test is not searched as a new person (no second candidate, no log).
    assert Candidate.objects.count() == 1
    assert not SearchLog.objects.filter(profile=retest).exists()


def test_a_retest_that_differs_sends_the_candidate_back(story, examiner, point):
    candidate = Candidate.objects.get()
    actions.candidate_order_retest(candidate=candidate, actor=examiner)
    other = People(seed=99).stranger()
    actions.retest_collect_and_enter(candidate=candidate, point=point, data=other.to_json(), actor=examiner)
    candidate.refresh_from_db()
    assert candidate.state == "open"
    step = timeline.events_for(candidate).filter(action="workflow.retest_mismatch").get()
    assert step.data["input"]["loci"]


def test_retest_needs_the_order(story, examiner, point):
    candidate = Candidate.objects.get()
    with pytest.raises(actions.DnaRefused):
        actions.retest_collect_and_enter(
            candidate=candidate, point=point, data=story["family"]["child"].to_json(), actor=examiner
        )


def test_counter_officer_cannot_review(story, counter_officer):
    candidate = Candidate.objects.get()
    with pytest.raises(access.AccessDenied):
        actions.candidate_order_retest(candidate=candidate, actor=counter_officer)


# --- Nightly re-screen -------------------------------------------------------------------


def test_nightly_rescreen_runs_once_a_day_from_the_hour_and_is_idempotent(story, examiner):
    candidate = Candidate.objects.get()
    hour = config().rescreen_hour
    day = timezone.localtime().replace(hour=hour, minute=5, second=0, microsecond=0)
    if hour > 0:
        assert jobs.nightly_rescreen(now=day.replace(hour=hour - 1)) == "not yet"
    result = jobs.nightly_rescreen(now=day)
    assert "searches" in result
    run = Rescreen.objects.get()
    assert run.finished_at is not None
    assert run.created == 0
    assert run.updated >= 1
    assert jobs.nightly_rescreen(now=day + dt.timedelta(hours=3)) == "done today"
    assert Rescreen.objects.count() == 1
    candidate.refresh_from_db()
    assert candidate.state == "open"
    assert Candidate.objects.count() == 1
    # The next day runs again, still one candidate, same figures.
    before = (candidate.log10_lr, candidate.posterior)
    jobs.nightly_rescreen(now=day + dt.timedelta(days=1))
    candidate.refresh_from_db()
    assert Rescreen.objects.count() == 2
    assert Candidate.objects.count() == 1
    assert (candidate.log10_lr, candidate.posterior) == pytest.approx(before)
    assert SearchLog.objects.filter(kind="rescreen").exists()


def test_rescreen_finds_pairs_loaded_without_search(make_record, type_person, people):
    family = people.family()
    missing = make_record("missing")
    type_person(missing, "father", family["father"], search=False)
    type_person(missing, "mother", family["mother"], search=False)
    type_person(make_record("seeker"), "self", family["child"], search=False)
    assert not Candidate.objects.exists()
    outcome = screening.rescreen_all()
    assert len(outcome.created) == 1
    assert outcome.created[0].mode == "trio"
    again = screening.rescreen_all()
    assert not again.created
    assert Candidate.objects.count() == 1


# --- Reunion and deletion -----------------------------------------------------------------


def test_reunion_deletes_relatives_dna_unless_they_consented_to_keep_it(
    make_record, type_person, people, examiner, investigator, point, django_capture_on_commit_callbacks
):
    family = people.family()
    missing = make_record("missing")
    father = type_person(missing, "father", family["father"])
    mother = type_person(missing, "mother", family["mother"], keep=True)
    seeker = make_record("seeker")
    child = type_person(seeker, "self", family["child"])
    candidate = Candidate.objects.get()
    actions.candidate_order_retest(candidate=candidate, actor=examiner)
    actions.retest_collect_and_enter(candidate=candidate, point=point, data=family["child"].to_json(), actor=examiner)
    candidate.refresh_from_db()
    assert candidate.state == "confirmed"
    with django_capture_on_commit_callbacks(execute=True):
        reunion = actions.candidate_record_reunion(candidate=candidate, actor=investigator, note="DNA比中确认")
    assert reunion.evidence == candidate.code
    assert reunion.method == "dna"
    missing.refresh_from_db()
    seeker.refresh_from_db()
    assert missing.state == "reunited"
    assert seeker.state == "reunited"
    for profile in (father, mother, child):
        profile.refresh_from_db()
    assert father.deleted_at is not None
    assert father.genotype == ""
    assert father.deleted_reason == "reunited"
    assert father.sample.state == "destroyed"
    assert father.sample.destroyed_at is not None
    assert mother.deleted_at is None
    assert mother.alleles() == family["mother"].to_json()
    assert child.deleted_at is None  # the person's own profile is not a relative's
    assert timeline.events_for(father).filter(action="dna.profile_deleted").exists()
    # The tombstone keeps the candidate's figures for audit.
    candidate.refresh_from_db()
    assert candidate.log10_lr > 4
    assert father in candidate.family_profiles.all()


def test_reunion_needs_a_confirmed_candidate(story, investigator):
    candidate = Candidate.objects.get()
    with pytest.raises(actions.DnaRefused):
        actions.candidate_record_reunion(candidate=candidate, actor=investigator)


def test_posteriors_rank_by_dna_times_attributes():
    values = screening.posteriors([20.0, 5.0], n_families=100, prior=0.5)
    assert values[0] > 0.99
    assert values[1] < 1e-10
    alone = screening.posteriors([5.0], n_families=100, prior=0.5)
    # 10^5 over 100 families, prior 0.5: 0.005·10^5 / (0.5 + 0.005·10^5 + 0.005·99)
    assert alone[0] == pytest.approx(500 / (0.5 + 500 + 0.495), rel=1e-9)
