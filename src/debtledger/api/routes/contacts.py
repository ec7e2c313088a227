"""Contacts: a mandated agency or a claim's owner asks the gateway to contact the debtor;
the answer and the listing never hold the debtor's address, number or name."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from debtledger.api.deps import CurrentPrincipal, RuntimeDep
from debtledger.api.routes.claims import ClaimRef, IdempotencyKey
from debtledger.collection.gateway import ContactService
from debtledger.domain.claims import parse_claim_id
from debtledger.errors import Forbidden

router = APIRouter(prefix="/claims", tags=["contacts"])

_HEX_ID = re.compile(r"^0x[0-9a-fA-F]{64}$")


class ContactCreate(BaseModel):
    """A contact to make: the channel, the template and, for a call, how it went."""

    model_config = ConfigDict(extra="forbid")

    channel: Literal["email", "sms", "voice"]
    template: Annotated[str, Field(min_length=1, max_length=64, description="e.g. reminder-1")]
    outcome: Literal["answered", "unanswered", "conversation", "promise_to_pay"] | None = Field(
        default=None, description="How the call went (voice only)."
    )
    lang: Literal["zh", "en"] = "zh"
    variables: Annotated[
        dict[str, Annotated[str, Field(max_length=500)]] | None,
        Field(max_length=8, description="Only pay_url and claim_ref; the gateway fills the rest."),
    ] = None


class ContactPublic(BaseModel):
    """What the requester learns of a contact: never the address, number or name."""

    contact_id: str
    evidence_item_id: int
    template_id: str
    channel: str
    lang: str
    claim_ref: str
    at: str
    status: str
    outcome: str
    message_id: str


class ContactRecordPublic(BaseModel):
    """A contact as its evidence record holds it (a failed attempt has no message id)."""

    contact_id: str
    evidence_item_id: int
    batch_id: int | None
    claim_id: str
    claim_ref: str
    requester: str
    channel: str
    template_id: str
    kind: str
    lang: str
    at: str
    status: str
    outcome: str | None
    message_id: str | None
    reason: str | None
    message_sha256: str | None = None


_SENT: dict[int | str, dict[str, Any]] = {
    201: {"description": "Sent (or, for a repeated Idempotency-Key, sent before)"},
    403: {"description": "Not a mandated agency or the claim's owner"},
    502: {"description": "The channel could not deliver; the attempt is recorded"},
}


@router.post("/{claim}/contacts", status_code=201, response_model=ContactPublic, responses=_SENT)
def send_contact(
    rt: RuntimeDep,
    principal: CurrentPrincipal,
    claim: ClaimRef,
    body: ContactCreate,
    key: IdempotencyKey = None,
) -> ContactPublic:
    """Have the gateway contact the claim's debtor with a template (mandated agency or owner)."""
    if principal.role == "REGULATOR":
        raise Forbidden("a regulator's API keys are read-only")
    variables = dict(body.variables or {})
    if not _HEX_ID.match(claim):
        variables.setdefault("claim_ref", claim)  # the debtor reads the creditor's reference
    record = ContactService(rt).contact(
        principal,
        parse_claim_id(claim),
        body.channel,
        body.template,
        variables=variables,
        outcome=body.outcome,
        lang=body.lang,
        idem_key=key,
    )
    return ContactPublic(**record)


@router.get(
    "/{claim}/contacts",
    response_model=list[ContactRecordPublic],
    responses={404: {"description": "Not found"}},
)
def list_contacts(
    rt: RuntimeDep, principal: CurrentPrincipal, claim: ClaimRef
) -> list[ContactRecordPublic]:
    """The claim's contacts, oldest first (owner, mandated agency, court, regulator)."""
    records = ContactService(rt).contacts(principal, parse_claim_id(claim))
    return [ContactRecordPublic(**r) for r in records]
