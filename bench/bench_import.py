"""(a) `import`: a claims CSV imported end to end through ClaimService.import_csv, against
the same claims registered one transaction per claim, and against the raw node limit.

Three fresh nodes, one per path, so no path inherits another's stored slots:
  raw         pre-encoded, pre-signed register_batch transactions of 1,000 claims, sent by
              JSON-RPC batch POST, one evm_mine per GROUP_TXS transactions (the same grouping
              the import uses). No outbox, no validation. Timed: POSTs + evm_mine.
  import      ClaimService.import_csv: parse, validate, hash, duplicate check, encode, sign,
              outbox, send, mine, receipts. Timed end to end.
  one_by_one  ClaimService.register per claim, each its own transaction mined (receipt in
              hand) before the next. Timed end to end, including parsing the sample.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from bench._common import (
    Figure,
    PhaseTimer,
    fresh_ledger,
    json_rpc_bodies,
    log,
    quick_mode,
    ratio,
    report,
    size,
    write_csv,
)

GOAL_RATE = 20_000
GOAL_VS_ONE_BY_ONE = 100
GOAL_SHARE_OF_RAW = 0.30


def _rpc(session: requests.Session, url: str, body: bytes) -> Any:
    reply = session.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=300)
    return reply.json()


def raw_node_limit(csv_path: Path, n: int) -> dict[str, float]:
    """The node's own rate for these claims: everything prepared before the clock starts."""
    from debtledger.chain.writer import Write
    from debtledger.claims.service import BATCH_SIZE, GROUP_TXS, read_claims_csv

    with fresh_ledger() as led:
        claims, bad, _ = read_claims_csv(csv_path)
        assert not bad and len(claims) == n
        abi = led.rt.abi("ClaimRegistry")
        at = led.rt.address("ClaimRegistry")
        signer = led.orgs.account("bank-a")
        writer = led.rt.writer
        t_prep = time.perf_counter()
        gas_by_size: dict[int, int] = {}
        raws: list[str] = []
        nonce0 = writer.nonce(signer.address, "pending")
        for i in range(0, n, BATCH_SIZE):
            batch = [c.as_tuple() for c in claims[i : i + BATCH_SIZE]]
            data = abi.encode_call("register_batch", [batch])
            if len(batch) not in gas_by_size:
                probe = Write(abi, at, "register_batch", (batch,), "bench-raw", data=data)
                gas_by_size[len(batch)] = writer.estimate(signer.address, probe)
            tx = {
                "nonce": nonce0 + len(raws),
                "gas": gas_by_size[len(batch)],
                "gasPrice": 0,
                "data": data,
                "value": 0,
                "chainId": led.rt.chain_id,
                "to": at,
            }
            raws.append("0x" + bytes(signer.sign_transaction(tx).raw_transaction).hex())
        groups = [
            json_rpc_bodies([("eth_sendRawTransaction", [r]) for r in raws[g : g + GROUP_TXS]])
            for g in range(0, len(raws), GROUP_TXS)
        ]
        mine = b'{"jsonrpc":"2.0","id":1,"method":"evm_mine","params":[]}'
        prep_s = time.perf_counter() - t_prep
        session = requests.Session()
        _rpc(session, led.url, b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}')

        t0 = time.perf_counter()
        posts = 0
        mine_s = 0.0
        for bodies in groups:
            for body in bodies:
                replies = _rpc(session, led.url, body)
                posts += 1
                errors = [r["error"] for r in replies if "error" in r]
                if errors:
                    raise RuntimeError(f"raw send refused: {errors[0]}")
            t_mine = time.perf_counter()
            reply = _rpc(session, led.url, mine)
            mine_s += time.perf_counter() - t_mine
            if "error" in reply:
                raise RuntimeError(f"evm_mine: {reply['error']}")
        seconds = time.perf_counter() - t0

        # Untimed checks: every transaction mined and successful.
        assert writer.nonce(signer.address) == nonce0 + len(raws), "not every raw tx was mined"
        statuses = []
        for i in range(0, len(raws), 20):  # a receipt of 1,000 claims is ~1 MB of JSON
            replies = writer.rpc.batch(
                [("eth_getTransactionReceipt", [_tx_hash(r)]) for r in raws[i : i + 20]]
            )
            statuses += [int(r["result"]["status"], 16) for r in replies]
        assert all(s == 1 for s in statuses), "a raw register_batch transaction reverted"
        blocks = len(groups)
        log(
            f"  raw node limit: {n:,} claims in {len(raws)} txs, {posts} POSTs, {blocks} blocks: "
            f"{seconds:.2f} s = {n / seconds:,.0f} claims/s (sending {seconds - mine_s:.2f} s, "
            f"evm_mine {mine_s:.2f} s; preparing them took {prep_s:.2f} s, untimed)"
        )
        return {"rate": n / seconds, "seconds": seconds, "txs": len(raws), "blocks": blocks}


def _tx_hash(raw_hex: str) -> str:
    from eth_utils import keccak

    return "0x" + keccak(bytes.fromhex(raw_hex[2:])).hex()


