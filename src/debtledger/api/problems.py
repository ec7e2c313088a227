"""Errors as RFC 9457 problem details (`application/problem+json`).

One table maps each error family to its HTTP status; a contract refusal keeps the
contract's rule in `detail` and `rule`, a bad field is named in `field`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from debtledger.errors import (
    ChainError,
    ClaimNotFound,
    ConfigError,
    Conflict,
    ContractRefused,
    DebtLedgerError,
    DeliveryFailed,
    Erased,
    Forbidden,
    InvalidInput,
    InvalidProof,
    NodeUnavailable,
    NotFound,
    PolicyRefused,
    Rejected,
    Unauthorized,
    VaultError,
    VerificationFailed,
)

MEDIA_TYPE = "application/problem+json"

# Most specific first: the first family an error belongs to decides its status.
STATUS: tuple[tuple[type[DebtLedgerError], int], ...] = (
    (Unauthorized, 401),
    (InvalidInput, 422),
    (InvalidProof, 422),
    (Erased, 410),
    (VaultError, 500),
    (DeliveryFailed, 502),
    (ClaimNotFound, 404),
    (NotFound, 404),
    (Forbidden, 403),
    (Conflict, 409),
    (PolicyRefused, 409),
    (Rejected, 422),
    (ContractRefused, 409),
    (NodeUnavailable, 503),
    (ChainError, 502),
    (ConfigError, 500),
    (DebtLedgerError, 400),
)


def status_of(error: DebtLedgerError) -> int:
    return next(code for kind, code in STATUS if isinstance(error, kind))


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {
        "type": f"urn:debtledger:problem:{title}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    headers = {"WWW-Authenticate": "ApiKey"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _domain(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DebtLedgerError)
    extra: dict[str, Any] = {}
    if isinstance(exc, InvalidInput):
        extra = {"field": exc.field, "row": exc.row}
    if isinstance(exc, ContractRefused):
        extra = {"rule": exc.rule}
    if isinstance(exc, VerificationFailed):
        extra = {"check": exc.check}
    return problem(status_of(exc), type(exc).__name__, str(exc), **extra)


def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    field = ".".join(str(p) for p in first["loc"] if p not in ("body", "query", "path", "header"))
    detail = f"field '{field}': {first['msg']}" if field else str(first["msg"])
    return problem(422, "InvalidInput", detail, field=field or None)


def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return problem(exc.status_code, "HTTPError", str(exc.detail))


def install(app: FastAPI) -> None:
    """Register the problem handlers on `app`."""
    app.add_exception_handler(DebtLedgerError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(HTTPException, _http)
