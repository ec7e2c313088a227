"""Organisations: who the caller is."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from debtledger.access.service import AccessService
from debtledger.api.deps import CurrentPrincipal, RuntimeDep

router = APIRouter(prefix="/orgs", tags=["organisations"])


class OrgPublic(BaseModel):
    name: str
    address: str
    roles: list[str]


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


@router.get("", response_model=list[OrgPublic])
def list_orgs(rt: RuntimeDep, principal: CurrentPrincipal) -> list[OrgPublic]:
    """The organisations this service hosts, with their roles and chain addresses."""
    return [OrgPublic(**o) for o in AccessService(rt).orgs()]  # type: ignore[arg-type]
