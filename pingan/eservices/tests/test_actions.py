from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from pingan.core import access, context, deadlines, timeline, workflow
from pingan.eservices import actions, catalog, queries
from pingan.eservices import samples as testing
from pingan.eservices.models import Application, Document
from pingan.eservices.tests.conftest import fill_and_upload, station_service, upload
from pingan.testing import factories

pytestmark = pytest.mark.django_db


def test_draft_submit_starts_the_clocks_and_is_idempotent(applicant):
    service = station_service(lambda s: s.workflow == "service_standard" and s.zero_trip)
    draft = actions.draft_create(actor=applicant, service_code=service.code, idempotency_key="k1")
    again = actions.draft_create(actor=applicant, service_code=service.code, idempotency_key="k1")
    assert again.pk == draft.pk
    assert draft.state == "draft"
    assert draft.reference.startswith("SQ")
    assert draft.org.code == "370102001"
    assert draft.org_path == draft.org.path
    fill_and_upload(draft, applicant)
    actions.submit(application=draft, actor=applicant, idempotency_key="s1")
    # A double click: the second submit returns the same application, nothing new.
    second = actions.submit(application=Application.objects.get(pk=draft.pk), actor=applicant, idempotency_key="s1")
    assert second.pk == draft.pk
    assert second.state == "submitted"
    assert Application.objects.filter(applicant=applicant).count() == 1
    clocks = {c.name: c for c in deadlines.clocks_for(second)}
    assert set(clocks) == {"legal", "promised"}
    assert all(c.due_at for c in clocks.values())
    assert second.submitted_at is not None
    assert second.due_at is not None
    actions_logged = list(timeline.events_for(second).values_list("action", flat=True))
    assert "eservices.draft_created" in actions_logged
    assert "workflow.submit" in actions_logged


def test_incomplete_draft_cannot_be_submitted_and_loses_nothing(applicant):
    service = station_service(lambda s: bool(s.form.get("required")))
    draft = actions.draft_create(actor=applicant, service_code=service.code)
    partial = testing.answers(service.form)
    missing = service.form["required"][0]
    partial.pop(missing)
    actions.draft_update(application=draft, actor=applicant, form_data=partial)
    with pytest.raises(ValidationError) as error:
        actions.submit(application=draft, actor=applicant)
    assert missing in error.value.message_dict
    draft.refresh_from_db()
    assert draft.state == "draft"
    assert draft.form_data == partial
    assert not deadlines.clocks_for(draft).exists()


def test_invalid_answers_are_refused_with_the_field_named(applicant):
    service = testing.pick(lambda s: any(p.get("format") == "resident-id" for p in s.form["properties"].values()))
    field = next(name for name, p in service.form["properties"].items() if p.get("format") == "resident-id")
    draft = actions.draft_create(actor=applicant, service_code=service.code, channel=service.channels[0])
    with pytest.raises(ValidationError) as error:
        actions.draft_update(application=draft, actor=applicant, form_data={field: "370102198806150241"})
    assert field in error.value.message_dict
    assert "身份证" in error.value.message_dict[field][0] or "校验" in error.value.message_dict[field][0]


def test_unknown_service_and_wrong_channel(applicant):
    with pytest.raises(ValidationError):
        actions.draft_create(actor=applicant, service_code="no_such_service")
    counter_only = [s for s in catalog.services().values() if set(s.channels) <= {"counter", "kiosk"}]
    if counter_only:
        with pytest.raises(ValidationError):
            actions.draft_create(actor=applicant, service_code=counter_only[0].code, channel="online")
    assert not Application.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.exe", testing.MINIMAL_PDF, "格式"),
        ("a.pdf", b"MZ\x90\x00not a pdf", "内容"),
        ("a.pdf", b"", "空"),
    ],
)
def test_bad_uploads_are_refused(applicant, name, content, message):
    service = station_service(lambda s: any("pdf" in d.types for d in s.documents))
    spec = next(d for d in service.documents if "pdf" in d.types)
    draft = actions.draft_create(actor=applicant, service_code=service.code)
    with pytest.raises(ValidationError) as error:
        actions.document_add(application=draft, actor=applicant, code=spec.code, upload=upload(name, content))
    assert message in str(error.value)
    assert not Document.objects.exists()


