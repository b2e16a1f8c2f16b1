"""Mobile numbers: the shortcut for eleven plain digits agrees with phonenumbers' own parse."""

from __future__ import annotations

import phonenumbers
import pytest
from django.core.exceptions import ValidationError

from pingan.core.identity import normalize_mobile


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
