"""Claims: list, show and history, from the read model, as the caller may see them."""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Response

from debtledger.api.deps import CurrentPrincipal, RuntimeDep
from debtledger.api.schemas import (
    BuyBackCreate,
    ClaimCreate,
    ClaimEventPublic,
    ClaimPublic,
    ClaimsCreate,
    ClaimsPublic,
    MandateCreate,
    NoteCreate,
    OperationPublic,
    RepaymentCreate,
    ResolutionCreate,
    TransferCreate,
)
from debtledger.claims.readmodel import MAX_PAGE, ClaimFilter, ClaimReads
from debtledger.claims.service import ClaimService
from debtledger.domain.claims import NewClaim, parse_claim, parse_claim_id
from debtledger.errors import Forbidden
from debtledger.store.outbox import Entry

router = APIRouter(prefix="/claims", tags=["claims"])

ClaimRef = Annotated[str, Path(description="Claim reference or 0x claim id", max_length=128)]
Status = Literal["active", "settled", "written-off", "disputed"]
_HEX = re.compile(r"^0x[0-9a-fA-F]{40}$")


def _claim_id(ref: str) -> str:
    return "0x" + parse_claim_id(ref).hex()


@router.get("", response_model=ClaimsPublic)
def list_claims(
    rt: RuntimeDep,
    principal: CurrentPrincipal,
    status: Status | None = None,
    owner: Annotated[str | None, Query(pattern=_HEX.pattern)] = None,
    due_before: date | None = None,
    due_after: date | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    after: Annotated[str | None, Query(pattern=r"^0x[0-9a-f]{64}$")] = None,
) -> ClaimsPublic:
    """Claims the caller may see, filtered, in pages."""
    page, nxt = ClaimReads(rt.engine).page(
        principal,
        ClaimFilter(status, owner, due_before, due_after, limit, after),
    )
    return ClaimsPublic(data=[ClaimPublic(**c) for c in page], next=nxt)


@router.get("/{claim}", response_model=ClaimPublic, responses={404: {"description": "Not found"}})
def show_claim(rt: RuntimeDep, principal: CurrentPrincipal, claim: ClaimRef) -> ClaimPublic:
    """One claim, if the caller may see it."""
    return ClaimPublic(**ClaimReads(rt.engine).get(principal, _claim_id(claim)))


@router.get("/{claim}/history", response_model=list[ClaimEventPublic])
def claim_history(
    rt: RuntimeDep, principal: CurrentPrincipal, claim: ClaimRef
) -> list[ClaimEventPublic]:
    """Every event of the claim, oldest first."""
    return [
        ClaimEventPublic(**e) for e in ClaimReads(rt.engine).history(principal, _claim_id(claim))
    ]


# ---------------------------------------------------------------------------- writes

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=100, description="Retries with it are one write."),
]
ACCEPTED: dict[int | str, dict[str, Any]] = {
    202: {"description": "Stored; follow the operation until it is mined"}
}


def operation(entry: Entry, price_salt: str | None = None) -> OperationPublic:
    return OperationPublic(
        id=entry.id,
        action=entry.label,
        status=entry.status.value,
        tx_hash=entry.tx_hash,
        block=entry.block_number,
        error=entry.error,
        price_salt=price_salt,
    )


class _Write:
    """What every write route does: refuse read-only roles, derive the idempotency key,
    store the write as the caller's organisation, answer 202 with the operation."""

    def __init__(
        self,
        rt: RuntimeDep,
        principal: CurrentPrincipal,
        response: Response,
        key: IdempotencyKey = None,
    ):
        if principal.role == "REGULATOR":
            raise Forbidden("a regulator's API keys are read-only")
        self.service = ClaimService(rt, wait=False)
        self.principal = principal
        self.org = principal.org
        self.key = key
        self.response = response

    def idem(self, action: str) -> str:
        return (
            f"api:{self.org}:{self.key}" if self.key else f"api:{self.org}:{action}:{uuid.uuid4()}"
        )

    def accepted(self, entry: Entry, price_salt: str | None = None) -> OperationPublic:
        self.response.status_code = 202
        self.response.headers["Location"] = f"/operations/{entry.id}"
        return operation(entry, price_salt)


WriteDep = Annotated[_Write, Depends(_Write)]


def _new_claim(c: ClaimCreate) -> NewClaim:
    outstanding = c.principal_fen if c.outstanding_fen is None else c.outstanding_fen
    return parse_claim(
        {
            "claim_ref": c.claim_ref,
            "debtor_pseudonym": c.debtor_pseudonym,
            "principal_fen": str(c.principal_fen),
            "outstanding_fen": str(outstanding),
            "currency": c.currency,
            "due_date": c.due_date.isoformat(),
        }
    )


@router.post("", status_code=202, response_model=OperationPublic, responses=ACCEPTED)
def register_claim(
    w: WriteDep,
    body: ClaimCreate,
) -> OperationPublic:
    """Register one claim owned by the caller's organisation."""
    return w.accepted(w.service.register(w.org, _new_claim(body), idem_key=w.idem("register")))


