"""Reads of applications, always scoped: citizens see their own, staff their jurisdiction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet

from pingan.core import access, timeline
from pingan.eservices import catalog, formschema
from pingan.eservices.models import FINISHED_STATES, STAFF_STATES, Application

DEADLINE_FILTERS = ("warning", "overdue")  # (paused clocks wait for the applicant: not in the queue)


def applications_for(user: Any) -> QuerySet[Application]:
    return access.scope(user, Application.objects.select_related("org", "applicant"))


def mine(user: Any) -> QuerySet[Application]:
    """A citizen's own applications, newest first (drafts included)."""
    if access.user_kind(user) != "citizen":
        return Application.objects.none()
    return Application.objects.filter(applicant=user).select_related("org").order_by("-created_at", "-id")


def application_get(user: Any, reference: str) -> Application:
    """The application if ``user`` may see it (``Application.DoesNotExist`` otherwise)."""
    return applications_for(user).get(reference=reference)


@dataclass(frozen=True)
class QueueFilters:
    department: str = ""
    service: str = ""
    state: str = ""
    deadline: str = ""
    search: str = ""


def queue(user: Any, filters: QueueFilters | None = None) -> QuerySet[Application]:
    """The workbench: work waiting for the staff in the user's jurisdiction, nearest
    deadline first. Scoped by the path copy (``org_path``), never a join, so at 10^6
    applications ``application_queue_idx`` serves it unfiltered and filtered by state,
    deadline or department, and ``application_service_idx`` filtered by service."""
    filters = filters or QueueFilters()
    query = access.scope(user, Application.objects.all(), "act").filter(state__in=STAFF_STATES)
    if filters.department:
        query = query.filter(department=filters.department)
    if filters.service:
        query = query.filter(service_code=filters.service)
    if filters.state in STAFF_STATES:
        query = query.filter(state=filters.state)
    if filters.deadline in DEADLINE_FILTERS:
        query = query.filter(deadline_state=filters.deadline)
    if filters.search:
        query = query.filter(reference__iexact=filters.search.strip())
    return query.select_related("org", "applicant").order_by("due_at", "id")


def queue_page(
    user: Any, filters: QueueFilters | None, number: Any, per_page: int = 50, *, total: int | None = None
) -> Page:
    """One page of the queue: the page's ids come from the index alone (path, state,
    deadline and due_at are all in ``application_queue_idx``), then only those rows are read.
    ``total``: the size of the unfiltered queue when the caller has just counted it
    (:func:`queue_counts`), which spares the paginator its own count of the same rows."""
    paginator = Paginator(queue(user, filters).values_list("pk", flat=True), per_page)
    if total is not None and (filters is None or filters == QueueFilters()):
        paginator.count = total  # a cached_property: set on the instance, the COUNT is not run
    page = paginator.get_page(number)
    ids = list(page.object_list)
    rows = Application.objects.select_related("org", "applicant").defer("form_sealed", "result").in_bulk(ids)
    page.object_list = [rows[pk] for pk in ids if pk in rows]
    return page


def queue_counts(user: Any) -> dict[str, int]:
    """Open work by deadline state, for the workbench header."""
    rows = (
        access.scope(user, Application.objects.all(), "act")
        .filter(state__in=STAFF_STATES)
        .aggregate(
            total=Count("id"),
            warning=Count("id", filter=Q(deadline_state="warning")),
            overdue=Count("id", filter=Q(deadline_state="overdue")),
        )
    )
    return {key: value or 0 for key, value in rows.items()}


def answers(user: Any, application: Application) -> list[tuple[str, Any]]:
    """The form's answers as the user may see them: identifiers masked unless the user may
    unmask them (applicants see their own); showing them unmasked is logged."""
    schema = application.service.form
    data = application.form_data
    sensitive = [name for name in formschema.sensitive_fields(schema) if data.get(name)]
    if sensitive and access.user_kind(user) == "staff":
        if access.can_unmask(user, application):
            timeline.record_read(application, fields=sensitive, actor=user, purpose="application")
        else:
            data = formschema.masked(schema, data)
    return formschema.rows(schema, data)


def is_finished(application: Application) -> bool:
    return application.state in FINISHED_STATES


def catalogue_counts() -> dict[str, Any]:
    return catalog.summary()
