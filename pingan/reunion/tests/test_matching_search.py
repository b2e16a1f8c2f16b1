"""The online candidate search and the candidate writes, on the database: blocking, order,
exclusions that stick, idempotent refresh, the review actions and their refusals, bounded
queries."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.utils import timezone

from pingan.core import access, registry, timeline
from pingan.reunion import matching
from pingan.reunion.models import AttributeCandidate, CandidateStatus, PersonRecord
from pingan.testing import factories

pytestmark = pytest.mark.django_db
_references = itertools.count(1)


@pytest.fixture(autouse=True)
def _record_policy() -> Iterator[None]:
    """The reunion app registers PersonRecord's policy; stand in for it if it has not (yet)."""
    label = PersonRecord._meta.label_lower
    if label in registry.access_policies:
        yield
        return
    policy = access.Policy(org_field="org", owner_field="reported_by", path_field="org_path")
    with registry.access_policies.unfrozen():
        registry.access_policies.register(label, policy)
        yield


@pytest.fixture
def officer() -> Any:
    return factories.staff("370102001", ["investigator"], name="钱侦查")


@pytest.fixture
def make(officer: Any) -> Callable[..., PersonRecord]:
    station = factories.org("370102001")

    def build(kind: str = "found", **fields: Any) -> PersonRecord:
        values: dict[str, Any] = {
            "state": "active",
            "reference": f"T{next(_references):07d}",
            "kind": kind,
            "circumstance": {"missing": "lost", "found": "wandering", "seeker": "adopted"}[kind],
            "org": station,
            "org_path": station.path,
            "channel": "police",
            "reported_by": officer,
            "reported_at": timezone.now(),
            "sex": "M",
            "birth_year_min": 2015,
            "birth_year_max": 2015,
            "event_date": dt.date(2020, 6, 1) if kind == "missing" else dt.date(2020, 6, 20),
            "place_text": "测试地点",
            "latitude": 36.65,
            "longitude": 117.00,
        }
        values.update(fields)
        org = values["org"]
        values["org_path"] = org.path
        return PersonRecord.objects.create(**values)

    return build


def ids(candidates: list[matching.Candidate]) -> list[int]:
    return [c.found_id for c in candidates]


# --- blocking ---------------------------------------------------------------------------------


def test_blocking_leaves_out_impossible_pairs(make):
    missing = make("missing")
    good = make("found")
    unknown_sex = make("found", sex="U")
    seeker_before = make("seeker", event_date=dt.date(2019, 1, 1), birth_year_min=2014, birth_year_max=2016)
    make("found", sex="F")  # the other sex
    make("found", event_date=dt.date(2020, 5, 31))  # found the day before going missing
    make("found", birth_year_min=2019, birth_year_max=2021)  # born 4+ years apart
    make("found", birth_year_min=2008, birth_year_max=2011)
    make("found", state="reported")  # not verified yet
    make("found", state="closed")
    make("missing")  # the same side
    found = matching.candidates_search(missing, min_log10_bf=-100)
    assert sorted(ids(found)) == sorted([good.pk, unknown_sex.pk, seeker_before.pk])


def test_blocking_tolerates_three_years_between_the_birth_year_ranges(make):
    missing = make("missing", birth_year_min=2015, birth_year_max=2015)
    edge = make("found", birth_year_min=2018, birth_year_max=2020)
    make("found", birth_year_min=2019, birth_year_max=2020)
    assert ids(matching.candidates_search(missing, min_log10_bf=-100)) == [edge.pk]


def test_a_found_record_searches_the_missing_records_reported_before_it(make):
    found = make("found", event_date=dt.date(2020, 6, 20))
    earlier = make("missing", event_date=dt.date(2020, 6, 1))
    make("missing", event_date=dt.date(2020, 6, 21))  # went missing after this person was found
    make("found")  # the same side
    result = matching.candidates_search(found, min_log10_bf=-100)
    assert [(c.missing_id, c.found_id) for c in result] == [(earlier.pk, found.pk)]


