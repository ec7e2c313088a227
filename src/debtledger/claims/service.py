"""Claim operations: register and import, transfers, mandates, repayments and closure.

Every write goes through the chain writer (outbox, group commit); every read comes from
the contracts or their events.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eth_abi import encode
from eth_utils import keccak

from debtledger.chain.writer import Write
from debtledger.domain.claims import CSV_COLUMNS, ClaimStatus, NewClaim, from_timestamp, parse_claim
from debtledger.errors import InvalidInput
from debtledger.evidence.service import EvidenceService, NewItem
from debtledger.orgs.service import OrgService
from debtledger.runtime import Runtime
from debtledger.store.outbox import Entry

BATCH_SIZE = 1000  # the registry's MAX_BATCH
GROUP_TXS = 32  # import transactions committed together (one or a few blocks)
ZERO_ADDRESS = "0x" + "00" * 20


@dataclass
class ImportReport:
    """What an import did: counts, and every row it left out with the reason."""

    rows: int = 0
    imported: int = 0
    already_registered: int = 0
    transactions: int = 0
    skipped: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class PriceCommitment:
    """The price of a transfer stays off chain; the chain holds keccak(price, currency, salt)."""

    price_fen: int
    currency: str
    salt: bytes

    @property
    def hash(self) -> bytes:
        return keccak(
            encode(
                ["uint256", "bytes3", "bytes32"],
                [self.price_fen, self.currency.encode(), self.salt],
            )
        )


def read_claims_csv(path: Path) -> tuple[list[NewClaim], list[InvalidInput], int]:
    """Parse and validate every row; returns the good claims, the bad rows and the row count.

    Unknown columns are refused: an import carries pseudonyms only, never personal data.
    """
    if not path.exists():
        raise InvalidInput(f"no such file: {path}", field="file")
    good: list[NewClaim] = []
    bad: list[InvalidInput] = []
    seen: dict[str, int] = {}
    rows = 0
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        missing = [c for c in CSV_COLUMNS if c not in header]
        if missing:
            raise InvalidInput(
                f"header lacks column '{missing[0]}' (needs {', '.join(CSV_COLUMNS)})", row=1
            )
        extra = [c for c in header if c not in CSV_COLUMNS]
        if extra:
            raise InvalidInput(
                f"unexpected column '{extra[0]}': an import holds only {', '.join(CSV_COLUMNS)}",
                row=1,
            )
        for line, row in enumerate(reader, start=2):
            rows += 1
            try:
                if None in row or any(v is None for v in row.values()):
                    got = "more" if None in row else "fewer"
                    raise InvalidInput(f"expected {len(CSV_COLUMNS)} values, got {got}", row=line)
                claim = parse_claim(row, row=line)
                if claim.ref in seen:
                    raise InvalidInput(
                        f"duplicate claim reference (first at row {seen[claim.ref]})",
                        field="claim_ref",
                        row=line,
                    )
                seen[claim.ref] = line
                good.append(claim)
            except InvalidInput as exc:
                bad.append(exc)
    return good, bad, rows


def record_repayment_evidence(
    rt: Runtime,
    by: str,
    claim_id: bytes,
    amount_fen: int,
    receipt_hash: bytes,
    entry: Entry,
    **extra: str,
) -> None:
    """Every repayment becomes evidence: what was recorded, by whom, in which transaction
    (the same write retried is the same document, so the same item). The receipt's text
    stays out: only its hash."""
    record = {
        "claim_id": "0x" + claim_id.hex(),
        "amount_fen": amount_fen,
        "receipt_sha256": receipt_hash.hex(),
        "recorded_by": OrgService(rt).address(by),
        "tx_hash": entry.tx_hash,
        **extra,
    }
    content = json.dumps(record, sort_keys=True).encode()
    EvidenceService(rt).add(by, NewItem(content, "repayment", "application/json", claim_id))


class ClaimService:
    """Claim operations. With `wait=False` a write returns once it is stored in the outbox
    (the contract's refusal, found by the gas estimate, is still raised at once); a
    committer sends it and the caller follows the entry."""

    def __init__(self, rt: Runtime, *, wait: bool = True) -> None:
        self.rt = rt
        self.orgs = OrgService(rt)
        self.wait = wait
        self._gas_by_size: dict[int, int] = {}

    # ------------------------------------------------------------------ plumbing

    @property
    def _abi(self) -> Any:
        return self.rt.abi("ClaimRegistry")

    @property
    def _at(self) -> str:
        return self.rt.address("ClaimRegistry")

    def _write(
        self, fn: str, args: tuple[Any, ...], idem_key: str, gas: int | None = None
    ) -> Write:
        return Write(self._abi, self._at, fn, args, idem_key, gas=gas)

    def _do(self, org: str, fn: str, args: tuple[Any, ...], idem_key: str) -> Entry:
        writes = [self._write(fn, args, idem_key)]
        signer = self.orgs.account(org)
        if self.wait:
            (entry,) = self.rt.writer.execute(signer, writes)
        else:
            (entry,) = self.rt.writer.submit(signer, writes)
            self.rt.committer.wake()
        return entry

    # ------------------------------------------------------------------ registration

    def register(self, creditor: str, claim: NewClaim, *, idem_key: str) -> Entry:
        return self._do(creditor, "register", (claim.as_tuple(),), idem_key)

    def register_batch(self, creditor: str, claims: Sequence[NewClaim], *, idem_key: str) -> Entry:
        """Up to 1,000 claims in one transaction: all registered or none."""
        if not 1 <= len(claims) <= BATCH_SIZE:
            raise InvalidInput(f"a batch holds 1 to {BATCH_SIZE} claims", field="claims")
        refs = [c.ref for c in claims]
        if len(set(refs)) != len(refs):
            raise InvalidInput("the batch names a claim twice", field="claims")
        return self._do(creditor, "register_batch", ([c.as_tuple() for c in claims],), idem_key)

    def registered(self, ids: Sequence[bytes]) -> list[bool]:
        out: list[bool] = []
        for i in range(0, len(ids), BATCH_SIZE):
            out += self.rt.writer.call(
                self._abi, self._at, "registered", list(ids[i : i + BATCH_SIZE])
            )
        return out

    def import_csv(
        self,
        path: Path,
        creditor: str,
        *,
        skip_bad: bool = False,
        progress: Callable[[int, int], None] | None = None,
        batch_size: int = BATCH_SIZE,
    ) -> ImportReport:
        """Register every claim of a CSV file as `creditor`.

        All rows are checked before anything is sent: with a bad row nothing is imported
        (InvalidInput lists the bad rows), unless `skip_bad`, which imports the rest and
        lists what it skipped. Claims this creditor already registered are counted, not
        sent again, so an interrupted import can simply be run again.
        """
        if not 1 <= batch_size <= BATCH_SIZE:
            raise InvalidInput(f"batch size must be 1-{BATCH_SIZE}", field="batch_size")
        claims, bad, rows = read_claims_csv(path)
        me = self.orgs.address(creditor)
        on_chain = self.registered([c.claim_id for c in claims])
        fresh: list[NewClaim] = []
        report = ImportReport(rows=rows)
        registrants = self.registrants(
            [c.claim_id for c, known in zip(claims, on_chain, strict=True) if known]
        )
        for claim, known in zip(claims, on_chain, strict=True):
            if not known:
                fresh.append(claim)
            elif registrants.get(claim.claim_id) == me:
                report.already_registered += 1
            else:
                bad.append(
                    InvalidInput(
                        "claim already registered by another creditor",
                        field="claim_ref",
                        row=claim.row,
                    )
                )
        if bad:
            bad.sort(key=lambda e: e.row or 0)
            report.skipped = [{"row": e.row, "field": e.field, "error": e.reason} for e in bad]
            if not skip_bad:
                listed = "; ".join(str(e) for e in bad[:10])
                more = f" (and {len(bad) - 10} more)" if len(bad) > 10 else ""
                raise InvalidInput(f"{len(bad)} bad row(s), nothing imported: {listed}{more}")
        signer = self.orgs.account(creditor)
        batches = [fresh[i : i + batch_size] for i in range(0, len(fresh), batch_size)]
        groups = [batches[g : g + GROUP_TXS] for g in range(0, len(batches), GROUP_TXS)]
        writer = self.rt.writer
        done = 0
        # Pipeline: while one group is sent and mined (the node's core), the next group is
        # encoded, signed and stored (ours). Every write is in the outbox before it is sent.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="commit") as committer:
            inflight: Future[list[Entry]] | None = None
            inflight_claims = 0
            for group in groups:
                stored = writer.submit(
                    signer, [self._batch_write(signer.address, b) for b in group]
                )
                if inflight is not None:
                    report.transactions += len(writer.check(inflight.result()))
                    done += inflight_claims
                    if progress:
                        progress(done, len(fresh))
                inflight, inflight_claims = (
                    committer.submit(writer.flush, stored),
                    sum(map(len, group)),
                )
            if inflight is not None:
                report.transactions += len(writer.check(inflight.result()))
                done += inflight_claims
                if progress:
                    progress(done, len(fresh))
        report.imported = done
        return report

    def _batch_write(self, sender: str, batch: Sequence[NewClaim]) -> Write:
        ids = b"".join(c.claim_id for c in batch)
        key = f"import:{sender}:{hashlib.sha256(ids).hexdigest()}"
        write = self._write("register_batch", ([c.as_tuple() for c in batch],), key)
        gas = self._gas_by_size.get(len(batch))
        if gas is None:
            # Every batch of one size costs the same (fresh slots, same code path): estimate
            # once per size, not once per transaction.
            gas = self.rt.writer.estimate(sender, write)
            self._gas_by_size[len(batch)] = gas
        return Write(write.abi, write.contract, write.fn, write.args, key, gas=gas)

    def registrants(self, ids: Sequence[bytes]) -> dict[bytes, str]:
        """The creditor that registered each claim (from its ClaimRegistered event)."""
        found: dict[bytes, str] = {}
        for i in range(0, len(ids), 500):
            for ev in self.rt.events.events(
                self.rt.deployment.block, claim_ids=ids[i : i + 500], names=["ClaimRegistered"]
            ):
                found[ev.args["claim_id"]] = ev.args["creditor"]
        return found

    # ------------------------------------------------------------------ reads

    def show(self, claim_id: bytes) -> dict[str, Any]:
        owner, status, due, currency, principal, outstanding = self.rt.writer.call(
            self._abi, self._at, "claims", claim_id
        )
        buyer, buy_back = self.rt.writer.call(self._abi, self._at, "pending_transfer", claim_id)
        agency, expiry = self.rt.writer.call(self._abi, self._at, "mandate_of", claim_id)
        return {
            "claim_id": "0x" + claim_id.hex(),
            "owner": self.orgs.name_of(owner),
            "owner_address": owner,
            "status": ClaimStatus(status).label,
            "due_date": from_timestamp(due).isoformat(),
            "currency": currency.decode(),
            "principal_fen": principal,
            "outstanding_fen": outstanding,
            "pending_transfer": None
            if buyer == ZERO_ADDRESS
            else {"buyer": self.orgs.name_of(buyer), "buy_back": buy_back},
            "mandate": None
            if agency == ZERO_ADDRESS
            else {
                "agency": self.orgs.name_of(agency),
                "expires": datetime.fromtimestamp(expiry, tz=UTC).isoformat(),
            },
        }

    def history(self, claim_id: bytes) -> Iterator[dict[str, Any]]:
        """Every event of the claim, oldest first: its full history rebuilt from the chain."""
        for ev in self.rt.events.events(self.rt.deployment.block, claim_ids=[claim_id]):
            args = {
                k: ("0x" + v.hex() if isinstance(v, bytes) and k != "currency" else v)
                for k, v in ev.args.items()
            }
            if "currency" in args:
                args["currency"] = ev.args["currency"].decode()
            yield {"event": ev.name, "block": ev.block_number, "tx": ev.tx_hash, "args": args}

    # ------------------------------------------------------------------ transfers

    def propose_transfer(
        self,
        claim_id: bytes,
        seller: str,
        buyer: str,
        price_fen: int,
        currency: str,
        *,
        idem_key: str,
    ) -> tuple[Entry, PriceCommitment]:
        price = PriceCommitment(price_fen, currency, os.urandom(32))
        entry = self._do(
            seller, "propose_transfer", (claim_id, self.orgs.address(buyer), price.hash), idem_key
        )
        return entry, price

    def propose_buy_back(
        self, claim_id: bytes, owner: str, price_fen: int, currency: str, *, idem_key: str
    ) -> tuple[Entry, PriceCommitment]:
        price = PriceCommitment(price_fen, currency, os.urandom(32))
        return self._do(owner, "propose_buy_back", (claim_id, price.hash), idem_key), price

    def accept(self, claim_id: bytes, buyer: str, *, idem_key: str) -> Entry:
        return self._do(buyer, "accept_transfer", (claim_id,), idem_key)

    def decline(self, claim_id: bytes, buyer: str, *, idem_key: str) -> Entry:
        return self._do(buyer, "decline_transfer", (claim_id,), idem_key)

    def cancel(self, claim_id: bytes, owner: str, *, idem_key: str) -> Entry:
        return self._do(owner, "cancel_transfer", (claim_id,), idem_key)

    # ------------------------------------------------------------------ mandates

    def mandate(
        self, claim_id: bytes, owner: str, agency: str, expiry: datetime, *, idem_key: str
    ) -> Entry:
        if expiry.tzinfo is None:
            raise InvalidInput("expiry needs a time zone", field="until")
        return self._do(
            owner,
            "grant_mandate",
            (claim_id, self.orgs.address(agency), int(expiry.timestamp())),
            idem_key,
        )

    def revoke_mandate(self, claim_id: bytes, owner: str, *, idem_key: str) -> Entry:
        return self._do(owner, "revoke_mandate", (claim_id,), idem_key)

    # ------------------------------------------------------------------ money and closure

    def repay(
        self, claim_id: bytes, by: str, amount_fen: int, receipt: str, *, idem_key: str
    ) -> Entry:
        if amount_fen <= 0:
            raise InvalidInput("amount must be positive", field="amount_fen")
        receipt_hash = hashlib.sha256(receipt.encode()).digest()
        entry = self._do(by, "record_repayment", (claim_id, amount_fen, receipt_hash), idem_key)
        record_repayment_evidence(self.rt, by, claim_id, amount_fen, receipt_hash, entry)
        return entry

    def settle(self, claim_id: bytes, owner: str, note: str, *, idem_key: str) -> Entry:
        return self._do(
            owner, "settle", (claim_id, hashlib.sha256(note.encode()).digest()), idem_key
        )

    def write_off(self, claim_id: bytes, owner: str, *, idem_key: str) -> Entry:
        return self._do(owner, "write_off", (claim_id,), idem_key)

    def dispute(self, claim_id: bytes, by: str, reason: str, *, idem_key: str) -> Entry:
        return self._do(
            by, "dispute", (claim_id, hashlib.sha256(reason.encode()).digest()), idem_key
        )

    def resolve(
        self, claim_id: bytes, by: str, outstanding_fen: int, note: str, *, idem_key: str
    ) -> Entry:
        return self._do(
            by,
            "resolve_dispute",
            (claim_id, outstanding_fen, hashlib.sha256(note.encode()).digest()),
            idem_key,
        )
