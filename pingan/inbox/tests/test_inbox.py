from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from pingan.core import events, registry, timeline
from pingan.inbox import actions, queries, sources
from pingan.inbox.models import Notice
from pingan.orgs.models import OrgUnit
from pingan.testing import factories
from pingan.testing.signin import staff_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def station() -> OrgUnit:
    return factories.org("370102001")


def entry(title: str, due: dt.datetime | None, state: str = "running") -> sources.InboxEntry:
    return sources.InboxEntry(kind="demo", title=title, url="", due_at=due, deadline_state=state)


@pytest.fixture
def demo_source():
    now = timezone.now()
    listed = [
        entry("later", now + dt.timedelta(days=3)),
        entry("no deadline", None, ""),
        entry("overdue", now - dt.timedelta(days=1), "overdue"),
        entry("soon", now + dt.timedelta(hours=2), "warning"),
    ]
    with registry.inbox_sources.unfrozen():
        sources.register(
            sources.InboxSource(
                key="demo", label="演示", entries=lambda user, limit: listed[:limit], count=lambda user: len(listed)
            )
        )
        yield listed


def test_entries_merge_overdue_first_then_by_deadline(demo_source):
    officer = factories.staff()
    page = queries.inbox_for(officer)
    assert [e.title for e in page.entries] == ["overdue", "soon", "later", "no deadline"]
    counts = {k.key: k.count for k in page.kinds}
    assert counts["demo"] == 4
    assert sum(counts.values()) == 4  # every other source is empty for this officer
    assert page.total == 4
    only_notices = queries.inbox_for(officer, kind="notices")
    assert only_notices.entries == []


def test_notice_post_is_once_per_recipient_and_subject(station):
    chief = factories.staff(station.code, ["station_chief"])
    first = actions.notice_post(recipients=[chief], kind="escalation", title="超期", subject=("x.y", "1"), org=station)
    again = actions.notice_post(recipients=[chief], kind="escalation", title="超期", subject=("x.y", "1"), org=station)
    assert len(first) == 1
    assert again == []
    assert Notice.objects.filter(recipient=chief).count() == 1
    assert timeline.events_for(("x.y", "1")).filter(action="inbox.notice_escalation").count() == 1


def test_overdue_event_escalates_to_the_nearest_chief(station, django_capture_on_commit_callbacks):
    chief = factories.staff(station.code, ["station_chief"])
    counter = factories.staff(station.code, ["counter_officer"])
    grid = OrgUnit.objects.filter(parent=station).first()
    with django_capture_on_commit_callbacks(execute=True):
        events.on_commit(events.deadline_overdue, sender=OrgUnit, item=grid, clock=None, org_path=grid.path)
    notice = Notice.objects.get()
    assert notice.recipient == chief
    assert notice.kind == "escalation"
    assert grid.name in notice.title
    assert not Notice.objects.filter(recipient=counter).exists()
    page = queries.inbox_for(chief)
    assert page.entries[0].deadline_state == "overdue"


def test_escalation_without_a_station_chief_goes_to_the_bureau_leader(django_capture_on_commit_callbacks):
    leader = factories.staff("370103", ["bureau_leader"])
    station = OrgUnit.objects.filter(parent__code="370103", kind="station").first()
    with django_capture_on_commit_callbacks(execute=True):
        events.on_commit(events.deadline_overdue, sender=OrgUnit, item=station, clock=None, org_path=station.path)
    assert Notice.objects.get().recipient == leader


class TestPage:
    def test_anonymous_is_sent_to_sign_in(self, client):
        response = client.get(reverse("inbox:home"))
        assert response.status_code == 302
        assert reverse("accounts:login") in response["Location"]

    def test_citizen_is_refused(self, client):
        client.force_login(factories.citizen())
        assert client.get(reverse("inbox:home")).status_code == 403

    def test_staff_sees_their_notices_and_counts(self, client, station, demo_source):
        chief = factories.staff(station.code, ["station_chief"])
        actions.notice_post(
            recipients=[chief], kind="escalation", title="超期事项甲", subject=("x.y", "9"), org=station
        )
        staff_login(client, chief)
        response = client.get(reverse("inbox:home"))
        assert response.status_code == 200
        body = response.content.decode()
        assert "超期事项甲" in body
        assert 'data-kind="demo"' in body
        assert "<html" in body

    def test_htmx_filter_returns_the_partial(self, client, station, demo_source):
        officer = factories.staff(station.code)
        staff_login(client, officer)
        response = client.get(reverse("inbox:home") + "?kind=demo", headers={"HX-Request": "true"})
        body = response.content.decode()
        assert response.status_code == 200
        assert "<html" not in body
        assert "soon" in body
        assert "超期事项" not in body

    def test_unknown_kind_shows_everything(self, client, demo_source):
        staff_login(client, factories.staff())
        response = client.get(reverse("inbox:home") + "?kind=%3Cscript%3E")
        assert response.status_code == 200
        assert response.context["page"].kind is None

    def test_marking_read_only_own_notices(self, client, station):
        chief = factories.staff(station.code, ["station_chief"])
        other = factories.staff(station.code, ["station_chief"])
        notice = actions.notice_post(recipients=[chief], kind="info", title="通知", subject=("x.y", "2"), org=station)[
            0
        ]
        staff_login(client, other)
        assert client.post(reverse("inbox:notice_read", args=[notice.pk])).status_code == 404
        staff_login(client, chief)
        response = client.post(reverse("inbox:notice_read", args=[notice.pk]), headers={"HX-Request": "true"})
        assert response.status_code == 200
        notice.refresh_from_db()
        assert notice.read_at is not None
        assert queries.notices_for(chief).count() == 0

    def test_list_queries_do_not_grow_with_entries(self, client, station, django_assert_max_num_queries):
        chief = factories.staff(station.code, ["station_chief"])
        for number in range(30):
            actions.notice_post(
                recipients=[chief], kind="info", title=f"n{number}", subject=("x.y", str(number)), org=station
            )
        staff_login(client, chief)
        # A fixed number: session, user, posts, the header's unread count, and a count and a
        # page of entries per registered source — whatever the number of entries.
        with django_assert_max_num_queries(17):
            assert client.get(reverse("inbox:home")).status_code == 200