def test_a_missing_person_of_unknown_sex_is_compared_with_both(make):
    missing = make("missing", sex="U")
    boy, girl = make("found", sex="M"), make("found", sex="F")
    assert sorted(ids(matching.candidates_search(missing, min_log10_bf=-100))) == sorted([boy.pk, girl.pk])


# --- order, limit, threshold -----------------------------------------------------------------


def test_candidates_come_best_first_with_the_same_score_as_one_pair(make):
    missing = make("missing", height_cm=110, dialect="山东话", mark_tags=["头顶双旋"])
    near_and_soon = make("found", height_cm=111, dialect="山东口音", mark_tags=["头顶双旋"])
    near_only = make("found", event_date=dt.date(2024, 1, 1))
    far_and_late = make(
        "found",
        latitude=23.1,
        longitude=113.3,
        event_date=dt.date(2030, 1, 1),
        birth_year_min=2012,
        birth_year_max=2018,
    )
    tie_a = make("found", latitude=30.0, longitude=110.0)
    tie_b = make("found", latitude=30.0, longitude=110.0)
    result = matching.candidates_search(missing, min_log10_bf=-100)
    assert ids(result) == [near_and_soon.pk, near_only.pk, tie_a.pk, tie_b.pk, far_and_late.pk]
    scores = [c.log10_bf for c in result]
    assert scores == sorted(scores, reverse=True)
    for candidate in result:
        other = PersonRecord.objects.get(pk=candidate.found_id)
        assert candidate.log10_bf == pytest.approx(matching.attribute_log10_bf(missing, other))
        assert [r.text for r in candidate.reasons] == [r.text for r in matching.explain(missing, other)]


def test_limit_and_threshold(make):
    missing = make("missing")
    best = make("found")
    make("found", latitude=23.1, longitude=113.3, event_date=dt.date(2035, 1, 1))
    assert ids(matching.candidates_search(missing, limit=1, min_log10_bf=-100)) == [best.pk]
    high = matching.candidates_search(missing, min_log10_bf=3.0)
    assert ids(high) == [best.pk]
    assert matching.candidates_search(missing, limit=0) == []


def test_the_marks_decide_between_candidates_otherwise_alike(make):
    missing = make("missing", mark_tags=["六指", "唇裂"])
    plain = make("found")
    marked = make("found", mark_tags=["六指"])
    wrong = make("found", mark_tags=["文身"])
    described = make("found", marks="右手六指，唇裂")
    result = matching.candidates_search(missing, min_log10_bf=-100)
    assert ids(result)[0] == marked.pk
    assert ids(result)[-1] == wrong.pk
    levels = {c.found_id: next(r.level for r in c.reasons if r.comparison == "marks") for c in result}
    assert levels == {plain.pk: "na", marked.pk: "tags_strong", wrong.pk: "tags_none", described.pk: "na"}


def test_the_search_takes_two_queries_whatever_the_number_of_rows(make, django_assert_num_queries):
    missing = make("missing", mark_tags=["六指"])
    for i in range(40):
        make("found", mark_tags=["六指"] if i % 2 else [], height_cm=100 + i)
    missing = PersonRecord.objects.get(pk=missing.pk)
    with django_assert_num_queries(2):  # the blocked rows, then the current values of the best of them
        result = matching.candidates_search(missing, limit=10, min_log10_bf=-100)
    assert len(result) == 10


@pytest.fixture
def in_memory(monkeypatch) -> Iterator[None]:
    """Search every side from its in-memory snapshot, as for a large database."""
    monkeypatch.setattr(matching, "SNAPSHOT_FROM_ROWS", 1)
    matching.snapshots_clear()
    yield
    matching.snapshots_clear()


