"""Evidence statements: the canonical bytes are exactly canonical JSON of the fields,
validation refuses what could not be written safely, and EIP-191 signatures interoperate
with eth_account."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from hypothesis import given, settings
from hypothesis import strategies as st

from debtledger.errors import InvalidInput, InvalidProof
from debtledger.evidence.merkle import leaf_hash
from debtledger.evidence.statements import KINDS, Statement, canonical_json, recover, sign

HEX64 = st.text("0123456789abcdef", min_size=64, max_size=64)
statements = st.builds(
    Statement,
    content_sha256=HEX64,
    size=st.integers(0, 2**40),
    media_type=st.sampled_from(["text/plain", "audio/mpeg", "application/vnd.ms-excel"]),
    claim_id=st.none() | HEX64.map(lambda h: "0x" + h),
    kind=st.sampled_from(KINDS),
    organisation=st.from_regex(r"\A[a-z0-9][a-z0-9_-]{0,20}\Z"),
    submitter=st.text("0123456789abcdefABCDEF", min_size=40, max_size=40).map(lambda h: "0x" + h),
    submitted_at=st.integers(0, 2**40),
)


@settings(max_examples=300)
@given(statements)
def test_canonical_bytes_are_canonical_json_of_the_fields(s: Statement) -> None:
    assert s.canonical() == canonical_json(asdict(s))
    assert json.loads(s.canonical()) == asdict(s)
    assert Statement.from_dict(json.loads(s.canonical())) == s
    assert s.leaf_hash == leaf_hash(s.canonical())


GOOD = dict(
    content_sha256="ab" * 32,
    size=3,
    media_type="text/plain",
    claim_id=None,
    kind="message",
    organisation="bank-a",
    submitter="0x" + "12" * 20,
    submitted_at=1,
)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("content_sha256", "AB" * 32),
        ("kind", "gossip"),
        ("media_type", 'text/"plain'),
        ("claim_id", "0x" + "1" * 63),
        ("organisation", 'bank"a'),
        ("submitter", "0x123"),
        ("size", -1),
        ("size", True),
        ("submitted_at", 1.5),
    ],
)
def test_fields_that_could_not_be_written_safely_are_refused(field: str, value: object) -> None:
    with pytest.raises(InvalidInput):
        Statement(**{**GOOD, field: value})  # type: ignore[arg-type]


def test_from_dict_needs_exactly_the_fields() -> None:
    with pytest.raises(InvalidInput, match="exactly the fields"):
        Statement.from_dict({**GOOD, "v": 1, "extra": 1})
    with pytest.raises(InvalidInput, match="exactly the fields"):
        Statement.from_dict(GOOD)  # no version


def test_signatures_interoperate_with_eth_account() -> None:
    account = Account.create()
    message = Statement(**GOOD).canonical()  # type: ignore[arg-type]
    sig = sign(message, bytes(account.key))
    assert recover(message, sig) == account.address
    assert (
        Account.recover_message(encode_defunct(primitive=message), signature=sig) == account.address
    )
    theirs = Account.sign_message(encode_defunct(primitive=message), account.key).signature
    assert recover(message, bytes(theirs)) == account.address
    assert recover(message + b" ", sig) != account.address
    with pytest.raises(InvalidProof):
        recover(message, sig[:64])
    with pytest.raises(InvalidProof):
        recover(message, sig[:64] + b"\x05")
