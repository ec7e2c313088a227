"""The writer against a real anvil: outbox before send, group commit, idempotency, typed
refusals, reconciliation."""

from __future__ import annotations

import pytest

from debtledger.chain.writer import Write
from debtledger.domain.claims import pack_claim
from debtledger.errors import ClaimNotFound, Conflict, Forbidden, Rejected
from debtledger.store.outbox import Status
from tests.conftest import Ledger, new_claim


def _register(ledger: Ledger, ref: str, key: str | None = None) -> Write:
    c = new_claim(ref)
    return Write(
        ledger.rt.abi("ClaimRegistry"),
        ledger.rt.address("ClaimRegistry"),
        "register",
        (c.as_tuple(),),
        key or f"reg:{ref}",
    )


def test_execute_reports_done_only_with_a_mined_block(ledger: Ledger) -> None:
    (entry,) = ledger.rt.writer.execute(ledger.orgs.account("bank-a"), [_register(ledger, "W-1")])
    assert entry.status is Status.MINED
    receipt = ledger.rt.writer.rpc.call("eth_getTransactionReceipt", [entry.tx_hash])
    assert int(receipt["blockNumber"], 16) == entry.block_number
    assert ledger.claims.show(new_claim("W-1").claim_id)["owner"] == "bank-a"


def test_group_commit_puts_many_writes_in_one_block(ledger: Ledger) -> None:
    signer = ledger.orgs.account("bank-a")
    stored = ledger.rt.writer.submit(signer, [_register(ledger, f"G-{i}") for i in range(40)])
    assert all(e.status is Status.PENDING for e in stored)
    assert [e.nonce for e in stored] == list(range(stored[0].nonce, stored[0].nonce + 40))
    head = ledger.rt.writer.head()
    done = ledger.rt.writer.flush(stored)
    assert {e.status for e in done} == {Status.MINED}
    assert {e.block_number for e in done} == {head + 1}


def test_same_idempotency_key_is_one_write(ledger: Ledger) -> None:
    signer = ledger.orgs.account("bank-a")
    (first,) = ledger.rt.writer.execute(signer, [_register(ledger, "I-1", key="same")])
    (again,) = ledger.rt.writer.execute(signer, [_register(ledger, "I-1", key="same")])
    assert again.tx_hash == first.tx_hash
    assert ledger.rt.outbox.counts() == {"mined": ledger.rt.outbox.counts()["mined"]}
    history = list(ledger.claims.history(new_claim("I-1").claim_id))
    assert [h["event"] for h in history] == ["ClaimRegistered"]


def test_refusal_is_typed_and_spends_no_nonce(ledger: Ledger) -> None:
    signer = ledger.orgs.account("bank-a")
    ledger.rt.writer.execute(signer, [_register(ledger, "R-1")])
    nonce = ledger.rt.writer.nonce(signer.address)
    before = ledger.rt.outbox.counts()
    with pytest.raises(Conflict, match="registry: claim already registered"):
        ledger.rt.writer.execute(signer, [_register(ledger, "R-1", key="dup")])
    assert ledger.rt.writer.nonce(signer.address) == nonce
    assert ledger.rt.outbox.counts() == before


def test_contract_rules_arrive_as_typed_errors(ledger: Ledger) -> None:
    cid = new_claim("T-1").claim_id
    ledger.claims.register("bank-a", new_claim("T-1"), idem_key="t1")
    with pytest.raises(Conflict) as conflict:
        ledger.claims.accept(cid, "bank-b", idem_key="x1")
    assert conflict.value.rule == "registry: no pending transfer"
    with pytest.raises(Forbidden) as forbidden:
        ledger.claims.settle(cid, "bank-b", "", idem_key="x2")
    assert forbidden.value.rule == "registry: caller is not the owner"
    with pytest.raises(ClaimNotFound) as missing:
        ledger.claims.write_off(new_claim("NOPE").claim_id, "bank-a", idem_key="x3")
    assert missing.value.rule == "registry: unknown claim"
    with pytest.raises(Forbidden, match="caller is not the owner or a gateway"):
        ledger.claims.repay(cid, "agency-x", 5, "r", idem_key="x4")


