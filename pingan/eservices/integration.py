"""How the e-services plug into the rest: ratings of finished applications, indicators."""

from __future__ import annotations

from typing import Any

from pingan.eservices.models import Application

SUBJECT_TYPE = "eservices.application"


def rateable(subject_id: str) -> Any:
    """The ratings app's view of one application (None if there is no such application)."""
    from pingan.ratings.subjects import Rateable

    try:
        application = Application.objects.select_related("org").get(pk=int(subject_id))
    except (Application.DoesNotExist, ValueError):
        return None
    return Rateable(
        owner=application.applicant_id,
        org=application.org,
        finished=application.state == "completed",
        label=f"{application.service.name} {application.reference}",
        url=application.get_absolute_url(),
        channel=application.channel if application.channel in ("counter", "kiosk") else "online",
    )


def connect() -> None:
    from pingan.eservices import indicators

    indicators.register()
    from pingan.ratings import subjects

    subjects.register(SUBJECT_TYPE, rateable, demo_subjects=demo_subjects)


def demo_subjects(limit: int) -> list[str]:
    """Finished applications the demo may rate (the seed's, newest first)."""
    finished = Application.objects.filter(state="completed").order_by("-completed_at", "-id")
    return [str(pk) for pk in finished.values_list("pk", flat=True)[:limit]]
