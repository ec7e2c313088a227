"""Request and response schemas, one family per resource."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


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


Fen = Annotated[
    int, Field(strict=True, ge=0, lt=2**128, description="Amount in fen (whole number)")
]
Text = Annotated[str, Field(max_length=500)]


class ClaimCreate(BaseModel):
    """A claim to register; only a pseudonym of the debtor, never personal data."""

    model_config = ConfigDict(extra="forbid")

    claim_ref: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$")]
    debtor_pseudonym: Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{64}$")]
    principal_fen: Fen
    outstanding_fen: Fen | None = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "CNY"
    due_date: date


class ClaimsCreate(BaseModel):
    """Up to 1,000 claims registered in one transaction: all or none."""

    model_config = ConfigDict(extra="forbid")

    claims: Annotated[list[ClaimCreate], Field(min_length=1, max_length=1000)]


class TransferCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    buyer: Annotated[str, Field(description="The buying creditor: name or address", max_length=63)]
    price_fen: Fen
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "CNY"


class BuyBackCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    price_fen: Fen
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "CNY"


class MandateCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agency: Annotated[str, Field(description="The agency: name or address", max_length=63)]
    expires: AwareDatetime


class RepaymentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount_fen: Annotated[int, Field(strict=True, gt=0, lt=2**128)]
    receipt: Text = ""


class NoteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Text = ""


class ResolutionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outstanding_fen: Fen
    note: Text = ""


class OperationPublic(BaseModel):
    """A write: `pending` until it is in a mined block, then `mined` or `reverted`."""

    id: int
    action: str
    status: str
    tx_hash: str
    block: int | None
    error: str | None
    price_salt: str | None = None
