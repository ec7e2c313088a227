"""Contact details: phone numbers and e-mail addresses are checked per channel without
ever being echoed, and anything holding one shows it masked."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from debtledger.collection.channels import (
    Delivery,
    DeliveryStatus,
    check_contact,
    check_email,
    check_phone,
    mask_contact,
)
from debtledger.errors import InvalidInput
from tests.collection.conftest import EXAMPLES


@pytest.mark.parametrize(
    ("given_", "normalised"),
    [
        ("+8613812345678", "+8613812345678"),
        ("+86 138 1234 5678", "+8613812345678"),
        ("+86-138-1234-5678", "+8613812345678"),
        ("+86 (199) 0000-1111", "+8619900001111"),
        ("+4915123456789", "+4915123456789"),
        ("+1 (415) 555-0100", "+14155550100"),
        ("+85291234567", "+85291234567"),
    ],
)
def test_good_phone_numbers_are_normalised(given_: str, normalised: str) -> None:
    assert check_phone(given_) == normalised


@pytest.mark.parametrize(
    "bad",
    [
        "13812345678",  # no country code
        "+86 12812345678",  # a Chinese mobile starts 13-19
        "+86 1381234567",  # 10 digits
        "+86 138123456789",  # 12 digits
        "+0123456789",
        "+1234567",  # too short
        "+1234567890123456",  # 16 digits
        "+86 138 1234 567x",
        "tel:+8613812345678",
        "",
    ],
)
def test_bad_phone_numbers_are_refused_without_echo(bad: str) -> None:
    with pytest.raises(InvalidInput) as info:
        check_phone(bad)
    assert info.value.field == "phone"
    digits = "".join(c for c in bad if c.isdigit())
    if digits:
        assert digits not in str(info.value)


@pytest.mark.parametrize(
    "good", ["a@example.com", "zhang.san+debt@mail.example.cn", "o'neil@sub.example.org"]
)
def test_good_email_addresses(good: str) -> None:
    assert check_email(f" {good} ") == good


@pytest.mark.parametrize(
    "bad",
    [
        "no-at-sign.example.com",
        "two@@example.com",
        "a@b",
        ".lead@example.com",
        "trail.@example.com",
        "dou..ble@example.com",
        "sp ace@example.com",
        "x@example.com\r\nBcc: victim@example.com",
        "x@-example.com",
        "x@example.c0m",
        "",
    ],
)
def test_bad_email_addresses_are_refused_without_echo(bad: str) -> None:
    with pytest.raises(InvalidInput) as info:
        check_email(bad)
    assert info.value.field == "email"
    local = bad.split("@")[0]
    if len(local) > 2:
        assert local not in str(info.value)


def test_contact_is_checked_for_its_channel() -> None:
    assert check_contact("sms", "+86 138 1234 5678") == "+8613812345678"
    assert check_contact("voice", "+8613812345678") == "+8613812345678"
    assert check_contact("email", "a@example.com") == "a@example.com"
    with pytest.raises(InvalidInput) as info:
        check_contact("sms", "a@example.com")
    assert info.value.field == "phone"
    with pytest.raises(InvalidInput) as info:
        check_contact("email", "+8613812345678")
    assert info.value.field == "email"
    with pytest.raises(InvalidInput) as info:
        check_contact("fax", "+8613812345678")
    assert info.value.field == "channel"


@pytest.mark.parametrize(
    ("contact", "masked"),
    [
        ("+8613812345678", "***5678"),
        ("+86 138****5678", "***5678"),
        ("+86 138 1234 5678", "***5678"),
        ("a***@example.com", "***"),
        ("zhang.san@example.com", "***"),
        ("1234", "***"),
        ("not a number 12345678", "***"),
    ],
)
def test_mask_contact(contact: str, masked: str) -> None:
    assert mask_contact(contact) == masked


_CN_MOBILE = st.builds(
    lambda second, rest: f"+861{second}{rest}",
    st.sampled_from("3456789"),
    st.text("0123456789", min_size=9, max_size=9),
)
_E164 = st.builds(
    lambda first, rest: f"+{first}{rest}",
    st.sampled_from("123456789"),
    st.text("0123456789", min_size=7, max_size=14),
).filter(lambda n: not n.startswith("+86"))


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.one_of(_CN_MOBILE, _E164))
def test_a_delivery_shows_four_digits_of_a_number_at_most(number: str) -> None:
    assert check_phone(number) == number
    delivery = Delivery(
        channel="sms",
        to=number,
        message_id="sms-1",
        status=DeliveryStatus.SENT,
        at=datetime(2026, 1, 1, tzinfo=UTC),
        outcome="delivered",
    )
    shown = repr(delivery)
    assert shown == str(delivery)
    assert f"'***{number[-4:]}'" in shown
    # No run of five or more of the number's digits appears anywhere.
    digits = number[1:]
    assert not any(digits[i : i + 5] in shown for i in range(len(digits) - 4))


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.text("+0123456789 -()", max_size=30))
def test_refused_numbers_are_never_echoed(text: str) -> None:
    try:
        check_phone(text)
    except InvalidInput as exc:
        digits = "".join(c for c in text if c.isdigit())
        if len(digits) >= 4:
            assert digits not in str(exc)
