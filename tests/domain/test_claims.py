"""Claim validation: each bad value is refused with the field (and row) that was wrong."""

from __future__ import annotations

import pytest

from debtledger.domain.claims import claim_id, parse_amount, parse_claim, parse_claim_id
from debtledger.errors import InvalidInput

GOOD = {
    "claim_ref": "BANK-1",
    "debtor_pseudonym": "0x" + "ab" * 32,
    "principal_fen": "1000",
    "outstanding_fen": "900",
    "currency": "CNY",
    "due_date": "2026-02-01",
}


def test_good_claim_parses() -> None:
    c = parse_claim(GOOD, row=2)
    assert (c.principal, c.outstanding, c.currency) == (1000, 900, "CNY")
    assert c.claim_id == claim_id("BANK-1")
    assert len(c.record_hash) == 32


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("principal_fen", "-5", "must not be negative"),
        ("principal_fen", "10.5", "whole number of fen"),
        ("principal_fen", "1e3", "whole number of fen"),
        ("principal_fen", "0", "must be positive"),
        ("outstanding_fen", "1001", "outstanding exceeds principal"),
        ("currency", "cny", "three-letter"),
        ("debtor_pseudonym", "0x1234", "64 hex digits"),
        ("debtor_pseudonym", "0x" + "00" * 32, "must not be zero"),
        ("due_date", "01/02/2026", "YYYY-MM-DD"),
        ("claim_ref", "has space", "claim reference"),
        ("claim_ref", "", "missing"),
    ],
)
def test_bad_value_names_row_and_field(field: str, value: str, message: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_claim({**GOOD, field: value}, row=7)
    assert info.value.field == field
    assert info.value.row == 7
    assert message in str(info.value)
    assert str(info.value).startswith(f"row 7, field '{field}'")


def test_amount_refuses_floats_and_booleans() -> None:
    with pytest.raises(InvalidInput):
        parse_amount(1.0, "amount_fen")
    with pytest.raises(InvalidInput):
        parse_amount(True, "amount_fen")
    assert parse_amount(" 42 ", "amount_fen") == 42


def test_claim_given_by_reference_or_id() -> None:
    assert parse_claim_id("BANK-1") == claim_id("BANK-1")
    assert parse_claim_id("0x" + claim_id("BANK-1").hex()) == claim_id("BANK-1")
