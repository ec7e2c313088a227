"""Claim records and personal data: register a record (personal fields to the vault only),
see it as the caller's role may, check a disclosure against the chain, courts' legal
requests, erasure, exposure shares, and the regulator's view of the access trail.

The access trail is anchored by `debtledger privacy anchor-trail` (and the service's
background loop), not by reading it: a GET changes nothing.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import AwareDatetime

from debtledger.api.deps import CurrentPrincipal, RuntimeDep
from debtledger.api.routes.claims import ACCEPTED, ClaimRef, WriteDep, operation
from debtledger.api.schemas_privacy import (
    AccessRecordPublic,
    AccessRecordsPublic,
    DisclosureCheck,
    DisclosureVerified,
    ErasurePublic,
    ExposurePublic,
    LegalRequestCreate,
    LegalRequestPublic,
    RecordCreate,
    RecordPublic,
    RecordRegistered,
    RecordsPublic,
    RecordSummary,
)
from debtledger.domain.claims import parse_claim_id
from debtledger.errors import Forbidden
from debtledger.privacy.records import Disclosure
from debtledger.privacy.service import PrivacyService, parse_pseudonym
from debtledger.privacy.trail import MAX_LIST

router = APIRouter()

HEX64 = r"^0x[0-9a-fA-F]{64}$"
Debtor = Annotated[str, Path(description="Debtor pseudonym: 0x + 64 hex digits", pattern=HEX64)]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "Not found"}}


def privacy_service(rt: RuntimeDep) -> PrivacyService:
    """The privacy service over the app's runtime; chain writes return once stored."""
    return PrivacyService(rt, wait=False)


PrivacyDep = Annotated[PrivacyService, Depends(privacy_service)]


# ---------------------------------------------------------------------------- records


@router.get("/records", response_model=RecordsPublic, tags=["records"])
def list_records(
    svc: PrivacyDep,
    principal: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    after: Annotated[str | None, Query(pattern=HEX64)] = None,
) -> RecordsPublic:
    """Records the caller may know of, without any field value, in pages."""
    rows = svc.records(
        principal, limit=limit + 1, after=parse_pseudonym(after, "after") if after else None
    )
    page = rows[:limit]
    nxt = page[-1]["claim_id"] if len(rows) > limit else None
    return RecordsPublic(data=[RecordSummary(**r) for r in page], next=nxt)


@router.post(
    "/records",
    status_code=202,
    response_model=RecordRegistered,
    responses=ACCEPTED,
    tags=["records"],
)
def register_record(
    rt: RuntimeDep, w: WriteDep, svc: PrivacyDep, body: RecordCreate
) -> RecordRegistered:
    """Register a claim with its record: personal fields to the vault, a commitment on chain."""
    if w.principal.role != "CREDITOR":
        raise Forbidden("only a creditor registers claim records")
    fields = body.model_dump(exclude={"claim_ref"}, exclude_none=True)
    done = svc.register_record(w.org, body.claim_ref, fields, idem_key=w.idem("record"))
    entry = rt.outbox.get(done.operation_id)
    assert entry is not None
    w.response.status_code = 202
    w.response.headers["Location"] = f"/operations/{entry.id}"
    public = done.to_json()
    return RecordRegistered(**{**public, "operation": operation(entry)})


@router.post("/records/verify", response_model=DisclosureVerified, tags=["records"])
def verify_disclosure(
    svc: PrivacyDep, principal: CurrentPrincipal, body: DisclosureCheck
) -> DisclosureVerified:
    """Check a disclosure against the claim's on-chain record hash (and the signature
    against its registrant); 422 InvalidProof when it does not hold."""
    disclosure = Disclosure.from_json(body.disclosure)
    signature = bytes.fromhex(body.signature[2:]) if body.signature else None
    return DisclosureVerified(**svc.verify(disclosure, signature))


