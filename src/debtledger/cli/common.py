"""What every command group shares: the options, the runtime and small helpers."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import typer

from debtledger.config import Settings, get_settings
from debtledger.runtime import Runtime

Json = Annotated[bool, typer.Option("--json", help="Print only JSON.")]
As = Annotated[str, typer.Option("--as", help="The organisation acting (its key signs).")]
Claim = Annotated[str, typer.Argument(help="Claim reference or 0x id.")]
IdemKey = Annotated[
    str | None,
    typer.Option(
        "--idempotency-key", help="Makes a retried command safe: the same key is one write."
    ),
]


def settings() -> Settings:
    return get_settings()


def runtime() -> Runtime:
    return Runtime(settings())


def new_key(given: str | None, what: str) -> str:
    return given or f"{what}:{uuid.uuid4()}"


def tx_summary(entry: Any) -> dict[str, Any]:
    return {"tx_hash": entry.tx_hash, "block": entry.block_number, "status": entry.status.value}
