"""The API's own reads: whose timeline a user may see."""

from __future__ import annotations

import pytest

from pingan.api import queries
from pingan.core import access, timeline
from pingan.core.models import TimelineEvent
from pingan.testing import factories

pytestmark = pytest.mark.django_db


def test_subject_get_resolves_registered_models(officer, resident):
    profile = resident.citizen
    assert queries.subject_get(officer, "accounts.citizenprofile", str(profile.pk)) == profile
    assert queries.subject_get(officer, " Accounts.CitizenProfile ", str(profile.pk)) == profile


@pytest.mark.parametrize(
    ("subject_type", "subject_id"),
    [
        ("nothing.here", "1"),
        ("accounts", "1"),
        ("core.timelineevent", "1"),  # a model with no access policy is never a subject
        ("accounts.citizenprofile", "abc"),
        ("accounts.citizenprofile", "-1"),
        ("accounts.citizenprofile", str(2**70)),
        ("accounts.citizenprofile", "0"),
    ],
)
def test_subject_get_unknown_is_404(officer, subject_type, subject_id):
    with pytest.raises(access.AccessDenied) as denied:
        queries.subject_get(officer, subject_type, subject_id)
    assert denied.value.decision.status == 404
    assert not TimelineEvent.objects.filter(action="access.denied").exists()


def test_subject_get_out_of_view_is_the_same_404_and_is_logged(outsider, resident):
    profile = resident.citizen
    with pytest.raises(access.AccessDenied) as denied:
        queries.subject_get(outsider, "accounts.citizenprofile", str(profile.pk))
    assert denied.value.decision.status == 404
    denial = TimelineEvent.objects.get(action="access.denied")
    assert denial.actor_id == outsider.pk
    assert denial.data["action"] == "view_timeline"


def test_citizens_see_their_own_history(resident, other_resident):
    own = queries.timeline_for_subject(resident, "accounts.citizenprofile", str(resident.citizen.pk))
    assert [event.action for event in own] == ["accounts.citizen_registered"]
    with pytest.raises(access.AccessDenied):
        queries.timeline_for_subject(resident, "accounts.citizenprofile", str(other_resident.citizen.pk))


def test_org_timeline_within_the_auditors_subtree(auditor, officer, outsider):
    jinan = factories.org("3701")
    events = list(queries.timeline_for_org(auditor, jinan))
    assert events
    assert all(event.org_path.startswith("37/3701/") for event in events)
    assert outsider.pk not in {int(event.subject_id) for event in events if event.subject_type == "accounts.user"}
    station = factories.org("370102001")
    assert set(queries.timeline_for_org(auditor, station)) <= set(events)


def test_org_timeline_refusals(auditor, officer, admin):
    with pytest.raises(access.AccessDenied) as outside:
        queries.timeline_for_org(auditor, factories.org("3702"))
    assert outside.value.decision.status == 403
    with pytest.raises(access.AccessDenied) as not_auditor:
        queries.timeline_for_org(officer, factories.org("370102001"))
    assert not_auditor.value.decision.status == 403
    assert queries.timeline_for_org(admin, factories.org("3702")).model is TimelineEvent


def test_org_timeline_includes_events_recorded_after(auditor):
    unit = factories.org("370102001")
    before = queries.timeline_for_org(auditor, unit).count()
    timeline.record(unit, "orgs.test_event")
    assert queries.timeline_for_org(auditor, unit).count() == before + 1
    assert queries.timeline_for_org(auditor, unit).first().action == "orgs.test_event"
