from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from pingan.eservices import actions
from pingan.eservices import samples as testing
from pingan.eservices.models import Application
from pingan.testing import factories

STATION = "370102001"  # 解放路派出所, Lixia district, Jinan


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploads go to a throwaway directory, never the developer's var/."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def applicant():
    return factories.citizen("370102", name="张三", home_org_code=STATION)


@pytest.fixture
def officer():
    return factories.staff(STATION, ["counter_officer"], name="窗口民警")


@pytest.fixture
def chief():
    return factories.staff(STATION, ["station_chief"], name="李所长")


@pytest.fixture
def county_officer():
    return factories.staff("370102", ["counter_officer"], name="分局窗口民警")


def upload(name: str = "photo.pdf", content: bytes = testing.MINIMAL_PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def fill_and_upload(application: Application, actor) -> Application:
    actions.draft_update(application=application, actor=actor, form_data=testing.answers(application.service.form))
    for spec in application.service.documents:
        if spec.required:
            actions.document_add(
                application=application, actor=actor, code=spec.code, upload=upload(*testing.document_for(spec))
            )
    return application


def station_service(predicate):
    return testing.pick(
        lambda s: s.handled_at == "station" and ("online" in s.channels or "app" in s.channels) and predicate(s)
    )


@pytest.fixture
def submitted(applicant):
    """A submitted application for a standard, zero-trip station service."""
    service = station_service(lambda s: s.workflow == "service_standard" and s.zero_trip)
    application = actions.draft_create(actor=applicant, service_code=service.code)
    fill_and_upload(application, applicant)
    return actions.submit(application=application, actor=applicant)
