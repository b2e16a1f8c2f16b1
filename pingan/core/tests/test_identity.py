"""Mobile numbers: the shortcut for eleven plain digits agrees with phonenumbers' own parse.
ID numbers: the check character over bytes, full-width digits, and the keyed hash that
stored records are found by (it must never change)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

import phonenumbers
import pytest
from django.core.exceptions import ValidationError

from pingan.core.identity import (
    blind_index,
    id_check_char,
    make_resident_id,
    normalize_mobile,
    parse_resident_id,
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
