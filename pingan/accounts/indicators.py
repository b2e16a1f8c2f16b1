"""The accounts app's indicator queries (declared in ``catalog/indicators/``): staff in
post and citizens registered, per org subtree. Registered in ``AccountsConfig.ready()``.

Each is one grouped SQL statement (``aggregate_by_unit``), whatever the number of units.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q

from pingan.accounts.models import CitizenProfile, Kind, Post, User
from pingan.core import registry
from pingan.indicators.periods import BEGINNING
from pingan.indicators.queries import Number, aggregate_by_unit, local_date
from pingan.orgs.models import OrgUnit


def staff_in_post(
    *, under: OrgUnit, start: dt.datetime, end: dt.datetime, group_by_depth: int | None
) -> dict[str, Number]:
    """Active staff holding an active post in the subtree, each counted once per unit.

    A post counts from its ``started_on`` (a post without one counts as held since the
    beginning). Posts have no end date yet: an ended post is not counted in any period, so
    past periods show today's posts that had started by then.
    """
    # Leave out the (few) deactivated staff with NOT IN rather than joining every post to its
    # user: one small index scan instead of a user-row lookup per post (~10x at 10^5 posts).
    # Posts are held by staff only (``post_add`` refuses other kinds).
    deactivated = User.objects.filter(kind=Kind.STAFF, is_active=False).values("pk")
    posts = Post.objects.filter(is_active=True).exclude(user__in=deactivated)
    posts = posts.filter(Q(started_on__isnull=True) | Q(started_on__lt=local_date(end)))
    if start > BEGINNING:  # a flow: posts taken up during the window
        posts = posts.filter(started_on__gte=local_date(start))
    return aggregate_by_unit(
        posts,
        path_field="org__path",
        under=under,
        group_by_depth=group_by_depth,
        value=Count("user", distinct=True),
    )


def citizens_registered(
    *, under: OrgUnit, start: dt.datetime, end: dt.datetime, group_by_depth: int | None
) -> dict[str, Number]:
    """Citizen accounts created in ``[start, end)``, by the subtree of their home bureau
    (with ``start`` at the beginning of records: all citizens registered by ``end``)."""
    citizens = CitizenProfile.objects.filter(created_at__gte=start, created_at__lt=end)
    return aggregate_by_unit(
        citizens, path_field="home_org__path", under=under, group_by_depth=group_by_depth, value=Count("pk")
    )


def register() -> None:
    registry.indicator_queries.register("accounts.staff_in_post", staff_in_post)
    registry.indicator_queries.register("accounts.citizens_registered", citizens_registered)
