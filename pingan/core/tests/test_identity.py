"""Mobile numbers: the shortcut for eleven plain digits agrees with phonenumbers' own parse.
ID numbers: the check character over bytes, full-width digits, and the keyed hash that
stored records are found by (it must never change)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

import phonenumbers
import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ValidationError

from pingan.core.identity import (
    blind_index,
    decrypt,
    encrypt,
    id_check_char,
    make_resident_id,
    normalize_mobile,
    parse_resident_id,
    reencrypt_value,
)


def by_parse(raw: str) -> str | None:
    """The verdict through phonenumbers.parse, as normalize_mobile decided before the shortcut."""
    parsed = phonenumbers.parse(raw, "CN")
    mobile = phonenumbers.number_type(parsed) in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )
    national = str(parsed.national_number)
    return national if parsed.country_code == 86 and mobile and len(national) == 11 else None


def test_every_five_digit_prefix_gets_the_verdict_parse_would_give():
    # China's mobile ranges are told apart by at most the first five digits.
    for prefix in range(13000, 20000):
        number = f"{prefix}{prefix % 997:06d}"
        try:
            verdict: str | None = normalize_mobile(number)
        except ValidationError:
            verdict = None
        assert verdict == by_parse(number), number


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("139 0531 0001", "13905310001"), ("+86 139-0531-0001", "13905310001"), ("008613905310001", "13905310001")],
)
def test_numbers_as_people_type_them(typed, expected):
    assert normalize_mobile(typed) == expected


@pytest.mark.parametrize("typed", ["1234", "0531-86000000", "12905310001", "+1 212 555 0100", "手机", ""])
def test_not_a_mainland_mobile(typed):
    with pytest.raises(ValidationError):
        normalize_mobile(typed)


def test_the_check_character_as_gb_11643_defines_it():
    # The standard's own example number, and the weighted sum written out digit by digit.
    assert id_check_char("11010519491231002") == "X"
    first17 = "37010219880615024"
    total = sum(int(d) * w for d, w in zip(first17, (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    assert id_check_char(first17) == "10X98765432"[total % 11]
    for bad in ("1101051949123100", "1101051949123100２", "11010519491231002X", "1101051949123100a"):
        with pytest.raises(ValueError, match=r"(?i)ascii"):
            id_check_char(bad)


def test_full_width_digits_read_as_the_number_they_show():
    number = make_resident_id("370102", dt.date(1988, 6, 15), 24)
    full_width = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in number)
    assert parse_resident_id(f" {full_width} ").number == number
    with pytest.raises(ValidationError):
        parse_resident_id("３７０１０２١٩٨٨٠٦١٥٠٢٤" + number[-4:])  # Arabic-Indic digits are not an ID number


def test_the_keyed_hash_of_stored_records_is_unchanged(settings):
    settings.BLIND_INDEX_KEY = "测试密钥"
    key = hashlib.sha256("测试密钥:id_number".encode()).digest()
    expected = hmac.new(key, b"370102198806150242", hashlib.sha256).hexdigest()
    assert blind_index("370102198806150242", purpose="id_number") == expected
    assert blind_index("370102198806150242", purpose="phone") != expected


def test_personal_fields_are_sealed_with_aes_gcm_siv_and_read_back():
    first, second = encrypt("370102198806150242"), encrypt("370102198806150242")
    assert first.startswith("v2:")
    assert first != second  # a fresh nonce each time
    assert "370102" not in first
    assert decrypt(first) == decrypt(second) == "370102198806150242"
    assert decrypt(encrypt("张三 13905310001")) == "张三 13905310001"


def test_values_written_as_fernet_tokens_are_still_read_and_rewritten(settings):
    key = settings.FIELD_ENCRYPTION_KEYS[0]
    legacy = Fernet(key.encode()).encrypt(b"13905310001").decode()
    assert decrypt(legacy) == "13905310001"
    assert reencrypt_value(legacy).startswith("v2:")
    assert decrypt(reencrypt_value(legacy)) == "13905310001"


def test_keys_rotate_by_prepending(settings):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    sealed_with_old = encrypt("13905310001")
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    assert decrypt(sealed_with_old) == "13905310001"
    rewritten = reencrypt_value(sealed_with_old)
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert decrypt(rewritten) == "13905310001"
    with pytest.raises(ValueError, match="cannot be decrypted"):
        decrypt(sealed_with_old)


@pytest.mark.parametrize("damage", ["flip", "truncate", "garbage", "fernet garbage"])
def test_a_damaged_value_is_refused_not_misread(damage):
    sealed = encrypt("370102198806150242")
    body = sealed[3:]
    damaged = {
        "flip": "v2:" + body[:-6] + ("A" if body[-6] != "A" else "B") + body[-5:],
        "truncate": sealed[:20],
        "garbage": "v2:!!!not base64!!!",
        "fernet garbage": "gAAAAAnot-a-token",
    }[damage]
    with pytest.raises(ValueError, match="personal field"):
        decrypt(damaged)
