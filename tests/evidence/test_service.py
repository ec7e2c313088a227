"""Evidence end to end on a real node: add items, batch, anchor, receipts that verify
offline and on chain, and each kind of tampering failing the check that names it."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from debtledger.errors import InvalidInput, NotFound, VerificationFailed
from debtledger.evidence.receipts import ChainView, verify_receipt
from debtledger.evidence.service import EvidenceService, NewItem
from tests.conftest import Ledger, new_claim

pytestmark = pytest.mark.xdist_group("evidence-e2e")


@pytest.fixture
def evidence(ledger: Ledger) -> EvidenceService:
    return EvidenceService(ledger.rt)


def test_ten_thousand_items_anchor_in_one_batch_and_every_receipt_verifies(
    ledger: Ledger, evidence: EvidenceService, tmp_path: Path
) -> None:
    claim = new_claim("EV-1")
    ledger.claims.register("bank-a", claim, idem_key="ev-1")
    contents = [f"call {i} transcript".encode() for i in range(10_000)]
    added = evidence.add_many(
        "bank-a",
        [NewItem(c, "message", "text/plain", claim.claim_id) for c in contents],
    )
    assert len({a["id"] for a in added}) == 10_000
    assert evidence.pending_count("bank-a") == 10_000

    (batch,) = evidence.run("bank-a")
    assert batch.count == 10_000 and batch.block_number is not None
    assert evidence.pending_count() == 0
    receipts = dict(evidence.receipts(batch.id))
    assert len(receipts) == 10_000
    url = ledger.settings.node_url
    chain = ChainView(url)
    for item, content in zip(added, contents, strict=True):
        receipt = json.loads(receipts[item["id"]])
        checks = [s.check for s in verify_receipt(receipt, content, chain=chain)]
        assert checks[-1] == "anchor-transaction"  # every check ran
    one = json.loads(receipts[added[42]["id"]])
    assert one == json.loads(evidence.receipt(added[42]["id"]))
    with pytest.raises(VerificationFailed) as exc:
        verify_receipt(one, b"call 42 transcripT", rpc_url=url)
    assert exc.value.check == "content-hash"


def test_item_added_twice_is_one_item_and_anchoring_is_not_repeated(
    ledger: Ledger, evidence: EvidenceService
) -> None:
    first = evidence.add("bank-a", NewItem(b"receipt 1", "receipt", "text/plain"))
    assert evidence.add("bank-a", NewItem(b"receipt 1", "receipt", "text/plain"))["id"] in (
        first["id"],
        first["id"] + 1,  # a later second: another statement, another item
    )
    batches = evidence.run()
    assert [b.count for b in batches] in ([1], [2])
    assert evidence.run() == []  # nothing left to close or anchor
    # A rerun with a fresh runtime finds nothing to anchor twice.
    assert EvidenceService(ledger.reopen().rt).run() == []


def test_interrupted_anchoring_is_finished_once(ledger: Ledger, evidence: EvidenceService) -> None:
    evidence.add("bank-a", NewItem(b"legal notice", "legal-notice", "text/plain"))
    batch = evidence.close_batch("bank-a")
    assert batch is not None and batch.block_number is None  # closed, not anchored: a crash
    (done,) = EvidenceService(ledger.reopen().rt).run()
    assert done.id == batch.id and done.block_number is not None
    anchored = ledger.rt.writer.call(
        ledger.rt.abi("EvidenceAnchor"),
        ledger.rt.address("EvidenceAnchor"),
        "anchored",
        batch.root,
    )
    assert anchored[2] == 1


def test_bad_metadata_is_refused_before_anything_is_stored(
    ledger: Ledger, evidence: EvidenceService
) -> None:
    with pytest.raises(InvalidInput, match="kind"):
        evidence.add("bank-a", NewItem(b"x", "gossip", "text/plain"))
    with pytest.raises(InvalidInput, match="media_type"):
        evidence.add("bank-a", NewItem(b"x", "message", "not a type"))
    with pytest.raises(InvalidInput, match="empty"):
        evidence.add("bank-a", NewItem(b"", "message", "text/plain"))
    assert evidence.pending_count() == 0
    assert not any(p.name.startswith(".incoming") for p in evidence.blobs.folder.glob("*"))


def test_receipt_of_an_unbatched_item_is_not_found(evidence: EvidenceService) -> None:
    item = evidence.add("bank-a", NewItem(b"promise", "promise-to-pay", "text/plain"))
    with pytest.raises(NotFound, match="not in a batch"):
        evidence.receipt(item["id"])
    with pytest.raises(NotFound):
        evidence.item(10**9)


def test_background_batcher_anchors_by_time_and_by_size(ledger: Ledger) -> None:
    settings = ledger.rt.settings
    settings.evidence_batch_seconds = 0.5
    settings.evidence_batch_size = 3
    evidence = EvidenceService(ledger.rt)
    stop = threading.Event()
    worker = threading.Thread(target=evidence.follow, args=(stop, 0.05), daemon=True)
    worker.start()
    try:
        evidence.add("bank-a", NewItem(b"alone", "message", "text/plain"))
        deadline = time.monotonic() + 10
        while evidence.pending_count() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert evidence.pending_count() == 0  # closed by time
        settings.evidence_batch_seconds = 3600.0  # from now on only size closes a batch
        evidence.add_many(
            "bank-a", [NewItem(f"n{i}".encode(), "message", "text/plain") for i in range(2)]
        )
        time.sleep(0.5)
        assert evidence.pending_count() == 2  # neither full nor old enough
        evidence.add("bank-a", NewItem(b"third", "message", "text/plain"))
        deadline = time.monotonic() + 10
        while evidence.pending_count() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert evidence.pending_count() == 0  # closed by size
    finally:
        stop.set()
        worker.join(timeout=10)
    counts = sorted(evidence.batch(i).count for i in (1, 2))
    assert counts == [1, 3]
    assert all(evidence.batch(i).block_number for i in (1, 2))


def test_every_repayment_becomes_evidence_once(ledger: Ledger, evidence: EvidenceService) -> None:
    claim = new_claim("EV-R")
    ledger.claims.register("bank-a", claim, idem_key="ev-r")
    entry = ledger.claims.repay(claim.claim_id, "bank-a", 1_500, "bank ref 77", idem_key="rp-1")
    again = ledger.claims.repay(claim.claim_id, "bank-a", 1_500, "bank ref 77", idem_key="rp-1")
    assert again.tx_hash == entry.tx_hash
    (item,) = evidence.items_of_claim(claim.claim_id)
    assert (item["kind"], item["organisation"]) == ("repayment", "bank-a")
    record = json.loads(evidence.content_path(item["id"]).read_bytes())
    assert record["amount_fen"] == 1_500 and record["tx_hash"] == entry.tx_hash
    assert "bank ref 77" not in json.dumps(record)  # the receipt text only as its hash
    (batch,) = evidence.run()
    receipt = json.loads(evidence.receipt(item["id"]))
    verify_receipt(receipt, evidence.content_path(item["id"]), rpc_url=ledger.settings.node_url)
    assert batch.count == 1
