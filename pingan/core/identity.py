"""Personal identifiers: resident ID numbers (GB 11643-1999), mobile phones, masking,
encryption at rest and keyed hashes ("blind indexes") for exact lookup.

Every form, serializer and action validates identifiers through this module, so the
rules and the messages are the same everywhere.
"""

from __future__ import annotations

import base64
import binascii
import csv
import datetime as dt
import functools
import hashlib
import hmac
import operator
import os
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, NamedTuple

import phonenumbers
from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.ciphers.aead import AESGCMSIV
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
ID_PATTERN = re.compile(r"^[0-9]{17}[0-9X]$")  # ASCII digits only (\d would take any script's)
_ZEROS = ord("0") * sum(ID_WEIGHTS)  # what the weighted sum of 17 "0" bytes comes to


class ResidentId(NamedTuple):  # a tuple: immutable, and made in half the time of a frozen dataclass
    """A validated 18-digit resident identity number."""

    number: str
    county_code: str
    birth_date: dt.date
    sex: str  # "M" or "F": the sequence code's last digit is odd for men

    @property
    def masked(self) -> str:
        return mask_resident_id(self.number)

    def age_on(self, day: dt.date) -> int:
        years = day.year - self.birth_date.year
        return years - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))


def id_check_char(first17: str) -> str:
    digits = first17.encode("ascii")  # UnicodeEncodeError (a ValueError) for other scripts
    if len(digits) != len(ID_WEIGHTS) or not digits.isdigit():
        raise ValueError("the check character is computed over 17 ASCII digits")
    # Weighted over the bytes, less the zeros' share: a third of the time of int() per digit.
    return ID_CHECK_CHARS[(sum(map(operator.mul, digits, ID_WEIGHTS)) - _ZEROS) % 11]


@functools.cache
def county_codes() -> dict[str, list[tuple[int | None, int | None]]]:
    """County-level codes (GB/T 2260, current and abolished) -> the years each was in use.

    Abolished codes stay valid: an ID number keeps the code of the place that issued it
    (people born in 莱芜 before 2019 carry 3712xx for life).
    """
    path = settings.DATA_DIR / "divisions" / "gb2260-codes.csv"
    table: dict[str, list[tuple[int | None, int | None]]] = {}
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            start = int(row["start_year"]) if row["start_year"] else None
            end = int(row["end_year"]) if row["end_year"] else None
            table.setdefault(row["code"], []).append((start, end))
    return table


def normalise_resident_id(value: str) -> str:
    """An ID number as ``parse_resident_id`` reads it (full-width digits folded, spaces
    dropped, ``x`` as ``X``), not yet checked."""
    number = value if value.isascii() else unicodedata.normalize("NFKC", value)
    return number.strip().upper().replace(" ", "")


def parse_resident_id(value: Any, *, today: dt.date | None = None) -> ResidentId:
    """Validate an 18-digit resident ID number; raise ValidationError saying what is wrong."""
    if not isinstance(value, str):
        raise ValidationError(_("身份证号码必须是文本。"), code="type")
    number = normalise_resident_id(value)
    if len(number) != 18:
        raise ValidationError(_("身份证号码应为18位。"), code="length")
    if not ID_PATTERN.match(number):
        raise ValidationError(_("身份证号码前17位应为数字，最后一位为数字或X。"), code="format")
    if id_check_char(number[:17]) != number[17]:
        raise ValidationError(_("身份证号码校验位不正确，请核对后重新输入。"), code="check_digit")
    county = number[:6]
    if county not in county_codes() or county.endswith("00"):
        raise ValidationError(
            _("身份证号码中的地区码 %(code)s 不是有效的县级行政区划代码。") % {"code": county}, code="county"
        )
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(_("身份证号码中的出生日期无效。"), code="birth_date") from None
    today = today or timezone.localdate()
    if birth > today:
        raise ValidationError(_("身份证号码中的出生日期晚于今天。"), code="birth_date_future")
    if birth.year < 1880:
        raise ValidationError(_("身份证号码中的出生日期无效。"), code="birth_date")
    sex = "M" if int(number[16]) % 2 == 1 else "F"
    return ResidentId(number=number, county_code=county, birth_date=birth, sex=sex)


def validate_resident_id(value: Any) -> None:
    """Django field validator form of :func:`parse_resident_id`."""
    parse_resident_id(value)


def make_resident_id(county_code: str, birth_date: dt.date, sequence: int) -> str:
    """Build a valid ID number (synthetic demo and test data only)."""
    first17 = f"{county_code}{birth_date:%Y%m%d}{sequence % 1000:03d}"
    return first17 + id_check_char(first17)


MOBILE_DIGITS = re.compile(r"1[3-9]\d{9}")


