"""Reading claims from the read model (indexed from the chain), as one principal may see them.

A creditor sees the claims it owns, an agency the claims mandated to it, a court and a
regulator every claim; anyone else none. A claim the caller may not see is "not found".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Engine, and_, false, select, true

from debtledger.access.service import Principal
from debtledger.errors import NotFound
from debtledger.store.models import claim_events_table as events
from debtledger.store.models import claims_table as claims

MAX_PAGE = 500


@dataclass(frozen=True)
class ClaimFilter:
    status: str | None = None
    owner: str | None = None
    due_before: date | None = None
    due_after: date | None = None
    limit: int = 50
    after: str | None = None  # the last claim id of the previous page


def visible_to(principal: Principal) -> ColumnElement[bool]:
    """The rows `principal` may read."""
    if principal.role in ("COURT", "REGULATOR"):
        return true()
    if principal.role == "CREDITOR":
        return claims.c.owner == principal.address
    if principal.role == "AGENCY":
        return claims.c.mandate_agency == principal.address
    return false()


def _public(row: Any) -> dict[str, Any]:
    return {
        "claim_id": row.claim_id,
        "owner": row.owner,
        "creditor": row.creditor,
        "debtor": row.debtor,
        "status": row.status,
        "principal_fen": row.principal,
        "outstanding_fen": row.outstanding,
        "currency": row.currency,
        "due_date": row.due_date,
        "pending_buyer": row.pending_buyer,
        "pending_buy_back": row.pending_buy_back,
        "mandate_agency": row.mandate_agency,
        "mandate_expiry": row.mandate_expiry,
        "updated_block": row.updated_block,
    }


class ClaimReads:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def page(self, principal: Principal, f: ClaimFilter) -> tuple[list[dict[str, Any]], str | None]:
        """One page of visible claims in claim-id order, and the cursor of the next page."""
        limit = max(1, min(f.limit, MAX_PAGE))
        conds = [visible_to(principal)]
        if f.status:
            conds.append(claims.c.status == f.status)
        if f.owner:
            conds.append(claims.c.owner == f.owner)
        if f.due_before:
            conds.append(claims.c.due_date < f.due_before)
        if f.due_after:
            conds.append(claims.c.due_date > f.due_after)
        if f.after:
            conds.append(claims.c.claim_id > f.after)
        q = select(claims).where(and_(*conds)).order_by(claims.c.claim_id).limit(limit + 1)
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        page = [_public(r) for r in rows[:limit]]
        return page, (page[-1]["claim_id"] if len(rows) > limit else None)

    def get(self, principal: Principal, claim_id: str) -> dict[str, Any]:
        q = select(claims).where(claims.c.claim_id == claim_id, visible_to(principal))
        with self.engine.connect() as conn:
            row = conn.execute(q).first()
        if row is None:
            raise NotFound(f"no claim {claim_id} visible to {principal.org}")
        return _public(row)

    def history(self, principal: Principal, claim_id: str) -> list[dict[str, Any]]:
        self.get(principal, claim_id)
        q = (
            select(events)
            .where(events.c.claim_id == claim_id)
            .order_by(events.c.block_number, events.c.log_index)
        )
        with self.engine.connect() as conn:
            return [
                {"event": r.name, "block": r.block_number, "tx": r.tx_hash, "args": r.args}
                for r in conn.execute(q)
            ]
