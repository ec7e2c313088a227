"""Claims: list, show and history, from the read model, as the caller may see them."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from debtledger.api.deps import CurrentPrincipal, RuntimeDep
from debtledger.api.schemas import ClaimEventPublic, ClaimPublic, ClaimsPublic
from debtledger.claims.readmodel import MAX_PAGE, ClaimFilter, ClaimReads
from debtledger.domain.claims import parse_claim_id

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
