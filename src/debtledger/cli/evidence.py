"""`debtledger evidence`: add items, anchor batches, get receipts, verify them (offline or
on chain) and build or check a claim's court package."""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path
from typing import Annotated, Any

import typer

from debtledger.cli.common import As, Claim, Json, runtime
from debtledger.cli.output import emit, handled
from debtledger.domain.claims import parse_claim_id
from debtledger.errors import VerificationFailed
from debtledger.evidence.court import court_package
from debtledger.evidence.package import verify_package
from debtledger.evidence.receipts import Step, load_receipt, verify_receipt
from debtledger.evidence.service import EvidenceService, NewItem
from debtledger.evidence.statements import KINDS

evidence_app = typer.Typer(
    help="Evidence: add, anchor in Merkle batches, receipts, verification, court packages.",
    no_args_is_help=True,
)
Rpc = Annotated[
    str | None, typer.Option("--rpc", help="JSON-RPC URL: also check the anchor on chain.")
]


@evidence_app.command("add")
@handled
def evidence_add(
    file: Annotated[Path, typer.Argument(help="The evidence file (any size; streamed).")],
    org: As,
    kind: Annotated[str, typer.Option(help=f"One of: {', '.join(KINDS)}.")],
    claim: Annotated[str | None, typer.Option(help="The claim it belongs to.")] = None,
    media_type: Annotated[
        str | None, typer.Option("--type", help="Media type; default: from the file name.")
    ] = None,
    as_json: Json = False,
) -> None:
    """Store a file with a signed statement; it is anchored with the next batch."""
    kind_type = media_type or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    item = NewItem(file, kind, kind_type, parse_claim_id(claim) if claim else None)
    emit(EvidenceService(runtime()).add(org, item), as_json)


@evidence_app.command("batch")
@handled
def evidence_batch(
    org: Annotated[str | None, typer.Option("--as", help="Only this organisation's items.")] = None,
    as_json: Json = False,
) -> None:
    """Close batches of waiting items and anchor their roots now (the service does this by
    size or time on its own)."""
    done = EvidenceService(runtime()).run(org)
    rows = [
        {
            "batch": b.id,
            "items": b.count,
            "root": "0x" + b.root.hex(),
            "tx_hash": b.tx_hash,
            "block": b.block_number,
        }
        for b in done
    ]
    emit(
        rows,
        as_json,
        lambda rs: (
            "\n".join(
                f"batch {r['batch']}: {r['items']} items, root {r['root']}, block {r['block']}"
                for r in rs
            )
            or "nothing to anchor"
        ),
    )


@evidence_app.command("list")
@handled
def evidence_list(claim: Claim, as_json: Json = False) -> None:
    """The evidence items of a claim."""
    emit(EvidenceService(runtime()).items_of_claim(parse_claim_id(claim)), as_json)


@evidence_app.command("receipt")
@handled
def evidence_receipt(
    item: Annotated[int, typer.Argument(help="The evidence item id.")],
    out: Annotated[Path | None, typer.Option("-o", "--out", help="Write it to this file.")] = None,
) -> None:
    """An anchored item's receipt (JSON): to a file, or printed."""
    data = EvidenceService(runtime()).receipt(item)
    text = json.dumps(json.loads(data), indent=2)
    if out:
        out.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"receipt of item {item} written to {out}")
    else:
        typer.echo(text)


def _show(as_json: bool) -> Any:
    def show(step: Step) -> None:
        if not as_json:
            typer.echo(f"{'ok  ' if step.ok else 'FAIL'} {step.check}: {step.detail}")

    return show


def _report(
    steps: list[Step], failed: VerificationFailed | None, as_json: bool, **extra: Any
) -> None:
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "ok": failed is None,
                    "failed_check": failed.check if failed else None,
                    "steps": [s.__dict__ for s in steps],
                    **extra,
                },
                indent=2,
            )
        )
    if failed is not None:
        if not as_json:
            typer.echo(f"verification FAILED at check '{failed.check}'", err=True)
        raise typer.Exit(code=1)
    if not as_json:
        typer.echo("verified")


@evidence_app.command("verify")
@handled
def evidence_verify(
    file: Annotated[Path, typer.Argument(help="The evidence file.")],
    receipt: Annotated[Path, typer.Argument(help="Its receipt (JSON).")],
    rpc: Rpc = None,
    as_json: Json = False,
) -> None:
    """Recompute the file's hash and its Merkle path to the anchored root, printing each
    step; with --rpc also check the root, the transaction and the block time on chain.
    Exit code 1 names the check that failed."""
    if not file.is_file():
        typer.echo(f"error: no such file: {file}", err=True)
        raise typer.Exit(code=1)
    try:
        steps = verify_receipt(load_receipt(receipt), file, rpc_url=rpc, on_step=_show(as_json))
    except VerificationFailed as exc:
        _report(exc.steps, exc, as_json)  # type: ignore[arg-type]
        return
    _report(steps, None, as_json)


@evidence_app.command("package")
@handled
def evidence_package(
    claim: Claim,
    out: Annotated[Path, typer.Option("-o", "--out", help="The zip file to write.")],
    as_json: Json = False,
) -> None:
    """Write a claim's court package: history, evidence files, receipts, manifest, report."""
    manifest = court_package(runtime(), parse_claim_id(claim), out)
    emit(
        {
            "package": str(out),
            "claim_id": manifest["claim_id"],
            "items": manifest["items"],
            "files": len(manifest["files"]) + 1,
        },
        as_json,
    )


@evidence_app.command("verify-package")
@handled
def evidence_verify_package(
    package: Annotated[Path, typer.Argument(help="The court package (zip).")],
    rpc: Rpc = None,
    as_json: Json = False,
) -> None:
    """Verify a whole court package: manifest, every file against its receipt, and with
    --rpc every anchor on chain. Exit code 1 names the check that failed."""
    steps: list[Step] = []
    show = _show(as_json)

    def record(step: Step) -> None:
        steps.append(step)
        show(step)

    try:
        summary = verify_package(package, rpc_url=rpc, on_step=record)
    except VerificationFailed as exc:
        _report(steps, exc, as_json)
        return
    _report(steps, None, as_json, **summary)
