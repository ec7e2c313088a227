"""Request and response schemas of claim records, disclosures, legal requests, erasure,
exposure and the access trail.

Personal fields are plain strings with a length bound only: the service checks them, so a
refusal names the field without repeating the value.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from debtledger.api.schemas import OperationPublic

Hex32 = Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{64}$")]
Amount = Annotated[
    int, Field(strict=True, ge=0, lt=2**128, description="Amount in fen (whole number)")
]


class RecordCreate(BaseModel):
    """A claim record: personal fields go to the vault only, the claim goes on chain with a
    pseudonym and the record hash."""

    model_config = ConfigDict(extra="forbid")

    claim_ref: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$")]
    debtor_name: Annotated[str, Field(min_length=1, max_length=200)]
    national_id: Annotated[
        str, Field(min_length=1, max_length=40, description="PRC resident identity number")
    ]
    phone: Annotated[str, Field(min_length=1, max_length=40, description="E.164, or a CN mobile")]
    email: Annotated[str | None, Field(max_length=254)] = None
    address: Annotated[str, Field(min_length=1, max_length=500)]
    contract_no: Annotated[str, Field(min_length=1, max_length=64)]
    principal_fen: Amount
    outstanding_fen: Amount | None = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "CNY"
    due_date: date
    contract_doc_hash: Annotated[
        str | None, Field(pattern=r"^0x[0-9a-fA-F]{64}$", description="SHA-256 of the contract")
    ] = None


class RecordRegistered(BaseModel):
    """A stored record; follow `operation` until its claim is registered on chain."""

    claim_id: str
    claim_ref: str
    debtor: str
    record_hash: str
    signature: str
    creditor: str
    operation: OperationPublic


class RecordPublic(BaseModel):
    """A claim's record as the caller may see it: `view` is "full" or "non-personal";
    `disclosure` checks against the on-chain record hash, `signature` against the
    registrant."""

    claim_id: str
    claim_ref: str
    debtor: str
    record_hash: str
    creditor: str
    creditor_address: str
    signature: str
    view: str
    fields: dict[str, str]
    disclosure: dict[str, Any]


class RecordSummary(BaseModel):
    """A record without any of its field values."""

    claim_id: str
    claim_ref: str
    debtor: str
    record_hash: str
    creditor: str
    creditor_address: str
    created_at: str


class RecordsPublic(BaseModel):
    """A page of records; pass `next` as `after` for the following page."""

    data: list[RecordSummary]
    next: str | None


class DisclosureCheck(BaseModel):
    """A disclosure (as a record view gives it) and, optionally, the creditor's signature."""

    model_config = ConfigDict(extra="forbid")

    disclosure: dict[str, Any]
    signature: Annotated[str | None, Field(pattern=r"^0x[0-9a-fA-F]{130}$")] = None


class DisclosureVerified(BaseModel):
    """The disclosure matches the chain: these fields are the registered record's."""

    claim_id: str
    record_hash: str
    creditor_address: str
    fields: dict[str, str]
    undisclosed: int
    signature_verified: bool


class LegalRequestCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case_ref: Annotated[str, Field(min_length=1, max_length=100, description="The court's case")]
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


class LegalRequestPublic(BaseModel):
    """A court's recorded request, anchored as evidence (`evidence_item`)."""

    id: int
    claim_id: str
    court: str
    case_ref: str
    reason: str
    requested_at: str
    evidence_item: int | None


class ErasurePublic(BaseModel):
    """The erasure statement (its `digest` is anchored as evidence item `evidence_item`)."""

    type: str
    debtor: str
    erased_at: str
    fields: int
    digest: str
    requested_by: str
    evidence_item: int | None


class ExposurePublic(BaseModel):
    """The caller's part of the debtor's exposure; nothing of any other creditor's."""

    debtor: str
    currency: str
    own_fen: int
    share_bps: int = Field(description="Own share of the total, in 1/100 of a percent")
    creditors: int
    key_bits: int


class AccessRecordPublic(BaseModel):
    """One read of personal data and where its record is anchored."""

    id: int
    accessed_at: str
    actor_org: str
    actor_role: str
    debtor: str
    field: str
    purpose: str
    claim_id: str | None
    evidence_item: int | None
    batch: int | None
    tx_hash: str | None
    block: int | None
    anchored: bool


class AccessRecordsPublic(BaseModel):
    """A page of access records; pass `next` as `after` for the following page."""

    data: list[AccessRecordPublic]
    next: int | None
