"""Request dependencies: the runtime and the authenticated principal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from debtledger.access.service import AccessService, Principal
from debtledger.errors import Unauthorized
from debtledger.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.rt
    return rt


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_principal(
    rt: RuntimeDep,
    authorization: Annotated[str | None, Header(description="Bearer <API key>")] = None,
    x_api_key: Annotated[str | None, Header(description="The API key")] = None,
) -> Principal:
    """Every request is authenticated by an API key (Authorization: Bearer … or X-API-Key)."""
    key = x_api_key
    if authorization and authorization.lower().startswith("bearer "):
        key = authorization[7:]
    if not key:
        raise Unauthorized("an API key is required (Authorization: Bearer <key>)")
    return AccessService(rt).authenticate(key)


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