def test_the_in_memory_search_gives_the_same_candidates(make, in_memory, django_assert_max_num_queries):
    missing = make("missing", height_cm=112, mark_tags=["头顶双旋"], dialect="山东话")
    for i in range(30):
        make("found", height_cm=100 + i, mark_tags=["头顶双旋"] if i % 3 else [], latitude=36 + i / 10)
    make("found", sex="F")
    by_sql = matching.search_with_stats(missing, limit=12, min_log10_bf=-100)
    assert by_sql[1]["snapshot"] == 0  # the first search finds the side large...
    with django_assert_max_num_queries(4):  # load, exclusions, current values (growing chunks)
        in_memory = matching.search_with_stats(missing, limit=12, min_log10_bf=-100)
    assert in_memory[1]["snapshot"] == 1  # ...the next ones search it in memory
    assert [(c.found_id, c.log10_bf) for c in in_memory[0]] == [(c.found_id, c.log10_bf) for c in by_sql[0]]
    assert [c.reasons for c in in_memory[0]] == [c.reasons for c in by_sql[0]]
    with django_assert_max_num_queries(3):  # the newest ids, exclusions, current values
        assert matching.candidates_search(missing, limit=12, min_log10_bf=-100) == in_memory[0]


def test_the_in_memory_search_sees_new_records_states_and_exclusions(make, officer, in_memory):
    missing = make("missing")
    first = make("found", latitude=30.0)
    matching.candidates_search(missing, min_log10_bf=-100)  # marks the side large
    assert ids(matching.candidates_search(missing, min_log10_bf=-100)) == [first.pk]  # loaded
    newer = make("found")  # after the snapshot was loaded
    waiting = make("found", state="reported", latitude=36.0)  # ~72 km: between the two
    assert ids(matching.candidates_search(missing, min_log10_bf=-100)) == [newer.pk, first.pk]
    PersonRecord.objects.filter(pk=waiting.pk).update(state="active")  # verified: not a new id
    assert ids(matching.candidates_search(missing, min_log10_bf=-100)) == [newer.pk, waiting.pk, first.pk]
    PersonRecord.objects.filter(pk=newer.pk).update(state="reunited")
    assert ids(matching.candidates_search(missing, min_log10_bf=-100)) == [waiting.pk, first.pk]
    candidate = next(c for c in matching.candidates_refresh(missing) if c.found_id == first.pk)
    matching.candidate_exclude(candidate=candidate, actor=officer, reason="DNA比对排除")
    assert ids(matching.candidates_search(missing, min_log10_bf=-100)) == [waiting.pk]


def test_the_in_memory_search_scores_current_values(make, in_memory):
    missing = make("missing", height_cm=110)
    found = make("found", height_cm=110)
    matching.candidates_search(missing)
    before = matching.candidates_search(missing)[0]
    PersonRecord.objects.filter(pk=found.pk).update(height_cm=150)  # an edit the snapshot has not seen
    after = matching.candidates_search(missing)[0]
    assert after.log10_bf < before.log10_bf
    assert after.log10_bf == pytest.approx(matching.attribute_log10_bf(missing, PersonRecord.objects.get(pk=found.pk)))


# --- refresh ---------------------------------------------------------------------------------


def test_refresh_writes_the_candidates_and_is_idempotent(make):
    missing = make("missing")
    first, second = make("found"), make("found", latitude=36.0)
    make("found", sex="F")
    rows = matching.candidates_refresh(missing)
    assert [(c.missing_id, c.found_id) for c in rows] == [(missing.pk, first.pk), (missing.pk, second.pk)]
    assert all(c.status == CandidateStatus.OPEN for c in rows)
    assert rows[0].reasons[0]["comparison"] == "sex"
    assert rows[0].log10_bf == pytest.approx(matching.attribute_log10_bf(missing, first))
    events = timeline.events_for(missing).filter(action="reunion.candidates.refresh")
    assert events.count() == 1
    assert events.get().data["added"] == [first.pk, second.pk]
    stamps = dict(AttributeCandidate.objects.values_list("id", "updated_at"))

    again = matching.candidates_refresh(missing)
    assert [(c.pk, c.log10_bf) for c in again] == [(c.pk, c.log10_bf) for c in rows]
    assert dict(AttributeCandidate.objects.values_list("id", "updated_at")) == stamps
    assert events.count() == 1  # nothing changed, nothing recorded