@router.post("/batch", status_code=202, response_model=OperationPublic, responses=ACCEPTED)
def register_claims(
    w: WriteDep,
    body: ClaimsCreate,
) -> OperationPublic:
    """Register up to 1,000 claims in one transaction: all or none."""
    claims = [_new_claim(c) for c in body.claims]
    return w.accepted(w.service.register_batch(w.org, claims, idem_key=w.idem("register-batch")))


@router.post(
    "/{claim}/transfer", status_code=202, response_model=OperationPublic, responses=ACCEPTED
)
def propose_transfer(
    w: WriteDep,
    claim: ClaimRef,
    body: TransferCreate,
) -> OperationPublic:
    """Offer the claim to another creditor; the price stays off chain (keep `price_salt`)."""
    entry, price = w.service.propose_transfer(
        parse_claim_id(claim),
        w.org,
        body.buyer,
        body.price_fen,
        body.currency,
        idem_key=w.idem("transfer"),
    )
    return w.accepted(entry, "0x" + price.salt.hex())


@router.post(
    "/{claim}/buy-back", status_code=202, response_model=OperationPublic, responses=ACCEPTED
)
def propose_buy_back(
    w: WriteDep,
    claim: ClaimRef,
    body: BuyBackCreate,
) -> OperationPublic:
    """Offer the claim back to the creditor that sold it last."""
    entry, price = w.service.propose_buy_back(
        parse_claim_id(claim),
        w.org,
        body.price_fen,
        body.currency,
        idem_key=w.idem("buy-back"),
    )
    return w.accepted(entry, "0x" + price.salt.hex())


def _simple(action: str, method: str, doc: str) -> None:
    def route(w: WriteDep, claim: ClaimRef) -> OperationPublic:
        do = getattr(w.service, method)
        return w.accepted(do(parse_claim_id(claim), w.org, idem_key=w.idem(action)))

    route.__doc__ = doc
    route.__name__ = method
    router.post(
        f"/{{claim}}/{action}", status_code=202, response_model=OperationPublic, responses=ACCEPTED
    )(route)


_simple("accept", "accept", "Accept an offered claim: the caller becomes its only owner.")
_simple("decline", "decline", "Decline an offered claim.")
_simple("cancel", "cancel", "Withdraw the caller's offer of a claim.")
_simple("write-off", "write_off", "Write the claim off at its outstanding amount.")
_simple("mandate/revoke", "revoke_mandate", "End the claim's mandate.")


@router.post(
    "/{claim}/mandate", status_code=202, response_model=OperationPublic, responses=ACCEPTED
)
def grant_mandate(
    w: WriteDep,
    claim: ClaimRef,
    body: MandateCreate,
) -> OperationPublic:
    """Mandate an agency to collect the claim until `expires`."""
    return w.accepted(
        w.service.mandate(
            parse_claim_id(claim),
            w.org,
            body.agency,
            body.expires,
            idem_key=w.idem("mandate"),
        )
    )


@router.post(
    "/{claim}/repayments", status_code=202, response_model=OperationPublic, responses=ACCEPTED
)
def record_repayment(
    w: WriteDep,
    claim: ClaimRef,
    body: RepaymentCreate,
) -> OperationPublic:
    """Record a repayment (owner or gateway); the outstanding amount never goes below zero."""
    return w.accepted(
        w.service.repay(
            parse_claim_id(claim),
            w.org,
            body.amount_fen,
            body.receipt,
            idem_key=w.idem("repay"),
        )
    )


@router.post("/{claim}/settle", status_code=202, response_model=OperationPublic, responses=ACCEPTED)
def settle(
    w: WriteDep,
    claim: ClaimRef,
    body: NoteCreate,
) -> OperationPublic:
    """Close the claim as settled; what is left unpaid is forgiven."""
    return w.accepted(
        w.service.settle(parse_claim_id(claim), w.org, body.note, idem_key=w.idem("settle"))
    )


@router.post(
    "/{claim}/dispute", status_code=202, response_model=OperationPublic, responses=ACCEPTED
)
def dispute(
    w: WriteDep,
    claim: ClaimRef,
    body: NoteCreate,
) -> OperationPublic:
    """Mark the claim disputed (owner, court, or the gateway for the debtor)."""
    return w.accepted(
        w.service.dispute(parse_claim_id(claim), w.org, body.note, idem_key=w.idem("dispute"))
    )


@router.post(
    "/{claim}/resolve", status_code=202, response_model=OperationPublic, responses=ACCEPTED
)
def resolve(
    w: WriteDep,
    claim: ClaimRef,
    body: ResolutionCreate,
) -> OperationPublic:
    """End a dispute with the outstanding amount it fixed (owner or court)."""
    return w.accepted(
        w.service.resolve(
            parse_claim_id(claim),
            w.org,
            body.outstanding_fen,
            body.note,
            idem_key=w.idem("resolve"),
        )
    )
