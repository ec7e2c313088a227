"""Organisations: who the caller is."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from debtledger.api.deps import CurrentPrincipal

router = APIRouter(prefix="/orgs", tags=["organisations"])


class MePublic(BaseModel):
    org: str
    member: str
    role: str
    address: str


@router.get("/me", response_model=MePublic)
def me(principal: CurrentPrincipal) -> MePublic:
    """The organisation, member and role the API key acts as."""
    return MePublic(
        org=principal.org, member=principal.member, role=principal.role, address=principal.address
    )