def test_refresh_from_the_found_side_meets_the_same_pairs(make):
    missing = make("missing")
    found = make("found")
    matching.candidates_refresh(missing)
    rows = matching.candidates_refresh(found)
    assert [(c.missing_id, c.found_id) for c in rows] == [(missing.pk, found.pk)]
    assert AttributeCandidate.objects.count() == 1


def test_an_excluded_pair_is_never_proposed_again(make, officer):
    missing = make("missing")
    found = make("found")
    candidate = matching.candidates_refresh(missing)[0]
    matching.candidate_exclude(candidate=candidate, actor=officer, reason="DNA比对排除")
    assert matching.candidates_search(missing, min_log10_bf=-100) == []
    assert matching.candidates_search(found, min_log10_bf=-100) == []
    assert matching.candidates_refresh(missing) == []
    assert matching.candidates_refresh(found) == []
    kept = AttributeCandidate.objects.get()
    assert (kept.status, kept.exclusion_reason, kept.reviewed_by) == ("excluded", "DNA比对排除", officer)


def test_refresh_rescores_drops_stale_open_pairs_and_keeps_pursued_ones(make, officer):
    missing = make("missing", height_cm=110)
    pursued, dropped, rescored = make("found"), make("found"), make("found", height_cm=111)
    rows = {c.found_id: c for c in matching.candidates_refresh(missing)}
    matching.candidate_pursue(candidate=rows[pursued.pk], actor=officer)
    PersonRecord.objects.filter(pk__in=[pursued.pk, dropped.pk]).update(state="closed")
    PersonRecord.objects.filter(pk=rescored.pk).update(height_cm=140)
    after = {c.found_id: c for c in matching.candidates_refresh(missing)}
    assert set(after) == {pursued.pk, rescored.pk}
    assert after[pursued.pk].status == CandidateStatus.PURSUED
    assert after[rescored.pk].log10_bf < rows[rescored.pk].log10_bf
    assert next(r for r in after[rescored.pk].reasons if r["comparison"] == "height")["level"] == "same_far"
    assert timeline.events_for(missing).filter(action="reunion.candidates.refresh").last().data["removed"] == 1


def test_an_inactive_record_keeps_no_open_candidates(make):
    missing = make("missing")
    make("found")
    assert len(matching.candidates_refresh(missing)) == 1
    PersonRecord.objects.filter(pk=missing.pk).update(state="reunited")
    assert matching.candidates_refresh(missing) == []
    assert not AttributeCandidate.objects.exists()


def test_refresh_takes_a_bounded_number_of_queries(make, django_assert_max_num_queries):
    missing = make("missing")
    for i in range(30):
        make("found", height_cm=100 + i)
    with django_assert_max_num_queries(14):
        rows = matching.candidates_refresh(missing, limit=20)
    assert len(rows) == 20


# --- review ---------------------------------------------------------------------------------


