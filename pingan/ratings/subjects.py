"""What can be rated: apps register a subject type and a resolver in ``ready()``.

    from pingan.ratings import subjects

    def resolve(subject_id: str) -> subjects.Rateable | None:
        application = Application.objects.select_related("org").filter(reference=subject_id).first()
        if application is None:
            return None
        return subjects.Rateable(owner=application.applicant_id, org=application.org,
                                 finished=application.state in FINISHED, label=application.service_name,
                                 url=application.get_absolute_url(), channel=application.channel)

    subjects.register("eservices.application", resolve, demo_subjects=finished_demo_applications)

A resolver answers for any id — including ids that do not exist (``None``) — and does
not check who asks: the ratings app compares ``owner`` with the rater itself. The
optional ``demo_subjects(limit)`` lists ids of finished subjects for the demo seed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pingan.core import registry
from pingan.ratings.scheme import CHANNELS

SUBJECT_TYPE_RE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
MAX_SUBJECT_ID = 64


@dataclass(frozen=True)
class Rateable:
    """A subject as the ratings app sees it."""

    owner: int  # the user id of the person served: the only one who may rate it
    org: Any  # the OrgUnit responsible for the service: it answers for bad ratings
    finished: bool  # only finished services are rated
    label: str  # what the rater and the staff see, e.g. "居民身份证换领"
    url: str  # the subject's page
    channel: str  # online | counter | kiosk (which indicators are asked)


Resolver = Callable[[str], Rateable | None]
DemoSubjects = Callable[[int], list[str]]


@dataclass(frozen=True)
class SubjectType:
    code: str
    resolver: Resolver
    demo_subjects: DemoSubjects | None = None


def _registry() -> registry.Registry:
    # Until the core declares ``registry.rating_subjects`` (requested of the lead), the
    # ratings app keeps its own and adds it to the registries ``pingan.site`` freezes.
    shared = getattr(registry, "rating_subjects", None)
    if shared is not None:
        return shared
    own = registry.Registry("rating_subjects")
    registry.ALL.append(own)
    registry.rating_subjects = own  # type: ignore[attr-defined]
    return own


subject_types: registry.Registry = _registry()


def register(subject_type: str, resolver: Resolver, *, demo_subjects: DemoSubjects | None = None) -> SubjectType:
    """Make ``subject_type`` rateable (call from ``AppConfig.ready()``)."""
    if not SUBJECT_TYPE_RE.match(subject_type) or len(subject_type) > 60:
        raise ValueError(f"subject type {subject_type!r} must look like 'app_label.thing'")
    if not callable(resolver):
        raise TypeError("resolver must be callable: resolver(subject_id) -> Rateable | None")
    return subject_types.register(subject_type, SubjectType(subject_type, resolver, demo_subjects))


def is_registered(subject_type: str) -> bool:
    return subject_type in subject_types


def registered() -> list[SubjectType]:
    return subject_types.values()


def resolve(subject_type: str, subject_id: str) -> Rateable | None:
    """The subject, or ``None`` when the type is not registered, the id is malformed or
    nothing has that id. A resolver returning a malformed Rateable is a bug: ``TypeError``."""
    if subject_type not in subject_types or not isinstance(subject_id, str):
        return None
    if not subject_id or len(subject_id) > MAX_SUBJECT_ID:
        return None
    subject = subject_types.get(subject_type).resolver(subject_id)
    if subject is None:
        return None
    if not isinstance(subject, Rateable) or subject.channel not in CHANNELS:
        raise TypeError(f"resolver of {subject_type!r} returned {subject!r}: a Rateable with channel in {CHANNELS}")
    return subject
