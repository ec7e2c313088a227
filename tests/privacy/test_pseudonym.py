"""Resident identity numbers (GB 11643-1999) and debtor pseudonyms. Check digits are
computed here independently, with ISO 7064 MOD 11-2 done digit by digit."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from debtledger.errors import ConfigError, InvalidInput
from debtledger.privacy.pseudonym import (
    PSEUDONYM_TAG,
    LinkageService,
    is_valid_national_id,
    normalise_national_id,
)
from tests.privacy.conftest import EXAMPLES

KEY = bytes(range(32))


def iso7064_check(first17: str) -> str:
    """ISO 7064 MOD 11-2, the recursive form (not the weight table the code uses)."""
    p = 0
    for ch in first17:
        p = ((p + int(ch)) * 2) % 11
    value = (12 - p) % 11
    return "X" if value == 10 else str(value)


def valid_id(region: str, born: date, seq: str) -> str:
    first17 = f"{region}{born:%Y%m%d}{seq}"
    return first17 + iso7064_check(first17)


ids = st.builds(
    valid_id,
    st.from_regex(r"[1-9][0-9]{5}", fullmatch=True),
    st.dates(min_value=date(1900, 1, 1), max_value=date(2024, 12, 31)),
    st.from_regex(r"[0-9]{3}", fullmatch=True),
)


@pytest.mark.parametrize("known", ["11010519491231002X", "110101199003074477"])
def test_known_ids_are_valid_and_every_other_check_character_is_not(known: str) -> None:
    assert iso7064_check(known[:17]) == known[17]
    assert normalise_national_id(known) == known
    for wrong in "0123456789X":
        if wrong != known[17]:
            with pytest.raises(InvalidInput) as info:
                normalise_national_id(known[:17] + wrong)
            assert "check digit" in str(info.value)


@settings(max_examples=EXAMPLES * 4, deadline=None)
@given(national_id=ids, data=st.data())
def test_any_single_character_change_is_caught(national_id: str, data: st.DataObject) -> None:
    assert normalise_national_id(national_id) == national_id
    pos = data.draw(st.integers(0, 17), label="position")
    alphabet = "0123456789X" if pos == 17 else "0123456789"
    new = data.draw(st.sampled_from(alphabet).filter(lambda c: c != national_id[pos]))
    assert not is_valid_national_id(national_id[:pos] + new + national_id[pos + 1 :])


def test_formatting_variants_normalise_to_one_form() -> None:
    canonical = "11010519491231002X"
    for variant in (
        "11010519491231002x",
        " 110105 19491231 002X ",
        "１１０１０５１９４９１２３１００２Ｘ",  # full-width
        "110105\u300019491231002x",  # ideographic space
    ):
        assert normalise_national_id(variant) == canonical


@pytest.mark.parametrize(
    ("first17", "message"),
    [
        ("11010519490231002", "not a real date"),  # 31 February
        ("11010519491301002", "not a real date"),  # month 13
        ("11010517991231002", "out of range"),  # before 1800
    ],
)
def test_birth_date_must_be_real(first17: str, message: str) -> None:
    with pytest.raises(InvalidInput) as info:
        normalise_national_id(first17 + iso7064_check(first17))
    assert message in str(info.value)
    assert info.value.field == "national_id"


def test_birth_date_in_the_future_is_refused() -> None:
    tomorrow = date.today() + timedelta(days=1)
    national_id = valid_id("110105", tomorrow, "002")
    with pytest.raises(InvalidInput):
        normalise_national_id(national_id)
    assert normalise_national_id(national_id, today=tomorrow) == national_id


@pytest.mark.parametrize(
    "bad",
    ["", "11010519491231002", "110105194912310021X", "1101051949123100XX", "ABCDEFGHIJKLMNOPQR"],
)
def test_wrong_shape_is_refused(bad: str) -> None:
    with pytest.raises(InvalidInput) as info:
        normalise_national_id(bad)
    assert info.value.field == "national_id"


@settings(max_examples=EXAMPLES, deadline=None)
@given(national_id=ids, data=st.data())
def test_error_messages_never_contain_the_id(national_id: str, data: st.DataObject) -> None:
    wrong = "0" if national_id[17] != "0" else "1"
    for bad in (national_id[:17] + wrong, national_id[:16], national_id + "1"):
        with pytest.raises(InvalidInput) as info:
            normalise_national_id(bad)
        text = str(info.value)
        assert bad not in text and national_id[:6] not in text and national_id[6:14] not in text


# ------------------------------------------------------------------ pseudonyms


def test_same_debtor_gets_the_same_pseudonym_at_two_creditors() -> None:
    at_bank_a = LinkageService(KEY).pseudonym("11010519491231002X")
    at_bank_b = LinkageService(KEY).pseudonym(" 11010519491231002x")
    assert at_bank_a == at_bank_b
    assert len(at_bank_a) == 32
    expected = hmac.new(KEY, PSEUDONYM_TAG + b"11010519491231002X", hashlib.sha256).digest()
    assert at_bank_a == expected
    assert LinkageService(KEY).pseudonym_hex("11010519491231002X") == "0x" + expected.hex()


def test_different_debtors_or_keys_give_different_pseudonyms() -> None:
    service = LinkageService(KEY)
    assert service.pseudonym("11010519491231002X") != service.pseudonym("110101199003074477")
    other = LinkageService(bytes(32 * [7]))
    assert other.pseudonym("11010519491231002X") != service.pseudonym("11010519491231002X")


def test_pseudonym_of_an_invalid_id_is_refused() -> None:
    with pytest.raises(InvalidInput):
        LinkageService(KEY).pseudonym("110105194912310021")


@pytest.mark.parametrize("key", [b"", bytes(31), bytes(33)])
def test_linkage_key_must_be_32_bytes(key: bytes) -> None:
    with pytest.raises(ConfigError):
        LinkageService(key)
    assert "hidden" in repr(LinkageService(KEY))
