"""The DNA work in the staff's "my work": candidates to review and samples at the lab
(examiners), relatives' samples asked for (the records' investigators)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pingan.dna import queries
from pingan.dna.models import Candidate, Sample
from pingan.inbox.sources import InboxEntry, InboxSource
from pingan.inbox.sources import register as register_source


def _review(user: Any) -> Any:
    return queries.review_queue(user).filter(state__in=("open", "retest_ordered"))


def _candidate_entry(candidate: Candidate, kind: str, title: str) -> InboxEntry:
    return InboxEntry(
        kind=kind,
        title=title,
        url=candidate.get_absolute_url(),
        due_at=None,
        state_label=candidate.state_name,
        unit_name=candidate.org.name,
        reference=candidate.code,
        created_at=candidate.created_at,
    )


def review_entries(user: Any, limit: int) -> list[InboxEntry]:
    return [
        _candidate_entry(
            candidate,
            "dna_review",
            _("DNA比中研判：%(missing)s ↔ %(found)s")
            % {"missing": candidate.missing_reference, "found": candidate.found_reference},
        )
        for candidate in _review(user)[:limit]
    ]


def _lab(user: Any) -> Any:
    if not queries.is_examiner(user):
        return Sample.objects.none()
    return queries.samples_for(user).filter(state__in=("collected", "at_lab")).order_by("collected_at", "id")


def lab_entries(user: Any, limit: int) -> list[InboxEntry]:
    return [
        InboxEntry(
            kind="dna_lab",
            title=_("DNA检材：%(code)s（%(relation)s）")
            % {"code": sample.code, "relation": sample.consent.get_relation_display()},
            url=reverse("dna:profile_enter", args=[sample.code])
            if sample.state == "at_lab"
            else reverse("dna:samples") + "?state=collected",
            due_at=None,
            state_label=sample.state_name,
            unit_name=sample.org.name,
            reference=sample.code,
            created_at=sample.collected_at,
        )
        for sample in _lab(user)[:limit]
    ]


def _relatives(user: Any) -> Any:
    if queries.is_examiner(user):
        return Candidate.objects.none()
    return queries.candidates_for(user, state="relative_requested")


def relative_entries(user: Any, limit: int) -> list[InboxEntry]:
    return [
        _candidate_entry(
            candidate,
            "dna_relatives",
            _("补采亲属DNA：%(reference)s 的%(relation)s")
            % {"reference": candidate.missing_reference, "relation": candidate.get_requested_relation_display()},
        )
        for candidate in _relatives(user)[:limit]
    ]


def register() -> None:
    register_source(
        InboxSource(
            key="dna_review",
            label=gettext_lazy("DNA比中研判"),
            entries=review_entries,
            count=lambda user: _review(user).count(),
            order=26,
        )
    )
    register_source(
        InboxSource(
            key="dna_lab",
            label=gettext_lazy("DNA检材"),
            entries=lab_entries,
            count=lambda user: _lab(user).count(),
            order=27,
        )
    )
    register_source(
        InboxSource(
            key="dna_relatives",
            label=gettext_lazy("补采亲属DNA"),
            entries=relative_entries,
            count=lambda user: _relatives(user).count(),
            order=28,
        )
    )
