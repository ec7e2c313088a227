"""Joint repayments: one payment of a debtor with several creditors, split among its active
claims by their share of what is owed and recorded on chain for each claim.

The split is the largest-remainder rule of domain/split.py over the outstanding amounts the
read model holds. Every claim's repayment is signed and stored in the outbox together, in one
step, before any is sent, so a retry with the same idempotency key finds the same split and
never pays a claim twice; each is then recorded through ClaimService.repay (with its
evidence) by an organisation the registry lets record repayments for any claim: a gateway.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import rlp
from eth_abi import decode
from sqlalchemy import select

from debtledger.chain.writer import Write
from debtledger.claims.service import ClaimService
from debtledger.domain.claims import ClaimStatus, parse_amount
from debtledger.domain.split import split
from debtledger.errors import InvalidInput, NotFound
from debtledger.runtime import Runtime
from debtledger.store.models import claims_table as claims
from debtledger.store.outbox import Entry

_PSEUDONYM = re.compile(r"^0x[0-9a-f]{64}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_LEGACY_TX_DATA = 5  # position of the call data in a signed legacy transaction


@dataclass(frozen=True)
class JointRepayment:
    """One payment split among a debtor's claims: `parts` maps each claim (0x-hex id) to the
    fen recorded for it, in claim-id order; `entries` are the claims' chain writes."""

    debtor: str
    amount_fen: int
    currency: str
    parts: MappingProxyType[str, int]
    entries: MappingProxyType[str, Entry]


def pseudonym_hex(debtor: bytes | str) -> str:
    """A debtor pseudonym as the read model keeps it: 0x and 64 lower-case hex digits."""
    text = "0x" + debtor.hex() if isinstance(debtor, bytes) else debtor.strip().lower()
    if not _PSEUDONYM.match(text):
        raise InvalidInput("must be a 32-byte pseudonym in 0x-hex", field="debtor_pseudonym")
    return text


def claim_key(idem_key: str, claim_id: str) -> str:
    """The idempotency key of one claim's part of a joint repayment."""
    return f"{idem_key}:{claim_id}"


class JointRepayments:
    """Split a debtor's payment among its creditors' claims and record each part."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.claims = ClaimService(rt)

    def pay(
        self,
        debtor_pseudonym: bytes | str,
        amount_fen: int,
        receipt: str,
        *,
        by_org: str,
        idem_key: str,
        currency: str = "CNY",
    ) -> JointRepayment:
        """Record `amount_fen` paid by the debtor against its active claims in `currency`,
        each getting its share of the outstanding total (to the fen, never more than it
        owes), as repayments by `by_org` (a gateway, or an organisation owning every claim).

        Idempotent per (idem_key, claim): called again with the same key, it records
        nothing new and returns the split first made, even once the read model shows the
        claims paid.
        """
        debtor = pseudonym_hex(debtor_pseudonym)
        amount = parse_amount(amount_fen, "amount_fen", positive=True)
        if not _CURRENCY.match(currency):
            raise InvalidInput("must be a three-letter currency code", field="currency")
        if not idem_key:
            raise InvalidInput("an idempotency key is needed", field="idem_key")
        with self.rt.engine.connect() as conn:
            rows = conn.execute(
                select(claims.c.claim_id, claims.c.status, claims.c.outstanding)
                .where(claims.c.debtor == debtor, claims.c.currency == currency)
                .order_by(claims.c.claim_id)
            ).all()
        prior = self.rt.outbox.by_key(claim_key(idem_key, r.claim_id) for r in rows)
        if prior:
            # A retry: the parts were stored together, so all of them are here.
            parts = {
                r.claim_id: self._amount_of(prior[claim_key(idem_key, r.claim_id)])
                for r in rows
                if claim_key(idem_key, r.claim_id) in prior
            }
            if sum(parts.values()) != amount:
                raise InvalidInput(
                    "this idempotency key was used for a payment of another amount",
                    field="idem_key",
                )
        else:
            owed = {
                r.claim_id: int(r.outstanding)
                for r in rows
                if r.status == ClaimStatus.ACTIVE.label and int(r.outstanding) > 0
            }
            if not owed:
                raise NotFound("the debtor has no active claim in that currency")
            if amount > sum(owed.values()):
                raise InvalidInput(
                    "the payment exceeds what the debtor owes on its active claims",
                    field="amount_fen",
                )
            parts = {cid: fen for cid, fen in split(amount, owed).items() if fen > 0}
            self._store(parts, receipt, by_org, idem_key)
        entries = {
            cid: self.claims.repay(
                bytes.fromhex(cid[2:]), by_org, fen, receipt, idem_key=claim_key(idem_key, cid)
            )
            for cid, fen in parts.items()
        }
        return JointRepayment(
            debtor=debtor,
            amount_fen=sum(parts.values()),
            currency=currency,
            parts=MappingProxyType(parts),
            entries=MappingProxyType(entries),
        )

    def _store(self, parts: dict[str, int], receipt: str, by_org: str, idem_key: str) -> None:
        """Sign every part's write and store them in the outbox together (all or none)."""
        receipt_hash = hashlib.sha256(receipt.encode()).digest()
        abi = self.rt.abi("ClaimRegistry")
        registry = self.rt.address("ClaimRegistry")
        writes = [
            Write(
                abi,
                registry,
                "record_repayment",
                (bytes.fromhex(cid[2:]), fen, receipt_hash),
                claim_key(idem_key, cid),
            )
            for cid, fen in parts.items()
        ]
        self.rt.writer.submit(self.claims.orgs.account(by_org), writes)

    @staticmethod
    def _amount_of(entry: Entry) -> int:
        """The amount a stored record_repayment write carries."""
        fields: list[Any] = rlp.decode(entry.raw_tx)
        data: bytes = fields[_LEGACY_TX_DATA]
        _claim, amount, _receipt = decode(["bytes32", "uint256", "bytes32"], data[4:])
        return int(amount)
