"""(f) `evidence`: (1) items hashed, batched and receipted per second for 100,000 small
items, against the same job done with the OpenTimestamps library in the same run; (2) gas
per item anchored in one batch of 10,000 against one anchoring transaction per item.

(1) Ours, per item: SHA-256 of the content, its statement (what the item is, whose, when)
in canonical JSON and its RFC 6962 leaf hash; then the tree over the batch and a JSON
receipt per item (`render_receipts`, as the service serves them). OpenTimestamps, per item:
SHA-256 of the content as a `Timestamp`; then `make_merkle_tree` over the batch and each
item's timestamp serialised (its proof file). Signing a statement is intake work of the
submitting organisation, not part of either job: it is measured on its own (statements
signed per second, EIP-191 secp256k1).

(2) On the real node: `EvidenceAnchor.anchor` for one root over 10,000 items, gasUsed per
item, against the gasUsed of anchoring each of 20 items alone (averaged).
"""

from __future__ import annotations

import hashlib
import os
import time

from bench._common import Figure, fresh_ledger, log, ratio, report, size

GOAL_RATE = 100_000
GOAL_VS_OTS = 5.0
GOAL_GAS = 10.0
SINGLES = 20


def _items(n: int) -> list[bytes]:
    return [
        f"SMS to debtor of claim {i:08d}: reminder, template r-1, {i * 7919}".encode()
        for i in range(n)
    ]


def ours(contents: list[bytes]) -> tuple[float, int]:
    from debtledger.evidence.merkle import MerkleTree
    from debtledger.evidence.receipts import Anchor, ReceiptItem, render_receipts
    from debtledger.evidence.statements import Statement

    submitter = "0x" + "ab" * 20
    signature = bytes(65)
    anchor = Anchor(31337, "0x" + "cd" * 20, "0x" + "ef" * 32, 123, 1_700_000_000, submitter)
    claim = "0x" + "11" * 32
    t0 = time.perf_counter()
    now = int(time.time())
    statements = [
        Statement(
            hashlib.sha256(c).hexdigest(),
            len(c),
            "text/plain",
            claim,
            "message",
            "agency-x",
            submitter,
            now,
        ).canonical()
        for c in contents
    ]
    leaves = [hashlib.sha256(b"\x00" + s).digest() for s in statements]
    tree = MerkleTree(leaves)
    total = 0
    for _, receipt in render_receipts(
        (
            ReceiptItem(i, s.decode(), signature, leaf)
            for i, (s, leaf) in enumerate(zip(statements, leaves, strict=True))
        ),
        tree,
        anchor,
    ):
        total += len(receipt)
    return time.perf_counter() - t0, total


def opentimestamps(contents: list[bytes]) -> tuple[float, int]:
    from opentimestamps.core.notary import BitcoinBlockHeaderAttestation
    from opentimestamps.core.serialize import BytesSerializationContext
    from opentimestamps.core.timestamp import Timestamp, make_merkle_tree

    t0 = time.perf_counter()
    stamps = [Timestamp(hashlib.sha256(c).digest()) for c in contents]
    tip = make_merkle_tree(stamps)
    tip.attestations.add(BitcoinBlockHeaderAttestation(123))  # the anchor, as our receipts
    total = 0
    for ts in stamps:
        ctx = BytesSerializationContext()
        ts.serialize(ctx)
        total += len(ctx.getbytes())
    return time.perf_counter() - t0, total


def signing_rate(n: int) -> float:
    from eth_account import Account

    from debtledger.evidence.statements import sign

    key = bytes(Account.create().key)
    messages = [os.urandom(300) for _ in range(n)]
    t0 = time.perf_counter()
    for m in messages:
        sign(m, key)
    return n / (time.perf_counter() - t0)


def gas(batch: int) -> tuple[float, float]:
    from debtledger.evidence.service import EvidenceService, NewItem

    with fresh_ledger() as led:
        ev = EvidenceService(led.rt)
        ev.add_many("bank-a", [NewItem(c, "message", "text/plain") for c in _items(batch)])
        (b,) = ev.run("bank-a")
        rpc = led.rt.writer.rpc
        big = int(rpc.call("eth_getTransactionReceipt", [b.tx_hash])["gasUsed"], 16)
        used = []
        for i in range(SINGLES):
            ev.add("bank-a", NewItem(f"single {i}".encode(), "message", "text/plain"))
            (one,) = ev.run("bank-a")
            used.append(int(rpc.call("eth_getTransactionReceipt", [one.tx_hash])["gasUsed"], 16))
    return big / batch, sum(used) / len(used)


def run() -> list[Figure]:
    n = size("EVIDENCE_ITEMS", 100_000, 20_000)
    batch = size("EVIDENCE_BATCH", 10_000, 10_000)
    contents = _items(n)
    log(f"[evidence] {n:,} items: ours vs OpenTimestamps (best of 3 each, interleaved)")
    best_ours, best_ots = float("inf"), float("inf")
    for _ in range(3):
        t, bytes_ours = ours(contents)
        best_ours = min(best_ours, t)
        t, bytes_ots = opentimestamps(contents)
        best_ots = min(best_ots, t)
    rate, rate_ots = n / best_ours, n / best_ots
    log(
        f"  ours {rate:,.0f} items/s ({bytes_ours / n:,.0f} B receipt/item); "
        f"OpenTimestamps {rate_ots:,.0f} items/s ({bytes_ots / n:,.0f} B proof/item)"
    )
    signed = signing_rate(5_000)
    log(f"  statements signed (EIP-191, intake): {signed:,.0f}/s")
    per_item, single = gas(batch)
    log(f"  gas: {per_item:.2f}/item in a batch of {batch:,}; {single:,.0f} for one item alone")
    r_ots = ratio(rate, rate_ots)
    return [
        report(
            Figure(
                name="evidence_items_per_s",
                value=rate,
                unit="items/s",
                baseline=f"opentimestamps (make_merkle_tree, a timestamp per item; {n:,} items)",
                baseline_value=rate_ots,
                ratio=r_ots,
                goal=f">= {GOAL_RATE:,}/s and ratio >= {GOAL_VS_OTS}",
                met=rate >= GOAL_RATE and r_ots >= GOAL_VS_OTS,
                notes=[f"statements signed at intake: {signed:,.0f}/s (not in either job)"],
            )
        ),
        report(
            Figure(
                name="evidence_gas_per_item",
                value=per_item,
                unit="gas/item",
                baseline=f"one anchoring transaction per item (mean of {SINGLES})",
                baseline_value=single,
                ratio=ratio(per_item, single),
                goal=f"< {GOAL_GAS} gas/item",
                met=per_item < GOAL_GAS,
            )
        ),
    ]
