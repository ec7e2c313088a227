"""How commands speak: JSON for scripts (`--json`), plain lines for people; a domain error is
one line on stderr and exit code 1."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from typing import Any, ParamSpec, TypeVar

import typer

from debtledger.errors import DebtLedgerError, InvalidInput

P = ParamSpec("P")
R = TypeVar("R")


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if hasattr(value, "value") and value.__class__.__module__.startswith("debtledger"):
        return value.value
    return value


def emit(data: Any, as_json: bool, human: Callable[[Any], str] | None = None) -> None:
    plain = _plain(data)
    if as_json:
        typer.echo(json.dumps(plain, indent=None if isinstance(plain, list) else 2, default=str))
    elif human is not None:
        typer.echo(human(plain))
    else:
        typer.echo(_human(plain))


def _human(value: Any, indent: int = 0) -> str:
    pad = "  " * indent
    if isinstance(value, dict):
        lines = []
        for k, v in value.items():
            if isinstance(v, dict | list) and v:
                lines.append(f"{pad}{k}:")
                lines.append(_human(v, indent + 1))
            else:
                lines.append(f"{pad}{k}: {v if v not in (None, [], {}) else '-'}")
        return "\n".join(lines)
    if isinstance(value, list):
        return "\n".join(
            (_human(v, indent) + ("\n" if isinstance(v, dict) else ""))
            if isinstance(v, dict)
            else f"{pad}- {v}"
            for v in value
        ).rstrip()
    return f"{pad}{value}"


def fail(
    message: str, as_json: bool, kind: str = "error", extra: dict[str, Any] | None = None
) -> None:
    if as_json:
        typer.echo(json.dumps({"error": message, "kind": kind, **(extra or {})}))
    else:
        typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=1)


def handled(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn DebtLedger errors into one line (or one JSON object) and exit code 1."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        as_json = bool(kwargs.get("as_json", False))
        try:
            return fn(*args, **kwargs)
        except InvalidInput as exc:
            extra = {k: v for k, v in (("field", exc.field), ("row", exc.row)) if v is not None}
            fail(str(exc), as_json, type(exc).__name__, extra)
        except DebtLedgerError as exc:
            fail(str(exc), as_json, type(exc).__name__)
        raise AssertionError("unreachable")  # pragma: no cover

    return wrapper