def _instrument(timer: PhaseTimer) -> None:
    """Time the import's phases (the wrappers cost microseconds per call)."""
    from eth_account.signers.local import LocalAccount

    from debtledger.chain import writer as w
    from debtledger.chain.abi import ContractABI
    from debtledger.claims import service
    from debtledger.store.outbox import Outbox

    timer.wrap(service, "read_claims_csv", "read_claims_csv (parse, validate, hash)", top=True)
    timer.wrap(service.ClaimService, "registered", "ClaimService.registered (dup check)", top=True)
    timer.wrap(
        service.ClaimService, "_batch_write", "ClaimService._batch_write (+1st estimate)", top=True
    )
    timer.wrap(w.ChainWriter, "submit", "ChainWriter.submit (encode, sign, outbox)", top=True)
    timer.wrap(w.ChainWriter, "flush", "ChainWriter.flush (send, mine, receipts)", top=True)
    timer.wrap(ContractABI, "encode_call", lambda _self, fn, *_a, **_k: f"eth_abi encode {fn}")
    timer.wrap(LocalAccount, "sign_transaction", "LocalAccount.sign_transaction")
    timer.wrap(Outbox, "add", "Outbox.add (encode + sign + SQLite insert)")
    timer.wrap(w.ChainWriter, "_send", "ChainWriter._send")
    timer.wrap(w.ChainWriter, "_settle", "ChainWriter._settle (mine, receipts, mark)")
    timer.wrap(
        w.Rpc, "batch", lambda _self, calls, *_a, **_k: "rpc " + (calls[0][0] if calls else "-")
    )
    timer.wrap(Outbox, "mark", "Outbox.mark")
    timer.wrap(Outbox, "pending", "Outbox.pending")


def import_end_to_end(csv_path: Path, n: int) -> dict[str, Any]:
    with fresh_ledger() as led:
        for note in led.notes:
            log(f"  {note}")
        head0 = led.rt.writer.head()
        timer = PhaseTimer()
        _instrument(timer)
        try:
            t0 = time.perf_counter()
            rep = led.claims.import_csv(csv_path, "bank-a")
            seconds = time.perf_counter() - t0
        finally:
            timer.restore()
        assert rep.imported == n, f"imported {rep.imported} of {n}"
        from debtledger.claims.service import read_claims_csv

        claims, _, _ = read_claims_csv(csv_path)
        assert all(led.claims.registered([c.claim_id for c in claims])), "a claim is missing"
        blocks = led.rt.writer.head() - head0
        log(
            f"  import_csv: {n:,} claims, {rep.transactions} txs, {blocks} blocks: {seconds:.2f} s"
            f" = {n / seconds:,.0f} claims/s; node RSS {led.rss_bytes() / 2**20:,.0f} MiB"
        )
        log("  where the time went:")
        log(timer.table(seconds))
        return {"rate": n / seconds, "seconds": seconds, "notes": list(led.notes)}


def one_by_one(csv_path: Path, m: int) -> dict[str, float]:
    from debtledger.claims.service import read_claims_csv
    from debtledger.store.outbox import Status

    with fresh_ledger() as led:
        t0 = time.perf_counter()
        claims, bad, _ = read_claims_csv(csv_path)
        assert not bad and len(claims) == m
        for i, claim in enumerate(claims, 1):
            entry = led.claims.register("bank-a", claim, idem_key=f"bench-one:{claim.ref}")
            assert entry.status is Status.MINED
            if i % 500 == 0 and i < m:
                el = time.perf_counter() - t0
                log(f"    one by one: {i:,}/{m:,} in {el:.1f} s ({i / el:,.0f} claims/s)")
        seconds = time.perf_counter() - t0
        log(
            f"  one by one (ClaimService.register, mined each): {m:,} claims, {m:,} blocks: "
            f"{seconds:.2f} s = {m / seconds:,.1f} claims/s"
        )
        return {"rate": m / seconds, "seconds": seconds}


def run() -> list[Figure]:
    n = size("IMPORT_N", 100_000, 10_000)
    m = size("ONE_BY_ONE_N", 2_000, 300)
    log(f"[import] {n:,} claims end to end; one-by-one sample of {m:,}; raw node limit on {n:,}")
    with tempfile.TemporaryDirectory(prefix="debtledger-bench-csv-") as tmp:
        csv_n = write_csv(Path(tmp) / "claims.csv", n)
        csv_m = write_csv(Path(tmp) / "sample.csv", m)  # same seed: the first m claims
        raw = raw_node_limit(csv_n, n)
        imp = import_end_to_end(csv_n, n)
        obo = one_by_one(csv_m, m)
    notes = list(imp["notes"])
    if quick_mode():
        notes.append(f"quick mode: {n:,} claims, not the acceptance size of 100,000")
    r_obo = ratio(imp["rate"], obo["rate"])
    figs = [
        report(
            Figure(
                name="import_claims_per_s",
                value=imp["rate"],
                unit="claims/s",
                baseline=f"one_by_one (ClaimService.register, a tx mined per claim, {m:,} claims)",
                baseline_value=obo["rate"],
                ratio=r_obo,
                goal=f">= {GOAL_RATE:,} claims/s and ratio >= {GOAL_VS_ONE_BY_ONE}",
                met=imp["rate"] >= GOAL_RATE and r_obo >= GOAL_VS_ONE_BY_ONE,
                notes=notes,
            )
        )
    ]
    share = ratio(imp["rate"], raw["rate"])
    figs.append(
        report(
            Figure(
                name="import_share_of_raw",
                value=100 * share,
                unit="% of raw node limit",
                baseline="raw_node_limit (pre-signed register_batch x1000, batch POST + evm_mine,"
                " claims/s)",
                baseline_value=raw["rate"],
                ratio=share,
                goal=f"ratio >= {GOAL_SHARE_OF_RAW}",
                met=share >= GOAL_SHARE_OF_RAW,
            )
        )
    )
    return figs
