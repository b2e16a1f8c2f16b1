"""Sign-in: staff with their badge number, citizens with their ID number or mobile
(found by keyed hash, never by decrypting), partners with their username."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from pingan.accounts.models import CitizenProfile, User
from pingan.core.identity import blind_index, normalize_mobile, parse_resident_id


def find_user(identifier: str) -> User | None:
    identifier = (identifier or "").strip()
    if not identifier:
        return None
    if len(identifier) == 18:
        try:
            number = parse_resident_id(identifier).number
        except ValidationError:
            return None
        profile = (
            CitizenProfile.objects.select_related("user")
            .filter(id_number_hash=blind_index(number, purpose="id_number"))
            .first()
        )
        return profile.user if profile else None
    if len(identifier) == 11 and identifier.isdigit():
        try:
            phone = normalize_mobile(identifier)
        except ValidationError:
            return None
        profile = (
            CitizenProfile.objects.select_related("user").filter(phone_hash=blind_index(phone, purpose="phone")).first()
        )
        return profile.user if profile else None
    return User.objects.filter(username=identifier).first()


class PingAnBackend(ModelBackend):
    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        if username is None or password is None:
            return None
        user = find_user(username)
        if user is None:
            # Spend the same time as a real check so timing does not reveal accounts.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
