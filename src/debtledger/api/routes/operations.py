"""Operations: the fate of a write the API accepted."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from debtledger.api.deps import CurrentPrincipal, RuntimeDep
from debtledger.api.routes.claims import operation
from debtledger.api.schemas import OperationPublic
from debtledger.errors import NotFound

router = APIRouter(prefix="/operations", tags=["operations"])


@router.get(
    "/{op_id}", response_model=OperationPublic, responses={404: {"description": "Not found"}}
)
def show_operation(
    rt: RuntimeDep, principal: CurrentPrincipal, op_id: Annotated[int, Path(ge=1, lt=2**63)]
) -> OperationPublic:
    """A write of the caller's organisation: pending, or mined (with its block), or reverted."""
    entry = rt.outbox.get(op_id)
    if entry is None or entry.sender != principal.address:
        raise NotFound(f"no operation {op_id} of {principal.org}")
    return operation(entry)