@router.get(
    "/records/{claim}",
    response_model=RecordPublic,
    responses={**NOT_FOUND, 410: {"description": "The debtor's personal data was erased"}},
    tags=["records"],
)
def show_record(
    svc: PrivacyDep,
    principal: CurrentPrincipal,
    claim: ClaimRef,
    personal: Annotated[
        bool, Query(description="Include personal fields where the role may see them")
    ] = True,
    case_ref: Annotated[
        str | None, Query(max_length=100, description="A court's legal request")
    ] = None,
) -> RecordPublic:
    """The claim's record as the caller's role may see it (personal reads are recorded)."""
    view = svc.disclosure(principal, parse_claim_id(claim), personal=personal, case_ref=case_ref)
    return RecordPublic(**view.to_json())


@router.post(
    "/records/{claim}/legal-requests",
    status_code=201,
    response_model=LegalRequestPublic,
    responses=NOT_FOUND,
    tags=["records"],
)
def make_legal_request(
    w: WriteDep, svc: PrivacyDep, claim: ClaimRef, body: LegalRequestCreate
) -> LegalRequestPublic:
    """A court's request for the claim's personal fields, recorded and anchored as evidence."""
    request = svc.legal_request(w.principal, parse_claim_id(claim), body.case_ref, body.reason)
    return LegalRequestPublic(**request.to_json())


@router.get(
    "/records/{claim}/legal-requests",
    response_model=list[LegalRequestPublic],
    tags=["records"],
)
def list_legal_requests(
    svc: PrivacyDep, principal: CurrentPrincipal, claim: ClaimRef
) -> list[LegalRequestPublic]:
    """The calling court's requests about the claim, oldest first."""
    return [
        LegalRequestPublic(**r.to_json())
        for r in svc.legal_requests(principal, parse_claim_id(claim))
    ]


# ---------------------------------------------------------------------------- debtors


@router.delete(
    "/debtors/{debtor}/personal-data",
    response_model=ErasurePublic,
    responses={**NOT_FOUND, 403: {"description": "Not a creditor of this debtor"}},
    tags=["debtors"],
)
def erase_personal_data(w: WriteDep, svc: PrivacyDep, debtor: Debtor) -> ErasurePublic:
    """Erase the debtor's personal data (a creditor owning one of its claims); the erasure
    is anchored as evidence. Asking again returns the same erasure."""
    return ErasurePublic(**svc.erase(w.principal, parse_pseudonym(debtor)).to_json())


@router.get(
    "/debtors/{debtor}/exposure",
    response_model=ExposurePublic,
    responses={**NOT_FOUND, 409: {"description": "Fewer than three creditors"}},
    tags=["debtors"],
)
def exposure(
    svc: PrivacyDep,
    principal: CurrentPrincipal,
    debtor: Debtor,
    currency: Annotated[str, Query(pattern=r"^[A-Z]{3}$")] = "CNY",
) -> ExposurePublic:
    """The caller's share of the debtor's exposure across creditors (Paillier round); 409
    with fewer than three creditors, whose total would give amounts away."""
    return ExposurePublic(
        **svc.exposure(principal, parse_pseudonym(debtor), currency=currency).to_json()
    )


# ---------------------------------------------------------------------------- access trail


@router.get("/privacy/access", response_model=AccessRecordsPublic, tags=["privacy"])
def access_log(
    svc: PrivacyDep,
    principal: CurrentPrincipal,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    debtor: Annotated[str | None, Query(pattern=HEX64)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST - 1)] = 100,
    after: Annotated[int | None, Query(ge=0, lt=2**63)] = None,
) -> AccessRecordsPublic:
    """Every read of personal data (the regulator's), each with where it is anchored."""
    rows = svc.access_log(
        principal,
        since=since,
        until=until,
        debtor=parse_pseudonym(debtor) if debtor else None,
        limit=limit + 1,
        after=after,
    )
    page = rows[:limit]
    nxt = page[-1]["id"] if len(rows) > limit else None
    return AccessRecordsPublic(data=[AccessRecordPublic(**r) for r in page], next=nxt)
