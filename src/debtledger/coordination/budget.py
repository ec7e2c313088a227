"""The coordinator's part of a debtor's 7-day contact budget: divided among the debtor's
creditors by their share of the debt (from the read model) and set on CollectionPolicy,
which then refuses a creditor's contact beyond its part ("policy: creditor-budget") until
the week's release point, when unused budget is open to the others."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from debtledger.chain.writer import Write
from debtledger.collection.engine import POLICY
from debtledger.domain.policies import budget_shares
from debtledger.errors import NotFound
from debtledger.orgs.service import OrgService
from debtledger.runtime import Runtime
from debtledger.store.models import claims_table as claims


class BudgetService:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.orgs = OrgService(rt)

    def debts(self, debtor: bytes) -> dict[str, int]:
        """Outstanding fen of the debtor's active claims, by owning creditor's address."""
        q = select(claims.c.owner, claims.c.outstanding).where(
            claims.c.debtor == "0x" + debtor.hex(), claims.c.status == "active"
        )
        out: dict[str, int] = {}
        with self.rt.engine.connect() as conn:
            for owner, outstanding in conn.execute(q):
                out[owner] = out.get(owner, 0) + int(outstanding)
        if not out:
            raise NotFound(f"no active claim of debtor 0x{debtor.hex()} in the read model")
        return out

    def divide(self, debtor: bytes, *, coordinator: str, idem_key: str) -> dict[str, Any]:
        """Set the debtor's budget parts by share of the debt, signed by `coordinator` (an
        organisation with the KEEPER role); returns each creditor's part."""
        parts = budget_shares(self.debts(debtor))
        creditors = sorted(parts)
        write = Write(
            self.rt.abi(POLICY),
            self.rt.address(POLICY),
            "set_budget_shares",
            (debtor, creditors, [parts[c] for c in creditors]),
            idem_key,
        )
        (entry,) = self.rt.writer.execute(self.orgs.account(coordinator), [write])
        return {
            "debtor": "0x" + debtor.hex(),
            "parts": {self.orgs.name_of(c): parts[c] for c in creditors},
            "tx_hash": entry.tx_hash,
        }