def test_revert_after_estimate_is_recorded_with_its_reason(ledger: Ledger) -> None:
    """Two offers of one claim signed before either is mined: the second reverts in its
    block, and the outbox records the contract's reason."""
    ledger.claims.register("bank-a", new_claim("D-1"), idem_key="d1")
    cid = new_claim("D-1").claim_id
    abi, at = ledger.rt.abi("ClaimRegistry"), ledger.rt.address("ClaimRegistry")
    bank_a = ledger.orgs.account("bank-a")
    offer = Write(
        abi, at, "propose_transfer", (cid, ledger.orgs.address("bank-b"), b"\1" * 32), "offer-1"
    )
    gas = ledger.rt.writer.estimate(bank_a.address, offer)
    second = Write(
        abi,
        at,
        "propose_transfer",
        (cid, ledger.orgs.address("bank-b"), b"\2" * 32),
        "offer-2",
        gas=gas,
    )
    ledger.rt.writer.submit(bank_a, [offer, second])
    with pytest.raises(Conflict, match="already pending transfer"):
        ledger.rt.writer.execute(bank_a, [offer, second])
    stored = ledger.rt.outbox.by_key(["offer-1", "offer-2"])
    assert stored["offer-1"].status is Status.MINED
    assert stored["offer-2"].status is Status.REVERTED
    assert stored["offer-2"].error == "registry: claim already pending transfer"


def test_reconcile_sends_stored_writes_that_never_reached_the_node(ledger: Ledger) -> None:
    """A process that stored writes and died before sending: the next one sends them."""
    signer = ledger.orgs.account("bank-a")
    ledger.rt.writer.submit(signer, [_register(ledger, f"C-{i}") for i in range(5)])
    assert not any(ledger.claims.registered([new_claim(f"C-{i}").claim_id for i in range(5)]))
    restarted = ledger.reopen()
    report = restarted.rt.writer.reconcile()
    assert report["resent"] == 0  # the new process's writer already reconciled on open
    for i in range(5):
        assert restarted.claims.show(new_claim(f"C-{i}").claim_id)["owner"] == "bank-a"
    assert restarted.rt.outbox.counts() == {"mined": restarted.rt.outbox.counts()["mined"]}


def test_reconcile_restores_writes_lost_with_an_older_snapshot(ledger: Ledger) -> None:
    signer = ledger.orgs.account("bank-a")
    ledger.rt.writer.execute(signer, [_register(ledger, "S-0")])
    ledger.node.snapshot()
    done = ledger.rt.writer.execute(signer, [_register(ledger, f"S-{i}") for i in range(1, 4)])
    assert all(e.status is Status.MINED for e in done)
    ledger.node.kill()
    ledger.node.start()  # comes back from the snapshot: S-1..S-3 are gone from the chain
    assert not ledger.claims.registered([new_claim("S-3").claim_id])[0]
    report = ledger.reopen().rt.writer.reconcile()
    assert report["resent"] == 0  # reopen() reconciled already; the state is whole again
    assert all(ledger.claims.registered([new_claim(f"S-{i}").claim_id for i in range(4)]))
    history = list(ledger.claims.history(new_claim("S-2").claim_id))
    assert [h["event"] for h in history] == ["ClaimRegistered"]


def test_rejected_values_are_typed(ledger: Ledger) -> None:
    with pytest.raises(Rejected, match="outstanding exceeds principal"):
        c = new_claim("V-1")
        bad = pack_claim(c.claim_id, c.debtor, 10, 11, b"CNY", 1_700_000_000, c.record_hash)
        ledger.rt.writer.execute(
            ledger.orgs.account("bank-a"),
            [
                Write(
                    ledger.rt.abi("ClaimRegistry"),
                    ledger.rt.address("ClaimRegistry"),
                    "register",
                    (bad,),
                    "v1",
                )
            ],
        )


def test_concurrent_writes_with_one_key_are_one_write(ledger: Ledger) -> None:
    """Requests racing with the same idempotency key all get the one stored write."""
    from concurrent.futures import ThreadPoolExecutor

    signer = ledger.orgs.account("bank-a")
    write = _register(ledger, "RACE-1", key="same-race")
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda _: ledger.rt.writer.submit(signer, [write]), range(6)))
    assert len({entry.tx_hash for (entry,) in results}) == 1
    (done,) = ledger.rt.writer.flush([results[0][0]])
    assert done.status is Status.MINED
    history = list(ledger.claims.history(new_claim("RACE-1").claim_id))
    assert [h["event"] for h in history] == ["ClaimRegistered"]
