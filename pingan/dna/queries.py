"""Reads of the DNA store, scoped by access first.

Genotypes are read only through :func:`profile_genotype`: the DNA examiner role is
required (an administrator, an auditor, an investigator or a counter officer is refused),
and every read is written on the timeline. Everything else here shows codes, states and
figures, never alleles.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from pingan.core import access, timeline
from pingan.dna.actions import EXAMINER, SAMPLING_ROLES
from pingan.dna.models import Candidate, Consent, Profile, Rescreen, Sample, SamplingPoint, SearchLog

REVIEW_STATES = ("open", "retest_ordered", "relative_requested")
# Who may see that a candidate exists and its state, for the records they handle.
CANDIDATE_VIEWERS = frozenset({EXAMINER, "investigator", "station_chief", "bureau_leader"})


def is_examiner(user: Any) -> bool:
    return any(post.role == EXAMINER for post in access.posts_of(user))


def points_public(*, division: str = "") -> QuerySet[SamplingPoint]:
    """The free sampling points (public)."""
    query = SamplingPoint.objects.filter(is_active=True).select_related("org")
    if division:
        query = query.filter(division_code__startswith=division)
    return query.order_by("division_code", "kind", "name")


def point_get(code: str) -> SamplingPoint:
    return points_public().get(code=code)


def consents_for(user: Any, *, record_reference: str = "") -> QuerySet[Consent]:
    query = access.scope(user, Consent.objects.select_related("point", "org"))
    if record_reference:
        query = query.filter(record_reference=record_reference.strip().upper())
    return query.order_by("-signed_at", "-id")


def samples_for(user: Any, *, state: str = "", record_reference: str = "") -> QuerySet[Sample]:
    query = access.scope(user, Sample.objects.select_related("consent", "point", "org"))
    if state:
        query = query.filter(state=state)
    if record_reference:
        query = query.filter(consent__record_reference=record_reference.strip().upper())
    return query.order_by("-collected_at", "-id")


def sample_get(user: Any, code: str) -> Sample:
    return samples_for(user).get(code=code)


def profiles_for(user: Any) -> QuerySet[Profile]:
    """Profiles' codes and loci counts (no alleles) for examiners."""
    if not is_examiner(user):
        return Profile.objects.none()
    return access.scope(user, Profile.objects.select_related("sample")).order_by("-created_at", "-id")


def profile_get(user: Any, code: str) -> Profile:
    return profiles_for(user).get(code=code)


def profile_genotype(user: Any, profile: Profile, *, purpose: str = "view") -> dict[str, list[str]]:
    """The alleles of ``profile``, for a DNA examiner in jurisdiction only; the read is
    written on the timeline. Anyone else: ``access.AccessDenied`` (logged)."""
    access.require(user, "view", profile, role=EXAMINER)
    timeline.record_read(profile, fields=["genotype"], actor=user, purpose=purpose)
    return profile.alleles()


def candidates_for(user: Any, *, state: str = "", record_reference: str = "") -> QuerySet[Candidate]:
    """Candidates the user may see: examiners in their jurisdiction; investigators, station
    chiefs and bureau leaders those whose missing or found record their unit handles."""
    base = Candidate.objects.select_related("org", "person_profile")
    if is_examiner(user) or access.is_everywhere(user):
        query = access.scope(user, base)
    elif access.user_kind(user) == "staff":
        within = access.jurisdiction_q(user, "", roles=CANDIDATE_VIEWERS, path_field="missing_org_path")
        within |= access.jurisdiction_q(user, "", roles=CANDIDATE_VIEWERS, path_field="found_org_path")
        query = base.filter(within)
    else:
        return Candidate.objects.none()
    if state:
        query = query.filter(state=state)
    if record_reference:
        reference = record_reference.strip().upper()
        query = query.filter(Q(missing_reference=reference) | Q(found_reference=reference))
    return query.order_by("-posterior", "-log10_lr", "id")


def candidate_get(user: Any, code: str) -> Candidate:
    return candidates_for(user).get(code=code)


def review_queue(user: Any) -> QuerySet[Candidate]:
    """The examiner's queue: candidates under review, highest posterior first."""
    if not is_examiner(user):
        return Candidate.objects.none()
    return candidates_for(user).filter(state__in=REVIEW_STATES)


def search_logs_for(user: Any) -> QuerySet[SearchLog]:
    if not is_examiner(user):
        return SearchLog.objects.none()
    return SearchLog.objects.select_related("profile").order_by("-at", "-id")


def rescreens_for(user: Any) -> QuerySet[Rescreen]:
    if not is_examiner(user):
        return Rescreen.objects.none()
    return Rescreen.objects.order_by("-day")


def may_sample(user: Any) -> bool:
    return bool(access.jurisdiction_paths(user, roles=SAMPLING_ROLES, action="act"))
