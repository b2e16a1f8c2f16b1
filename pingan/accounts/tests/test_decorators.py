"""The guards other apps put on their pages."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.test import RequestFactory
from django.views import View
from django_otp import DEVICE_ID_SESSION_KEY

from pingan.accounts.decorators import (
    CitizenRequiredMixin,
    StaffRequiredMixin,
    citizen_required,
    holds_role,
    staff_required,
)
from pingan.testing import factories
from pingan.testing.signin import totp_device

pytestmark = pytest.mark.django_db


@staff_required()
def any_staff(request):
    return HttpResponse("ok")


@staff_required(roles={"counter_officer"})
def counter_only(request):
    return HttpResponse("ok")


@citizen_required
def citizens_only(request):
    return HttpResponse("ok")


class CounterPage(StaffRequiredMixin, View):
    staff_roles = {"counter_officer"}

    def get(self, request):
        return HttpResponse("ok")


class CitizenPage(CitizenRequiredMixin, View):
    def get(self, request):
        return HttpResponse("ok")


def request_for(user, *, verified: bool = True):
    """A request as the middleware leaves it (``is_verified`` from django-otp)."""
    request = RequestFactory().get("/somewhere/?x=1")
    request.session = SessionStore()
    request.user = user or AnonymousUser()
    device = totp_device(user) if verified and user is not None and user.kind == "staff" else None
    if device is not None:
        request.session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    if user is not None:
        user.otp_device = device
        user.is_verified = lambda: device is not None
    return request


@pytest.mark.parametrize("view", [any_staff, counter_only, citizens_only, CounterPage.as_view(), CitizenPage.as_view()])
def test_anonymous_is_sent_to_sign_in_and_back(view):
    response = view(request_for(None))
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/somewhere/%3Fx%3D1"


def test_staff_views_refuse_other_kinds():
    for user in (factories.citizen(), factories.partner()):
        with pytest.raises(PermissionDenied, match="仅供民警"):
            any_staff(request_for(user))


def test_roles_are_required_when_named():
    counter = factories.staff(roles=["counter_officer"])
    community = factories.staff(roles=["community_officer"])
    assert counter_only(request_for(counter)).status_code == 200
    assert CounterPage.as_view()(request_for(counter)).status_code == 200
    with pytest.raises(PermissionDenied, match="岗位无权"):
        counter_only(request_for(community))
    with pytest.raises(PermissionDenied):
        CounterPage.as_view()(request_for(community))
    assert any_staff(request_for(community)).status_code == 200


def test_ended_posts_do_not_count():
    from pingan.accounts import actions

    officer = factories.staff(roles=["counter_officer"])
    actions.post_end(post=officer.posts.get())
    officer = type(officer).objects.get(pk=officer.pk)
    assert not holds_role(officer, {"counter_officer"})
    with pytest.raises(PermissionDenied):
        counter_only(request_for(officer))


def test_unverified_staff_go_to_the_token_step_first(settings):
    settings.DEMO_MODE = False
    officer = factories.staff(roles=["counter_officer"])
    response = counter_only(request_for(officer, verified=False))
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/otp/?next=%2Fsomewhere%2F%3Fx%3D1"
    settings.DEMO_MODE = True
    assert counter_only(request_for(officer, verified=False)).status_code == 200


def test_citizen_views_refuse_staff():
    with pytest.raises(PermissionDenied, match="仅供群众"):
        citizens_only(request_for(factories.staff()))
    with pytest.raises(PermissionDenied):
        CitizenPage.as_view()(request_for(factories.staff()))
    assert citizens_only(request_for(factories.citizen())).status_code == 200
    assert CitizenPage.as_view()(request_for(factories.citizen())).status_code == 200