def test_oversized_upload_is_refused(applicant):
    service = station_service(lambda s: any("pdf" in d.types for d in s.documents))
    spec = next(d for d in service.documents if "pdf" in d.types)
    draft = actions.draft_create(actor=applicant, service_code=service.code)
    big = testing.MINIMAL_PDF + b"0" * (spec.max_mb * 1024 * 1024)
    with pytest.raises(ValidationError, match="MB"):
        actions.document_add(application=draft, actor=applicant, code=spec.code, upload=upload("big.pdf", big))


def test_staff_decide_with_a_supplement_pause(submitted, officer, applicant):
    actions.advance(application=submitted, action="accept", actor=officer)
    actions.advance(
        application=submitted, action="request_supplement", actor=officer, data={"items": "请补充户口簿首页"}
    )
    assert submitted.state == "supplement"
    assert {c.state for c in deadlines.clocks_for(submitted)} == {"paused"}
    assert submitted.due_at is None
    actions.advance(application=submitted, action="supplement", actor=applicant, data={"note": "已上传"})
    assert {c.state for c in deadlines.clocks_for(submitted)} == {"running"}
    actions.advance(application=submitted, action="approve", actor=officer)
    actions.advance(application=submitted, action="issue", actor=officer, data={"delivery": "网上告知"})
    submitted.refresh_from_db()
    assert submitted.state == "completed"
    assert submitted.completed_at is not None
    assert {c.state for c in deadlines.clocks_for(submitted)} == {"stopped"}
    assert queries.queue(officer).count() == 0


def test_the_citizen_cannot_decide_and_other_people_see_nothing(submitted, applicant):
    with pytest.raises(access.AccessDenied):
        actions.advance(application=submitted, action="accept", actor=applicant)
    stranger = factories.citizen("370102", name="李四")
    elsewhere = factories.staff("370202001", ["counter_officer"])
    auditor = factories.staff("3701", ["auditor"])
    assert not queries.applications_for(stranger).filter(pk=submitted.pk).exists()
    assert not queries.applications_for(elsewhere).filter(pk=submitted.pk).exists()
    assert queries.applications_for(auditor).filter(pk=submitted.pk).exists()
    assert not queries.queue(auditor).exists()  # the queue is work to do: auditors do none
    with pytest.raises(access.AccessDenied):
        actions.advance(application=submitted, action="accept", actor=auditor)
    with pytest.raises(access.AccessDenied) as denied:
        actions.advance(application=submitted, action="accept", actor=elsewhere)
    assert denied.value.decision.status == 404


def test_the_owner_withdraws(submitted, applicant):
    actions.advance(application=submitted, action="withdraw", actor=applicant, data={"reason": "不办了"})
    submitted.refresh_from_db()
    assert submitted.state == "withdrawn"
    assert submitted.completed_at is not None


def test_an_in_person_step_is_refused_online_and_done_at_the_counter(applicant, officer):
    service = station_service(lambda s: s.in_person_steps == ("accept",))
    application = actions.draft_create(actor=applicant, service_code=service.code)
    fill_and_upload(application, applicant)
    actions.submit(application=application, actor=applicant)
    with pytest.raises(workflow.InPersonRequired):
        actions.advance(application=application, action="accept", actor=officer, channel="web")
    actions.advance(application=application, action="accept", actor=officer, channel="counter")
    assert application.state == "under_review"


