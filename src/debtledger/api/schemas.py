"""Request and response schemas, one family per resource."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel


class ClaimPublic(BaseModel):
    """A claim as the read model holds it (amounts in fen; addresses checksummed)."""

    claim_id: str
    owner: str
    creditor: str
    debtor: str
    status: str
    principal_fen: int
    outstanding_fen: int
    currency: str
    due_date: date
    pending_buyer: str | None
    pending_buy_back: bool
    mandate_agency: str | None
    mandate_expiry: int | None
    updated_block: int


class ClaimsPublic(BaseModel):
    """A page of claims; pass `next` as `after` for the following page."""

    data: list[ClaimPublic]
    next: str | None


class ClaimEventPublic(BaseModel):
    event: str
    block: int
    tx: str
    args: dict[str, Any]
