"""Joint repayments on a real node: one payment of a debtor split among three creditors'
claims by share, to the fen, recorded on chain for each claim, once per idempotency key."""

from __future__ import annotations

import pytest

from debtledger.coordination.joint import JointRepayments, pseudonym_hex
from debtledger.domain.claims import NewClaim, parse_claim
from debtledger.errors import InvalidInput, NotFound

from ..conftest import Ledger

pytestmark = pytest.mark.xdist_group("coordination")

DEBTOR = "0x" + "3c" * 32
OTHER = "0x" + "4d" * 32


def claim(ref: str, outstanding: int, debtor: str = DEBTOR, currency: str = "CNY") -> NewClaim:
    return parse_claim(
        {
            "claim_ref": ref,
            "debtor_pseudonym": debtor,
            "principal_fen": str(outstanding + 5_000),
            "outstanding_fen": str(outstanding),
            "currency": currency,
            "due_date": "2026-01-15",
        }
    )


@pytest.fixture
def three(ledger: Ledger) -> dict[str, NewClaim]:
    """One debtor's claims at bank-a (30,000), bank-b (20,000) and bank-c (20,000 fen), a
    claim of another debtor and one of this debtor in another currency; indexed."""
    ledger.orgs.add("bank-c", ["CREDITOR"], idem_key="org:bank-c")
    made = {
        "bank-a": claim("J-A", 30_000),
        "bank-b": claim("J-B", 20_000),
        "bank-c": claim("J-C", 20_000),
    }
    for owner, c in made.items():
        ledger.claims.register(owner, c, idem_key=f"reg:{c.ref}")
    ledger.claims.register("bank-a", claim("J-OTHER", 9_000, OTHER), idem_key="reg:other")
    ledger.claims.register("bank-b", claim("J-USD", 9_000, currency="USD"), idem_key="reg:usd")
    ledger.rt.indexer.run_once()
    return made


def outstanding(ledger: Ledger, c: NewClaim) -> int:
    return int(ledger.claims.show(c.claim_id)["outstanding_fen"])


def test_an_odd_amount_is_split_by_share_to_the_fen(
    ledger: Ledger, three: dict[str, NewClaim]
) -> None:
    result = JointRepayments(ledger.rt).pay(
        bytes.fromhex(DEBTOR[2:]), 10_001, "RCPT-1", by_org="gateway", idem_key="joint-1"
    )
    ids = {owner: "0x" + c.claim_id.hex() for owner, c in three.items()}
    # 3/7, 2/7, 2/7 of 10,001: 4,286.14, 2,857.43, 2,857.43; the spare fen to the smaller id
    # of the two equal fractions.
    tie = sorted([ids["bank-b"], ids["bank-c"]])
    expected = {ids["bank-a"]: 4_286, tie[0]: 2_858, tie[1]: 2_857}
    assert dict(result.parts) == expected
    assert sum(result.parts.values()) == result.amount_fen == 10_001
    assert list(result.parts) == sorted(expected)
    before = {"bank-a": 30_000, "bank-b": 20_000, "bank-c": 20_000}
    for owner, c in three.items():
        assert outstanding(ledger, c) == before[owner] - expected[ids[owner]]
    assert outstanding(ledger, claim("J-OTHER", 0, OTHER)) == 9_000
    assert outstanding(ledger, claim("J-USD", 0, currency="USD")) == 9_000


def test_the_same_key_pays_once_and_returns_the_same_split(
    ledger: Ledger, three: dict[str, NewClaim]
) -> None:
    joint = JointRepayments(ledger.rt)
    first = joint.pay(DEBTOR, 7_001, "RCPT-2", by_org="gateway", idem_key="joint-2")
    ledger.rt.indexer.run_once()  # the read model now shows the lower amounts
    again = joint.pay(DEBTOR, 7_001, "RCPT-2", by_org="gateway", idem_key="joint-2")
    assert dict(again.parts) == dict(first.parts)
    assert {k: e.tx_hash for k, e in again.entries.items()} == {
        k: e.tx_hash for k, e in first.entries.items()
    }
    assert sum(outstanding(ledger, c) for c in three.values()) == 70_000 - 7_001
    with pytest.raises(InvalidInput) as err:
        joint.pay(DEBTOR, 7_002, "RCPT-2", by_org="gateway", idem_key="joint-2")
    assert err.value.field == "idem_key"


def test_paying_everything_settles_every_claim(ledger: Ledger, three: dict[str, NewClaim]) -> None:
    result = JointRepayments(ledger.rt).pay(
        DEBTOR, 70_000, "RCPT-3", by_org="gateway", idem_key="joint-3"
    )
    assert sorted(result.parts.values()) == [20_000, 20_000, 30_000]
    assert {ledger.claims.show(c.claim_id)["status"] for c in three.values()} == {"settled"}
    ledger.rt.indexer.run_once()
    with pytest.raises(NotFound):
        JointRepayments(ledger.rt).pay(DEBTOR, 1, "RCPT-4", by_org="gateway", idem_key="joint-4")


def test_refusals(ledger: Ledger, three: dict[str, NewClaim]) -> None:
    joint = JointRepayments(ledger.rt)
    with pytest.raises(InvalidInput) as err:
        joint.pay(DEBTOR, 70_001, "R", by_org="gateway", idem_key="too-much")
    assert err.value.field == "amount_fen"
    with pytest.raises(InvalidInput) as err:
        joint.pay(DEBTOR, 0, "R", by_org="gateway", idem_key="nothing")
    assert err.value.field == "amount_fen"
    with pytest.raises(InvalidInput) as err:
        joint.pay("someone", 1, "R", by_org="gateway", idem_key="bad")
    assert err.value.field == "debtor_pseudonym"
    assert "someone" not in str(err.value)
    with pytest.raises(NotFound):
        joint.pay("0x" + "99" * 32, 1, "R", by_org="gateway", idem_key="nobody")
    assert sum(outstanding(ledger, c) for c in three.values()) == 70_000


def test_pseudonyms_are_normalised() -> None:
    assert pseudonym_hex(bytes.fromhex("AB" * 32)) == "0x" + "ab" * 32
    assert pseudonym_hex(" 0x" + "AB" * 32) == "0x" + "ab" * 32
