"""Writes to the inbox: posting notices to officers and marking them read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from pingan.core import timeline
from pingan.inbox.models import Notice
from pingan.orgs.models import OrgUnit


@transaction.atomic
def notice_post(
    *,
    recipients: Iterable[Any],
    kind: str,
    title: str,
    subject: tuple[str, str],
    org: OrgUnit,
    body: str = "",
    url: str = "",
    due_at: dt.datetime | None = None,
) -> list[Notice]:
    """Post a notice to each recipient; one per (recipient, kind, subject), re-posting is a no-op."""
    subject_type, subject_id = subject
    posted = []
    for recipient in recipients:
        notice, created = Notice.objects.get_or_create(
            recipient=recipient,
            kind=kind,
            subject_type=subject_type,
            subject_id=str(subject_id),
            defaults={"title": title[:200], "body": body, "url": url, "org": org, "due_at": due_at},
        )
        if created:
            posted.append(notice)
    if posted:
        timeline.record(
            (subject_type, subject_id),
            f"inbox.notice_{kind}",
            org_path=org.path,
            data={"recipients": [notice.recipient_id for notice in posted], "title": title[:200]},
        )
    return posted


@transaction.atomic
def notice_mark_read(*, notice: Notice, user: Any) -> Notice:
    locked = Notice.objects.select_for_update().get(pk=notice.pk, recipient=user)
    if locked.read_at is None:
        locked.read_at = timezone.now()
        locked.save(update_fields=["read_at"])
    return locked