def test_exclude_and_pursue_go_on_both_timelines(make, officer):
    missing, found = make("missing"), make("found")
    other = make("found", latitude=36.0)
    first, second = matching.candidates_refresh(missing)
    assert {first.found_id, second.found_id} == {found.pk, other.pk}
    pursued = matching.candidate_pursue(candidate=first, actor=officer)
    assert (pursued.status, pursued.reviewed_by) == ("pursued", officer)
    excluded = matching.candidate_exclude(candidate=second, actor=officer, reason="  身高不符  ")
    assert excluded.exclusion_reason == "身高不符"
    on_missing = list(
        timeline.events_for(missing).filter(action__startswith="reunion.candidate.").values_list("action", "data")
    )
    assert [(a, d["after"]["status"]) for a, d in on_missing] == [
        ("reunion.candidate.pursue", "pursued"),
        ("reunion.candidate.exclude", "excluded"),
    ]
    exclusion = on_missing[1][1]
    assert exclusion["reason"] == "身高不符"
    assert exclusion["before"] == {"status": "open"}
    assert (
        timeline.events_for(PersonRecord.objects.get(pk=second.found_id))
        .filter(action="reunion.candidate.exclude", data__missing=missing.reference)
        .exists()
    )
    # A pursued pair may still be excluded (the check ruled it out).
    assert matching.candidate_exclude(candidate=pursued, actor=officer, reason="DNA排除").status == "excluded"


def test_review_refusals(make, officer):
    missing = make("missing")
    make("found")
    candidate = matching.candidates_refresh(missing)[0]
    for bad in ("", " x ", "长" * 501, None):
        with pytest.raises(matching.CandidateRefused) as refused:
            matching.candidate_exclude(candidate=candidate, actor=officer, reason=bad)
        assert refused.value.status == 400
    matching.candidate_pursue(candidate=candidate, actor=officer)
    with pytest.raises(matching.CandidateRefused, match="已安排核查"):
        matching.candidate_pursue(candidate=candidate, actor=officer)
    matching.candidate_exclude(candidate=candidate, actor=officer, reason="已排除")
    with pytest.raises(matching.CandidateRefused, match="已排除"):
        matching.candidate_exclude(candidate=candidate, actor=officer, reason="再次排除")
    with pytest.raises(matching.CandidateRefused, match="不能安排核查"):
        matching.candidate_pursue(candidate=candidate, actor=officer)


def test_pursue_needs_both_records_active(make, officer):
    missing = make("missing")
    found = make("found")
    candidate = matching.candidates_refresh(missing)[0]
    PersonRecord.objects.filter(pk=found.pk).update(state="reunited")
    with pytest.raises(matching.CandidateRefused, match="不在查找中"):
        matching.candidate_pursue(candidate=candidate, actor=officer)


def test_review_needs_an_investigating_role_over_the_missing_record(make):
    missing = make("missing")
    make("found")
    candidate = matching.candidates_refresh(missing)[0]
    counter = factories.staff("370102001", ["counter_officer"])
    elsewhere = factories.staff("370202001", ["investigator"])
    for actor in (counter, elsewhere):
        with pytest.raises(access.AccessDenied):
            matching.candidate_exclude(candidate=candidate, actor=actor, reason="无关")
        with pytest.raises(access.AccessDenied):
            matching.candidate_pursue(candidate=candidate, actor=actor)
    assert AttributeCandidate.objects.get().status == CandidateStatus.OPEN
    assert timeline.events_for(missing).filter(action="access.denied").count() == 4
    chief = factories.staff("3701", ["bureau_leader"])
    assert matching.candidate_pursue(candidate=candidate, actor=chief).status == "pursued"


def test_candidates_for_is_scoped_by_the_record(make, officer, django_assert_num_queries):
    missing = make("missing")
    make("found")
    make("found", latitude=36.0)
    excluded = matching.candidates_refresh(missing)[1]
    matching.candidate_exclude(candidate=excluded, actor=officer, reason="已核实不是")
    mine = matching.candidates_for(user=officer, record=missing)
    with django_assert_num_queries(1):
        rows = list(mine)
        assert [r.found.reference for r in rows]  # related records come with the query
    assert len(rows) == 1
    everything = matching.candidates_for(user=officer, record=missing, statuses=list(CandidateStatus))
    assert everything.count() == 2
    elsewhere = factories.staff("370202001", ["investigator"])
    assert not matching.candidates_for(user=elsewhere, record=missing).exists()
