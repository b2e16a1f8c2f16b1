"""The demo seed step: tolerant of no subject types, idempotent when there are some."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from pingan.ratings import subjects
from pingan.ratings.models import Rating, Rectification
from pingan.testing import factories

pytestmark = pytest.mark.django_db


def seed(tmp_path) -> str:
    out = io.StringIO()
    call_command(
        "seed",
        "--only",
        "ratings.*",
        "--no-progress",
        "--credentials-file",
        str(tmp_path / "credentials.txt"),
        stdout=out,
    )
    return out.getvalue()


def test_without_rateable_subjects_the_step_does_nothing(tmp_path):
    with subjects.subject_types.unfrozen():
        subjects.subject_types._entries.clear()  # as before any module registers (restored on exit)
        output = seed(tmp_path)
    assert "ratings: no rateable subject type offers demo subjects yet; skipped" in output
    assert not Rating.objects.exists()


def test_with_subjects_a_few_ratings_and_one_open_rectification(tmp_path, services):
    people = [factories.citizen(name=f"市民{n}") for n in range(5)]
    for n, person in enumerate(people):
        services.add(person)
        services.add(person, finished=False, subject_id=f"U{n}")
    seed(tmp_path)
    assert Rating.objects.count() == 5
    assert Rectification.objects.count() == 1
    assert Rectification.objects.get().state == "verifying"
    assert Rating.objects.filter(level__lte=2).count() == 1
    levels = sorted(Rating.objects.values_list("subject_id", "level"))
    services.add(factories.citizen(name="新市民"))
    seed(tmp_path)
    assert Rating.objects.count() == 6  # the new one rated, the others untouched
    assert sorted(Rating.objects.exclude(subject_id="S0011").values_list("subject_id", "level")) == levels
    assert Rectification.objects.count() == 1
