"""My account: masked identity with a logged reveal, staff posts and TOTP, password change."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from pingan.accounts import actions
from pingan.accounts.models import User
from pingan.core import timeline
from pingan.core.identity import mask_phone, mask_resident_id
from pingan.testing import factories
from pingan.testing.signin import token_for, totp_device

pytestmark = pytest.mark.django_db

ME = "/accounts/me/"
REVEAL = "/accounts/me/reveal/"
PASSWORD_PAGE = "/accounts/me/password/"
SETUP = "/accounts/otp/setup/"


class TestCitizen:
    def test_identity_is_masked_by_default(self, client_for, resident):
        body = client_for(resident).get(ME).content.decode()
        profile = resident.citizen
        assert mask_resident_id(profile.id_number) in body
        assert mask_phone(profile.phone) in body
        assert "李*" in body
        assert profile.id_number not in body
        assert profile.phone not in body
        assert not timeline.events_for(profile).filter(action="personal_data.read").exists()

    def test_reveal_by_htmx_returns_the_full_card_and_is_logged(self, client_for, resident):
        response = client_for(resident).post(REVEAL, HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        body = response.content.decode()
        assert body.lstrip().startswith('<div id="identity"')
        assert resident.citizen.id_number in body
        assert resident.citizen.phone in body
        assert "李四" in body
        read = timeline.events_for(resident.citizen).get(action="personal_data.read")
        assert read.actor_id == resident.pk
        assert read.data == {"fields": ["name", "id_number", "phone"], "purpose": "unmask"}

    def test_reveal_without_javascript_renders_the_page(self, client_for, resident):
        response = client_for(resident).post(REVEAL)
        assert response.status_code == 200
        assert "<h1>" in response.content.decode()
        assert resident.citizen.id_number in response.content.decode()

    def test_reveal_is_post_only(self, client_for, resident):
        assert client_for(resident).get(REVEAL).status_code == 405

    def test_staff_have_nothing_to_reveal(self, client_for, counter):
        assert client_for(counter).post(REVEAL).status_code == 403


class TestStaff:
    def test_badge_posts_and_totp_status(self, client_for, counter):
        actions.post_add(user=counter, org=factories.org("370102002"), role="community_officer")
        body = client_for(counter).get(ME).content.decode()
        assert counter.username in body
        assert "窗口民警" in body
        assert "社区民警" in body
        assert "已启用" in body  # the test sign-in gave them a device

    def test_replacing_the_device_keeps_the_session_verified(self, client_for, counter):
        client = client_for(counter)
        old = TOTPDevice.objects.get(user=counter)
        page = client.get(SETUP)
        assert page.status_code == 200
        assert "更换" in page.content.decode()
        new = TOTPDevice.objects.get(user=counter, confirmed=False)
        response = client.post(SETUP, {"token": token_for(new)})
        assert response.status_code == 302
        assert response["Location"] == reverse("accounts:me")
        assert list(TOTPDevice.objects.filter(user=counter)) == [new]
        assert not TOTPDevice.objects.filter(pk=old.pk).exists()
        assert client.session[DEVICE_ID_SESSION_KEY] == new.persistent_id
        assert client.get(reverse("inbox:home")).status_code == 200

    def test_wrong_token_leaves_the_old_device(self, client_for, counter, settings):
        settings.OTP_TOTP_THROTTLE_FACTOR = 0
        client = client_for(counter)
        client.get(SETUP)
        response = client.post(SETUP, {"token": "000000"})
        assert response.status_code == 400
        assert TOTPDevice.objects.filter(user=counter, confirmed=True).count() == 1

    def test_unverified_staff_session_goes_to_the_token_step(self, client, counter):
        totp_device(counter)
        client.force_login(counter)
        response = client.get(ME)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:otp"))


class TestPartner:
    def test_partner_sees_their_organisation(self, client_for, partner):
        body = client_for(partner).get(ME).content.decode()
        assert partner.partner.organisation in body


class TestPasswordChange:
    def test_change_keeps_this_session_and_is_recorded(self, client_for, resident):
        client = client_for(resident)
        new = "a-brand-new-pass-phrase"
        response = client.post(
            PASSWORD_PAGE, {"old_password": factories.PASSWORD, "new_password1": new, "new_password2": new}
        )
        assert response.status_code == 302
        assert client.session[SESSION_KEY] == str(resident.pk)
        assert client.get(ME).status_code == 200
        assert User.objects.get(pk=resident.pk).check_password(new)
        assert timeline.events_for(resident).filter(action="accounts.password_set").count() == 1

    @pytest.mark.parametrize(
        ("old", "new1", "new2", "field"),
        [
            ("wrong-old-password", "x-new-pass-1", "x-new-pass-1", "old_password"),
            (factories.PASSWORD, "x-new-pass-1", "x-new-pass-2", "new_password2"),
            (factories.PASSWORD, "1234567890", "1234567890", "new_password1"),
            (factories.PASSWORD, "p" * 500, "p" * 500, "new_password1"),
        ],
    )
    def test_refusals_name_the_field(self, client_for, resident, old, new1, new2, field):
        data = {"old_password": old, "new_password1": new1, "new_password2": new2}
        response = client_for(resident).post(PASSWORD_PAGE, data)
        assert response.status_code == 400
        assert response.context["form"].errors.get(field)
        assert User.objects.get(pk=resident.pk).check_password(factories.PASSWORD)

    def test_anonymous_is_sent_to_sign_in(self, client):
        response = client.get(PASSWORD_PAGE)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))
