"""Events decoded by claim and by block range: a claim's history rebuilt from the chain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.conftest import Ledger, new_claim


def test_history_rebuilds_every_change_of_a_claim(ledger: Ledger) -> None:
    cid = new_claim("H-1").claim_id
    c = ledger.claims
    c.register("bank-a", new_claim("H-1", principal=50_000), idem_key="h1")
    c.mandate(cid, "bank-a", "agency-x", datetime.now(UTC) + timedelta(days=30), idem_key="h2")
    c.repay(cid, "bank-a", 20_000, "PAY-1", idem_key="h3")
    c.propose_transfer(cid, "bank-a", "bank-b", 10_000, "CNY", idem_key="h4")
    c.accept(cid, "bank-b", idem_key="h5")
    c.dispute(cid, "court", "debtor contests", idem_key="h6")
    c.resolve(cid, "court", 0, "judgment", idem_key="h7")
    names = [h["event"] for h in c.history(cid)]
    assert names == [
        "ClaimRegistered",
        "MandateGranted",
        "RepaymentRecorded",
        "TransferProposed",
        "MandateRevoked",
        "ClaimTransferred",
        "ClaimDisputed",
        "DisputeResolved",
        "ClaimSettled",
    ]
    repaid = next(h for h in c.history(cid) if h["event"] == "RepaymentRecorded")
    assert repaid["args"]["applied"] == 20_000 and repaid["args"]["outstanding"] == 30_000
    assert c.show(cid)["status"] == "settled"


def test_events_by_block_range(ledger: Ledger) -> None:
    ledger.claims.register("bank-a", new_claim("B-1"), idem_key="b1")
    middle = ledger.rt.writer.head()
    ledger.claims.register("bank-a", new_claim("B-2"), idem_key="b2")
    later = list(ledger.rt.events.events(middle + 1))
    assert [e.name for e in later] == ["ClaimRegistered"]
    assert later[0].args["claim_id"] == new_claim("B-2").claim_id
    everything = [e.name for e in ledger.rt.events.events(0)]
    assert everything.count("ClaimRegistered") == 2
    assert "RoleGranted" in everything
