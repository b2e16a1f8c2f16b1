"""Sign-in: password, the staff second factor (TOTP), lockout, sign-out."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.contrib.auth import SESSION_KEY
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from hypothesis import HealthCheck, given, strategies
from hypothesis import settings as hypothesis_settings

from pingan.accounts import actions, signin
from pingan.core import timeline
from pingan.core.identity import make_resident_id
from pingan.core.models import TimelineEvent
from pingan.testing import factories
from pingan.testing.signin import token_for, totp_device

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
OTP = "/accounts/login/otp/"
SETUP = "/accounts/otp/setup/"
PASSWORD = factories.PASSWORD


def sign_in(client, identifier: str, password: str = PASSWORD, **extra):
    return client.post(LOGIN, {"username": identifier, "password": password, **extra})


def all_event_text() -> str:
    return " ".join(f"{e.subject_type} {e.subject_id} {e.data}" for e in TimelineEvent.objects.all())


class TestPassword:
    def test_citizen_signs_in_with_id_number_or_mobile(self, client, resident):
        response = sign_in(client, resident.citizen.id_number)
        assert response.status_code == 302
        assert response["Location"] == reverse("accounts:me")
        assert client.session[SESSION_KEY] == str(resident.pk)
        client.post(reverse("accounts:logout"))
        assert sign_in(client, resident.citizen.phone).status_code == 302
        events = timeline.events_for(resident).filter(action="accounts.signed_in")
        assert events.count() == 2

    def test_lowercase_x_in_id_number_is_accepted(self, client):
        number = next(
            candidate
            for sequence in range(1000)
            if (candidate := make_resident_id("370102", dt.date(1991, 3, 4), sequence)).endswith("X")
        )
        actions.citizen_register(name="赵六", id_number=number, phone="13712340000", password=PASSWORD)
        assert sign_in(client, number.lower()).status_code == 302

    def test_wrong_password_is_refused_without_saying_which_part_was_wrong(self, client, resident):
        response = sign_in(client, resident.citizen.id_number, "not-the-password")
        assert response.status_code == 400
        assert "账号或密码不正确" in response.content.decode()
        assert SESSION_KEY not in client.session
        failed = timeline.events_for(resident).get(action="accounts.signin_failed")
        assert failed.data["reason"] == "bad_credentials"
        assert failed.data["identifier_kind"] == "id_number"
        assert resident.citizen.id_number not in all_event_text()

    def test_unknown_identifier_is_recorded_under_a_keyed_hash(self, client):
        number = "370102199005170016"
        response = sign_in(client, number, "whatever-password")
        assert response.status_code == 400
        event = TimelineEvent.objects.get(action="accounts.signin_failed")
        assert event.subject_type == "accounts.signin"
        assert event.subject_id.startswith("x-")
        assert number not in all_event_text()
        assert not AccessAttempt.objects.filter(username__contains="3701021990").exists()

    def test_inactive_account_cannot_sign_in(self, client, resident):
        resident.is_active = False
        resident.save()
        assert sign_in(client, resident.citizen.phone).status_code == 400

    def test_safe_next_is_followed_and_foreign_next_ignored(self, client, resident):
        response = sign_in(client, resident.citizen.phone, next="/accounts/me/password/")
        assert response["Location"] == "/accounts/me/password/"
        client.post(reverse("accounts:logout"))
        response = sign_in(client, resident.citizen.phone, next="https://evil.example/")
        assert response["Location"] == reverse("accounts:me")

    @pytest.mark.parametrize(
        ("identifier", "password"),
        [
            ("x" * 10_000, PASSWORD),
            ("", PASSWORD),
            ("100001", "p" * 10_000),
            ("\x00\x01", PASSWORD),
            ("370102199005170016' OR 1=1 --", PASSWORD),
        ],
    )
    def test_garbage_is_refused_with_400(self, client, identifier, password):
        response = sign_in(client, identifier, password)
        assert response.status_code == 400
        assert SESSION_KEY not in client.session

    def test_signed_in_visitor_is_sent_home(self, client, resident):
        client.force_login(resident)
        response = client.get(LOGIN)
        assert response.status_code == 302
        assert response["Location"] == reverse("accounts:me")


class TestLockout:
    def test_fifth_failure_locks_with_429_and_a_retry_time(self, client, resident):
        for _attempt in range(4):
            assert sign_in(client, resident.citizen.phone, "wrong-password").status_code == 400
        response = sign_in(client, resident.citizen.phone, "wrong-password")
        assert response.status_code == 429
        body = response.content.decode()
        assert "暂时锁定" in body
        assert "分钟后" in body
        assert 14 * 60 <= int(response["Retry-After"]) <= 15 * 60
        # Even the right password waits until the lock expires.
        response = sign_in(client, resident.citizen.phone, PASSWORD)
        assert response.status_code == 429
        assert SESSION_KEY not in client.session
        reasons = list(
            timeline.events_for(resident).filter(action="accounts.signin_failed").values_list("data__reason", flat=True)
        )
        assert reasons.count("locked_out") == 2
        assert reasons.count("bad_credentials") == 4

    def test_one_counter_per_account_whatever_identifier_is_typed(self, client, resident):
        for identifier in [resident.citizen.id_number] * 3 + [resident.citizen.phone]:
            assert sign_in(client, identifier, "wrong-password").status_code == 400
        assert sign_in(client, resident.citizen.id_number, "wrong-password").status_code == 429
        # The lockout tables hold the opaque account name, never the ID or mobile number.
        usernames = set(AccessAttempt.objects.values_list("username", flat=True))
        usernames |= set(AccessFailureLog.objects.values_list("username", flat=True))
        assert usernames == {resident.username}
        stored = " ".join(AccessAttempt.objects.values_list("post_data", flat=True))
        assert resident.citizen.id_number not in stored
        assert resident.citizen.phone not in stored

    def test_lockout_is_per_account_and_address(self, client, resident):
        for _attempt in range(5):
            sign_in(client, resident.citizen.phone, "wrong-password")
        other_address = client.post(
            LOGIN, {"username": resident.citizen.phone, "password": PASSWORD}, REMOTE_ADDR="10.0.0.9"
        )
        assert other_address.status_code == 302

    def test_success_resets_the_counter(self, client, resident):
        for _attempt in range(4):
            sign_in(client, resident.citizen.phone, "wrong-password")
        assert sign_in(client, resident.citizen.phone).status_code == 302
        client.post(reverse("accounts:logout"))
        for _attempt in range(4):
            assert sign_in(client, resident.citizen.phone, "wrong-password").status_code == 400


class TestSecondFactor:
    def test_staff_password_alone_signs_nobody_in(self, client, counter):
        totp_device(counter)
        response = sign_in(client, counter.username)
        assert response.status_code == 302
        assert response["Location"] == reverse("accounts:otp")
        assert SESSION_KEY not in client.session
        inbox = client.get(reverse("inbox:home"))
        assert inbox.status_code == 302
        assert inbox["Location"].startswith(reverse("accounts:login"))
        page = client.get(OTP)
        assert page.status_code == 200
        assert "动态口令" in page.content.decode()

    def test_token_completes_the_sign_in_and_lands_on_the_inbox(self, client, counter):
        device = totp_device(counter)
        sign_in(client, counter.username)
        response = client.post(OTP, {"token": token_for(device)})
        assert response.status_code == 302
        assert response["Location"] == reverse("inbox:home")
        assert client.session[SESSION_KEY] == str(counter.pk)
        assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
        assert client.get(reverse("inbox:home")).status_code == 200
        event = timeline.events_for(counter).get(action="accounts.signed_in")
        assert event.data["second_factor"] == "totp"

    def test_session_key_changes_at_each_step(self, client, counter):
        device = totp_device(counter)
        client.get(LOGIN)
        sign_in(client, counter.username)
        after_password = client.session.session_key
        client.post(OTP, {"token": token_for(device)})
        assert client.session.session_key != after_password

    def test_next_survives_the_second_step(self, client, counter):
        device = totp_device(counter)
        sign_in(client, counter.username, next="/accounts/staff/")
        response = client.post(OTP, {"token": token_for(device)})
        assert response["Location"] == "/accounts/staff/"

    def test_wrong_token_is_refused_and_throttled(self, client, counter, settings):
        settings.OTP_TOTP_THROTTLE_FACTOR = 3600  # a wrong token makes the next wait an hour
        device = totp_device(counter)
        sign_in(client, counter.username)
        wrong = f"{(int(token_for(device)) + 1) % 1_000_000:06d}"
        response = client.post(OTP, {"token": wrong})
        assert response.status_code == 400
        assert "动态口令不正确" in response.content.decode()
        response = client.post(OTP, {"token": token_for(device)})
        assert response.status_code == 400
        assert "秒后再试" in response.content.decode()
        assert SESSION_KEY not in client.session
        failures = timeline.events_for(counter).filter(action="accounts.signin_failed")
        reasons = set(failures.values_list("data__reason", flat=True))
        assert reasons == {"bad_token", "throttled"}

    def test_five_wrong_tokens_ask_for_the_password_again(self, client, counter, settings):
        settings.OTP_TOTP_THROTTLE_FACTOR = 0
        device = totp_device(counter)
        sign_in(client, counter.username)
        wrong = f"{(int(token_for(device)) + 1) % 1_000_000:06d}"
        for _attempt in range(signin.PENDING_MAX_FAILURES - 1):
            assert client.post(OTP, {"token": wrong}).status_code == 400
        response = client.post(OTP, {"token": wrong})
        assert response.status_code == 302
        assert response["Location"] == reverse("accounts:login")
        assert client.post(OTP, {"token": token_for(device)})["Location"].startswith(reverse("accounts:login"))

    def test_half_sign_in_expires(self, client, counter):
        device = totp_device(counter)
        sign_in(client, counter.username)
        session = client.session
        session[signin.PENDING_KEY]["at"] = time.time() - signin.PENDING_SECONDS - 1
        session.save()
        response = client.post(OTP, {"token": token_for(device)})
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))
        assert SESSION_KEY not in client.session

    @pytest.mark.parametrize("token", ["", "12345", "1234567", "abcdef", "１２３４５６", "9" * 5000])
    def test_malformed_tokens_are_400(self, client, counter, token):
        totp_device(counter)
        sign_in(client, counter.username)
        response = client.post(OTP, {"token": token})
        assert response.status_code == 400
        assert SESSION_KEY not in client.session

    def test_otp_page_without_a_password_first_goes_to_sign_in(self, client):
        response = client.get(OTP)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))

    def test_staff_without_a_device_sets_one_up_then_is_signed_in(self, client, counter):
        response = sign_in(client, counter.username)
        response = client.get(response["Location"])
        assert response.status_code == 302
        assert response["Location"].startswith(SETUP)
        page = client.get(SETUP)
        assert page.status_code == 200
        body = page.content.decode()
        assert 'src="data:image/svg+xml;base64,' in body
        device = TOTPDevice.objects.get(user=counter, confirmed=False)
        assert page.context["secret"].replace(" ", "") in __import__("base64").b32encode(device.bin_key).decode()
        # Reloading the page shows the same key (a half-scanned code stays valid).
        client.get(SETUP)
        assert TOTPDevice.objects.filter(user=counter).count() == 1
        response = client.post(SETUP, {"token": token_for(device)})
        assert response.status_code == 302
        assert response["Location"] == reverse("inbox:home")
        device.refresh_from_db()
        assert device.confirmed
        assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
        assert timeline.events_for(counter).filter(action="accounts.totp_confirmed").count() == 1

    def test_a_password_alone_cannot_replace_an_existing_device(self, client, counter):
        totp_device(counter)
        sign_in(client, counter.username)
        response = client.get(SETUP)
        assert response.status_code == 302
        assert response["Location"].startswith(OTP)
        assert TOTPDevice.objects.filter(user=counter).count() == 1

    def test_citizens_have_no_second_factor(self, client, resident):
        client.force_login(resident)
        assert client.get(SETUP).status_code == 403

    def test_demo_mode_offers_totp_without_forcing_it(self, client, counter, settings):
        settings.DEMO_MODE = True
        response = sign_in(client, counter.username)
        assert response.status_code == 302
        assert response["Location"] == reverse("inbox:home")
        assert client.get(reverse("inbox:home")).status_code == 200
        me = client.get(reverse("accounts:me")).content.decode()
        assert "设置动态口令" in me

    def test_demo_session_must_verify_once_demo_mode_ends(self, client, counter, settings):
        device = totp_device(counter)
        settings.DEMO_MODE = True
        sign_in(client, counter.username)
        settings.DEMO_MODE = False
        response = client.get(reverse("inbox:home"))
        assert response.status_code == 302
        assert response["Location"].startswith(OTP)
        response = client.post(response["Location"], {"token": token_for(device)})
        assert response["Location"] == reverse("inbox:home")
        assert client.get(reverse("inbox:home")).status_code == 200


class TestSignOut:
    def test_get_does_not_sign_out(self, client, resident):
        client.force_login(resident)
        assert client.get(reverse("accounts:logout")).status_code == 405
        assert client.session[SESSION_KEY] == str(resident.pk)

    def test_post_signs_out_and_is_recorded(self, client, resident):
        client.force_login(resident)
        response = client.post(reverse("accounts:logout"))
        assert response.status_code == 302
        assert SESSION_KEY not in client.session
        assert timeline.events_for(resident).filter(action="accounts.signed_out").count() == 1


@hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(identifier=strategies.text(max_size=300), password=strategies.text(max_size=300))
def test_any_input_to_the_sign_in_form_is_answered_without_a_server_error(client, identifier, password):
    response = client.post(LOGIN, {"username": identifier, "password": password})
    assert response.status_code in {400, 429}
    assert SESSION_KEY not in client.session
