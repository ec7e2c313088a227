"""The FastAPI application: built around one Runtime (settings, store, chain writer)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from sqlalchemy import text

from debtledger import __version__
from debtledger.api import problems
from debtledger.api.routes import (
    claims,
    collection,
    contacts,
    evidence,
    operations,
    orgs,
    privacy,
    supervision,
)
from debtledger.errors import DebtLedgerError, NodeUnavailable
from debtledger.runtime import Runtime


def create_app(rt: Runtime) -> FastAPI:
    """The API over `rt`; routes reach services through `app.state.rt`."""

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        rt.committer.stop()  # what it had not sent stays in the outbox for the next start

    app = FastAPI(
        lifespan=lifespan,
        title="DebtLedger",
        version=__version__,
        summary="Compliant, transparent debt collection on a shared ledger.",
        docs_url="/docs",
    )
    app.state.rt = rt
    problems.install(app)
    app.include_router(orgs.router)
    app.include_router(claims.router)
    app.include_router(contacts.router)
    app.include_router(operations.router)
    app.include_router(evidence.router)
    app.include_router(privacy.router)
    app.include_router(collection.router)
    app.include_router(supervision.router)

    @app.get("/health", tags=["service"])
    def health() -> dict[str, str]:
        """The process is up (says nothing about the chain or the store)."""
        return {"status": "ok"}

    @app.get("/ready", tags=["service"], responses={503: {"description": "Not ready"}})
    def ready() -> dict[str, Any]:
        """Ready to serve: the store answers, the node answers, the contracts are deployed."""
        with rt.outbox.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        try:
            head = rt.writer.head()
            code = rt.writer.rpc.call("eth_getCode", [rt.address("ClaimRegistry"), "latest"])
        except DebtLedgerError as exc:
            raise NodeUnavailable(f"not ready: {exc}") from exc
        if code in (None, "0x"):
            raise NodeUnavailable("not ready: the registry is not deployed on this chain")
        return {"status": "ready", "block": head, "chain_id": rt.chain_id}

    return app