def test_counter_mode_completes_an_instant_service_in_one_sitting(officer):
    walk_in = factories.citizen("370102", name="王五", home_org_code="370102001")
    service = testing.pick(
        lambda s: s.workflow == "service_instant" and "counter" in s.channels and s.handled_at == "station"
    )
    with context.acting_as(officer, channel="counter"):
        application = actions.draft_create(
            actor=officer,
            service_code=service.code,
            applicant=walk_in,
            org=factories.org("370102001"),
            channel="counter",
            form_data=testing.answers(service.form),
        )
        for spec in service.documents:
            if spec.required:
                actions.document_add(
                    application=application, actor=officer, code=spec.code, upload=upload(*testing.document_for(spec))
                )
    taken = actions.counter_complete(application=application, actor=officer)
    application.refresh_from_db()
    assert taken == ["submit", "complete"]
    assert application.state == "completed"
    assert application.channel == "counter"
    assert application.created_by == officer
    assert application.applicant == walk_in


def test_counter_staff_only_register_in_their_jurisdiction(officer):
    walk_in = factories.citizen("370202", name="赵六")
    service = testing.pick(lambda s: "counter" in s.channels and s.handled_at == "station")
    with pytest.raises(access.AccessDenied):
        actions.draft_create(
            actor=officer,
            service_code=service.code,
            applicant=walk_in,
            org=factories.org("370202001"),
            channel="counter",
        )


def test_a_credential_is_issued_on_completion(applicant, officer, chief):
    service = testing.pick(
        lambda s: (
            s.credential is not None and s.handled_at == "station" and ("online" in s.channels or "app" in s.channels)
        )
    )
    application = actions.draft_create(actor=applicant, service_code=service.code)
    fill_and_upload(application, applicant)
    actions.submit(application=application, actor=applicant)
    with context.acting_as(officer, channel="counter"):
        for _round in range(8):
            application.refresh_from_db()
            available = workflow.available_actions(application, officer) or workflow.available_actions(
                application, chief
            )
            step = next(
                (
                    t
                    for t in available
                    if t.action in ("accept", "propose", "approve", "inspect", "issue", "collect", "complete")
                ),
                None,
            )
            if step is None:
                break
            actor = officer if step in workflow.available_actions(application, officer) else chief
            data = (
                {"opinion": "同意"}
                if step.action == "propose"
                else {"result": "合格"}
                if step.action == "inspect"
                else None
            )
            actions.advance(application=application, action=step.action, actor=actor, data=data, channel="counter")
    application.refresh_from_db()
    assert application.state == "completed"
    assert application.result.get("credential")


def test_every_status_change_is_queued_for_the_applicant(submitted, officer, applicant):
    from pingan.notify.models import Message

    before = Message.objects.filter(recipient=applicant).count()
    actions.advance(application=submitted, action="accept", actor=officer)
    assert Message.objects.filter(recipient=applicant).count() > before


def test_a_status_change_is_mailed_by_the_worker_not_during_the_request(
    submitted, officer, applicant, settings, mailoutbox, django_capture_on_commit_callbacks
):
    from pingan.core.management.commands import worker
    from pingan.notify import queries as notify_queries
    from pingan.notify.models import Channel, Message, Status
    from pingan.notify.sms import LocmemBackend

    settings.NOTIFY_SMS_BACKEND = "pingan.notify.sms.LocmemBackend"
    LocmemBackend.outbox = []
    applicant.email = "applicant@example.cn"
    applicant.save(update_fields=["email"])
    worker.run_pass()  # what earlier steps queued is sent first
    mailoutbox.clear()
    LocmemBackend.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        actions.advance(application=submitted, action="accept", actor=officer)
    queued = Message.objects.filter(recipient=applicant, subject_id=str(submitted.pk)).exclude(channel=Channel.IN_APP)
    waiting = list(queued.filter(status=Status.CREATED))
    # The request wrote the outbox in its transaction and sent nothing itself.
    assert {m.channel for m in waiting} == {Channel.EMAIL, Channel.SMS}
    assert mailoutbox == []
    assert LocmemBackend.outbox == []
    assert notify_queries.unread_count(applicant) >= 1  # in-app: there at once

    worker.run_pass()

    assert [m.to for m in mailoutbox] == [["applicant@example.cn"]]
    assert submitted.reference in mailoutbox[0].body
    assert len(LocmemBackend.outbox) == 1
    assert not queued.exclude(status=Status.DELIVERED).exists()