def normalize_mobile(value: Any) -> str:
    """A mainland China mobile number as 11 digits; raise ValidationError otherwise."""
    if not isinstance(value, str):
        raise ValidationError(_("手机号码必须是文本。"), code="type")
    raw = re.sub(r"[\s-]", "", value)
    if MOBILE_DIGITS.fullmatch(raw):
        # Eleven digits as people write them: phonenumbers' own mobile pattern decides (no
        # other kind of Chinese number is eleven digits starting 13–19), without its cost.
        if _chinese_mobile().fullmatch(raw):
            return raw
        raise ValidationError(_("请输入有效的11位中国大陆手机号码。"), code="format")
    try:
        parsed = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException:
        raise ValidationError(_("手机号码格式不正确。"), code="format") from None
    national = str(parsed.national_number)
    if (
        parsed.country_code != 86
        or not MOBILE_DIGITS.fullmatch(national)
        or phonenumbers.number_type(parsed)
        not in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
    ):
        raise ValidationError(_("请输入有效的11位中国大陆手机号码。"), code="format")
    return national


@functools.cache
def _chinese_mobile() -> re.Pattern[str]:
    """The mobile ranges in the installed phonenumbers' metadata for China."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("CN")
    return re.compile(metadata.mobile.national_number_pattern)


def validate_mobile(value: Any) -> None:
    normalize_mobile(value)


# --- Masking ---------------------------------------------------------------------


def mask_resident_id(number: str) -> str:
    """``370102199001011234`` -> ``3701**********1234``."""
    if not number:
        return ""
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_phone(number: str) -> str:
    """``13812345678`` -> ``138****5678``."""
    if not number:
        return ""
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def mask_name(name: str) -> str:
    """``张三丰`` -> ``张**``: the family name alone identifies no one."""
    if not name:
        return ""
    return name[0] + "*" * (len(name) - 1)


# --- Encryption at rest and blind indexes -------------------------------------------


# Stored values are ``v2:`` + base64url(nonce ‖ AES-256-GCM-SIV ciphertext and tag). Values
# written before are Fernet tokens (AES-128-CBC + HMAC-SHA256, "gAAAAA…"): still read, and
# re-encrypted by ``reencrypt_value``. docs/decisions.md says why the change.
VALUE_PREFIX = "v2:"  # the format of a stored value, not a secret
NONCE_BYTES = 12


@dataclass(frozen=True)
class _FieldKeys:
    """The configured keys, newest first: the first encrypts, every one decrypts (rotation
    without downtime). Each setting is a Fernet key (32 random bytes, base64url); the
    AES-256 key is derived from it with HKDF, so one setting serves both formats."""

    ciphers: tuple[AESGCMSIV, ...]
    legacy: MultiFernet


@functools.cache
def _field_keys(configured: tuple[str, ...]) -> _FieldKeys:
    def derived(key: str) -> bytes:
        secret = base64.urlsafe_b64decode(key)
        return HKDF(algorithm=SHA256(), length=32, salt=None, info=b"pingan field encryption v2").derive(secret)

    return _FieldKeys(
        tuple(AESGCMSIV(derived(key)) for key in configured), MultiFernet([Fernet(key.encode()) for key in configured])
    )


def _keys() -> _FieldKeys:
    return _field_keys(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    # A random nonce per value; GCM-SIV stays safe should one ever repeat (it would only
    # show that two values are equal), which GCM does not over billions of values a key.
    nonce = os.urandom(NONCE_BYTES)
    sealed = _keys().ciphers[0].encrypt(nonce, plaintext.encode("utf-8"), None)
    return VALUE_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def decrypt(token: str) -> str:
    keys = _keys()
    if not token.startswith(VALUE_PREFIX):
        try:
            return keys.legacy.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeEncodeError):
            raise ValueError("personal field cannot be decrypted with the configured keys") from None
    try:
        raw = base64.urlsafe_b64decode(token[len(VALUE_PREFIX) :])
    except (binascii.Error, ValueError):
        raise ValueError("personal field is not a valid token") from None
    nonce, sealed = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
    for cipher in keys.ciphers:
        try:
            return cipher.decrypt(nonce, sealed, None).decode("utf-8")
        except (InvalidTag, ValueError):
            continue
    raise ValueError("personal field cannot be decrypted with the configured keys")


def blind_index(value: str, *, purpose: str) -> str:
    """Keyed hash of a normalised identifier, for exact lookup without decrypting.

    ``purpose`` separates the hash spaces (an ID number and a phone never collide).
    """
    keyed = _keyed_hash(settings.BLIND_INDEX_KEY, purpose).copy()
    keyed.update(value.encode("utf-8"))
    return keyed.hexdigest()


@functools.cache
def _keyed_hash(secret: str, purpose: str) -> hmac.HMAC:
    """The HMAC with its key already taken in: a copy of it per value costs a third less
    than keying anew (a dealer's file hashes thousands of ID numbers)."""
    return hmac.new(hashlib.sha256(f"{secret}:{purpose}".encode()).digest(), digestmod=hashlib.sha256)


class EncryptedTextField(models.TextField):
    """Stores a string encrypted (AES-256-GCM-SIV, ``encrypt``), reads it back in clear.

    Keep a blind-index field beside it for lookups; never filter on this field directly.
    """

    description = "Encrypted text"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)

    def get_lookup(self, lookup_name: str):  # type: ignore[override]
        if lookup_name not in {"isnull"}:
            raise TypeError(f"encrypted fields cannot be filtered with {lookup_name!r}; use the blind index")
        return super().get_lookup(lookup_name)


def reencrypt_value(token: str) -> str:
    """One stored value under the newest key, in the current format."""
    return encrypt(decrypt(token))
