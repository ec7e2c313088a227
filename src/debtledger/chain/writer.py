"""Calls and writes to the chain: the one path every transaction takes.

A write is encoded, its gas estimated (which also surfaces the contract's refusal before a
nonce is spent), signed and stored in the outbox, and only then sent. Pending writes go to
the node together in one JSON-RPC batch (group commit); on the local node they are mined in
one block, on a remote node they wait for its blocks. A caller hears "done" only for a
write whose receipt is in a mined block.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from debtledger.chain.abi import ContractABI, decode_revert
from debtledger.chain.node import chain_lock
from debtledger.chain.reverts import refusal
from debtledger.chain.rpc import Rpc
from debtledger.errors import ChainError, ContractRefused
from debtledger.store.outbox import Entry, NewEntry, Outbox, Status

# Headroom over the estimate: tight, because anvil fills blocks by gas limit, not gas used.
GAS_MARGIN = 1.15
GAS_FLOOR = 21_000
# One HTTP body of the group commit stays below this many bytes of raw transactions (twice
# that as hex): under the request limits of common nodes (Besu's default is 5 MB).
MAX_BATCH_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Write:
    """One contract call to be made as a transaction. `contract` is an address; None with
    `data` being init code deploys a contract."""

    abi: ContractABI | None
    contract: str | None
    fn: str
    args: tuple[Any, ...]
    idem_key: str
    gas: int | None = None
    data: bytes | None = None

    def calldata(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.abi is not None
        return self.abi.encode_call(self.fn, self.args)


class ChainWriter:
    """Calls, writes through the outbox, group commit and reconciliation."""

    def __init__(
        self,
        url: str,
        chain_id: int,
        outbox: Outbox,
        *,
        local: bool,
        lock_dir: Path | None = None,
        gas_price: int | None = 0,
        receipt_timeout_s: float = 120.0,
    ) -> None:
        self.rpc = Rpc(url)
        self.chain_id = chain_id
        self.outbox = outbox
        self.local = local
        self.lock_dir = lock_dir
        # None: ask the node (a fee-charging chain); a permissioned chain runs at 0.
        self.gas_price = gas_price
        self.receipt_timeout_s = receipt_timeout_s

    # ------------------------------------------------------------------ reads

    def call(self, abi: ContractABI, contract: str, fn: str, *args: Any) -> Any:
        """eth_call a view function; a revert becomes its typed error."""
        data = abi.encode_call(fn, args)
        out = self.rpc.call("eth_call", [{"to": contract, "data": "0x" + data.hex()}, "latest"])
        return abi.decode_output(fn, bytes.fromhex(out.removeprefix("0x")))

    def head(self) -> int:
        return int(self.rpc.call("eth_blockNumber"), 16)

    def nonce(self, address: str, tag: str = "latest") -> int:
        return int(self.rpc.call("eth_getTransactionCount", [address, tag]), 16)

    def estimate(self, sender: str, write: Write) -> int:
        """Gas for the write with a small margin; raises the contract's refusal."""
        tx: dict[str, Any] = {"from": sender, "data": "0x" + write.calldata().hex()}
        if write.contract:
            tx["to"] = write.contract
        gas = int(self.rpc.call("eth_estimateGas", [tx]), 16)
        return max(GAS_FLOOR, int(gas * GAS_MARGIN))

    # ------------------------------------------------------------------ writes

    def submit(self, signer: LocalAccount, writes: Sequence[Write]) -> list[Entry]:
        """Store signed writes in the outbox (not yet sent). A write whose idempotency key
        is already stored is not made again: its stored entry is returned."""
        known = self.outbox.by_key(w.idem_key for w in writes)
        fresh = [w for w in writes if w.idem_key not in known]
        if fresh:
            gases = [w.gas or self.estimate(signer.address, w) for w in fresh]

            gas_price = self.gas_price
            if gas_price is None:
                gas_price = int(self.rpc.call("eth_gasPrice"), 16)

            def sign(first: int) -> list[NewEntry]:
                out = []
                for i, (w, gas) in enumerate(zip(fresh, gases, strict=True)):
                    tx: dict[str, Any] = {
                        "nonce": first + i,
                        "gas": gas,
                        "gasPrice": gas_price,
                        "data": w.calldata(),
                        "value": 0,
                        "chainId": self.chain_id,
                    }
                    if w.contract:
                        tx["to"] = w.contract
                    signed = signer.sign_transaction(tx)
                    out.append(
                        NewEntry(
                            idem_key=w.idem_key,
                            label=w.fn,
                            raw_tx=bytes(signed.raw_transaction),
                            tx_hash="0x" + bytes(signed.hash).hex(),
                            nonce=first + i,
                        )
                    )
                return out

            stored = self.outbox.add(signer.address, self.nonce(signer.address, "pending"), sign)
            known.update({e.idem_key: e for e in stored})
        return [known[w.idem_key] for w in writes]

    def execute(self, signer: LocalAccount, writes: Sequence[Write]) -> list[Entry]:
        """Submit and commit; raises the contract's refusal if any of these reverted."""
        return self.check(self.flush(self.submit(signer, writes)))

    @staticmethod
    def check(entries: list[Entry]) -> list[Entry]:
        """The entries, or the contract's refusal of the first one that reverted."""
        for e in entries:
            if e.status is Status.REVERTED:
                raise refusal(e.error) if e.error else ContractRefused("reverted")
        return entries

    def flush(self, wanted: Sequence[Entry] | None = None) -> list[Entry]:
        """Group commit: send every pending write in one batch and wait until each is in a
        mined block. Returns the final state of `wanted` (default: all that was pending)."""
        pending = self.outbox.pending()
        if pending:
            since = self.head()
            self._send(pending)
            self._settle(pending, since=since)
        wanted = list(wanted) if wanted is not None else pending
        fresh = self.outbox.by_key(e.idem_key for e in wanted)
        return [fresh[e.idem_key] for e in wanted]

    def _send(self, entries: Sequence[Entry]) -> None:
        group: list[tuple[str, list[Any]]] = []
        size = 0
        for e in entries:
            if group and size + len(e.raw_tx) > MAX_BATCH_BYTES:
                self._send_group(group)
                group, size = [], 0
            group.append(("eth_sendRawTransaction", ["0x" + e.raw_tx.hex()]))
            size += len(e.raw_tx)
        self._send_group(group)

    def _send_group(self, group: list[tuple[str, list[Any]]]) -> None:
        for reply in self.rpc.batch(group):
            err = reply.get("error")
            if err is None:
                continue
            text = str(err.get("message", "")).lower()
            # Already in the pool or already mined: the write is safe, nothing to do.
            if "already" in text or "nonce too low" in text or "known" in text:
                continue
            raise ChainError(f"node refused a stored transaction: {err.get('message', err)}")

    def _settle(self, entries: Sequence[Entry], since: int | None = None) -> None:
        """Mine (local) or wait (remote) until every entry is in a block; record outcomes.

        `since`: the head before the entries were sent. On the local node the new blocks
        are read for our transactions and their outcome asked with `ots_getTransactionError`
        (a few bytes each), instead of receipts that carry every log (about 1 MB for a
        1,000-claim registration).
        """
        waiting = {e.tx_hash: e for e in entries}
        deadline = time.monotonic() + self.receipt_timeout_s
        resent = 0
        while waiting:
            if self.local:
                self._mine()
            if self.local and since is not None:
                head = self.head()
                self._outcomes_from_blocks(waiting, since, head)
                since = head
            if waiting:
                self._outcomes_from_receipts(waiting)
            if not waiting:
                return
            if time.monotonic() > deadline:
                raise ChainError(
                    f"{len(waiting)} transaction(s) not mined within {self.receipt_timeout_s} s; "
                    "they stay in the outbox and are sent again on reconcile"
                )
            lost = self._lost(list(waiting.values()))
            if lost:
                # Neither mined nor pending: a node can drop a transaction silently.
                resent += 1
                if resent > 3:
                    raise ChainError(f"node keeps dropping {len(lost)} transaction(s)")
                self._send(lost)
            elif not self.local:
                time.sleep(0.5)

    def _outcomes_from_receipts(self, waiting: dict[str, Entry]) -> None:
        receipts = self.rpc.batch([("eth_getTransactionReceipt", [h]) for h in waiting])
        done: list[tuple[str, Status, int | None, str | None]] = []
        for tx_hash, reply in zip(list(waiting), receipts, strict=True):
            receipt = reply.get("result")
            if not receipt:
                continue
            block = int(receipt["blockNumber"], 16)
            if int(receipt["status"], 16) == 1:
                done.append((tx_hash, Status.MINED, block, None))
            else:
                done.append((tx_hash, Status.REVERTED, block, self._why(waiting[tx_hash])))
            del waiting[tx_hash]
        self.outbox.mark(done)

    def _outcomes_from_blocks(self, waiting: dict[str, Entry], since: int, head: int) -> None:
        blocks = self.rpc.batch(
            [("eth_getBlockByNumber", [hex(n), False]) for n in range(since + 1, head + 1)]
        )
        found: dict[str, int] = {}
        for reply in blocks:
            block = reply.get("result") or {}
            for tx_hash in block.get("transactions", []):
                if tx_hash in waiting:
                    found[tx_hash] = int(block["number"], 16)
        if not found:
            return
        errors = self.rpc.batch([("ots_getTransactionError", [h]) for h in found])
        done: list[tuple[str, Status, int | None, str | None]] = []
        for (tx_hash, block_number), reply in zip(found.items(), errors, strict=True):
            if "error" in reply:  # node without the ots_ namespace: receipts will tell
                continue
            data = reply.get("result") or "0x"
            if data == "0x":
                done.append((tx_hash, Status.MINED, block_number, None))
            else:
                reason = decode_revert(data) or "reverted"
                done.append((tx_hash, Status.REVERTED, block_number, reason))
            del waiting[tx_hash]
        self.outbox.mark(done)

    def _mine(self) -> None:
        if self.lock_dir is None:
            self.rpc.call("evm_mine")
            return
        with chain_lock(self.lock_dir):
            self.rpc.call("evm_mine")

    def _lost(self, entries: Sequence[Entry]) -> list[Entry]:
        replies = self.rpc.batch([("eth_getTransactionByHash", [e.tx_hash]) for e in entries])
        return [e for e, r in zip(entries, replies, strict=True) if not r.get("result")]

    def _why(self, entry: Entry) -> str:
        """The refusal message of a mined, reverted write, replayed as a call."""
        tx = self.rpc.call("eth_getTransactionByHash", [entry.tx_hash])
        call = {"from": tx["from"], "data": tx["input"]}
        if tx.get("to"):
            call["to"] = tx["to"]
        try:
            self.rpc.call("eth_call", [call, "latest"])
        except ContractRefused as exc:
            return exc.rule
        except ChainError as exc:
            return str(exc)
        return "reverted (the refusal no longer reproduces)"

    # ------------------------------------------------------------------ recovery

    def reconcile(self) -> dict[str, int]:
        """Make the outbox and the chain agree after a restart or a crash.

        For each sender: stored writes below the chain's nonce are in blocks (their receipts
        say how they ended); writes at or above it are not on this chain (never sent, dropped,
        or lost with a node restored from an older snapshot) and are sent again, the same
        signed bytes with the same nonces, so none can land twice.
        """
        report = {"confirmed": 0, "resent": 0}
        resend: list[Entry] = []
        for sender in self.outbox.senders():
            chain_nonce = self.nonce(sender)
            behind = [
                e for e in self.outbox.pending() if e.sender == sender and e.nonce < chain_nonce
            ]
            if behind:
                self._settle(behind)
                report["confirmed"] += len(behind)
            ahead = self.outbox.from_nonce(sender, chain_nonce)
            if ahead:
                self.outbox.mark((e.tx_hash, Status.PENDING, None, None) for e in ahead)
                resend += ahead
                self.outbox.set_next_nonce(sender, ahead[-1].nonce + 1)
            else:
                self.outbox.set_next_nonce(sender, chain_nonce)
        if resend:
            report["resent"] = len(resend)
            self.flush()
        return report
