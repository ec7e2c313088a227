"""`debtledger complaint`, `debtledger regulator` and `debtledger debtor view`: debtors'
complaints (filed for the debtor by the gateway, or by a regulator; resolved by the claim's
owner or a regulator), the compliance monitor's violations, compliance reports as CSV or PDF,
and the unified view of one debtor across creditors."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer

from debtledger.access.service import Principal
from debtledger.cli.common import As, Claim, IdemKey, Json, runtime
from debtledger.cli.output import emit, handled
from debtledger.cli.privacy import debtor_app
from debtledger.coordination.budget import BudgetService
from debtledger.coordination.complaints import CATEGORIES, Complaints
from debtledger.coordination.joint import JointRepayments
from debtledger.coordination.monitor import Monitor
from debtledger.coordination.reports import Reports, period_of
from debtledger.coordination.view import DebtorView
from debtledger.domain.claims import parse_claim_id
from debtledger.errors import InvalidInput
from debtledger.orgs.service import OrgService
from debtledger.privacy.service import parse_pseudonym
from debtledger.runtime import Runtime

complaint_app = typer.Typer(
    help="Debtors' complaints: file (gateway or regulator), resolve, list.", no_args_is_help=True
)
regulator_app = typer.Typer(
    help="Supervision: the compliance monitor's violations and compliance reports.",
    no_args_is_help=True,
)

Role = Annotated[
    str | None,
    typer.Option("--role", help="The role to act in, when the organisation holds several."),
]
Debtor = Annotated[str, typer.Argument(help="Debtor pseudonym: 0x + 64 hex digits.")]
ACTING_ROLES = ("CREDITOR", "AGENCY", "COURT", "REGULATOR", "GATEWAY", "KEEPER")


def acting(rt: Runtime, org: str, role: str | None, allowed: tuple[str, ...]) -> Principal:
    """The organisation `org` (whose key this service holds) acting in one of its on-chain
    roles among `allowed`: `role`, or the only one it holds."""
    orgs = OrgService(rt)
    address = orgs.account(org).address
    held = [r for r in orgs.roles_of(address) if r in ACTING_ROLES and r in allowed]
    if role is not None:
        if role.upper() not in held:
            raise InvalidInput(
                f"{org} does not hold the role {role.upper()} (here: {', '.join(allowed)})",
                field="role",
            )
        return Principal(org, "cli", role.upper(), address, "cli")
    if len(held) != 1:
        roles = ", ".join(held) or "none of " + ", ".join(allowed)
        raise InvalidInput(f"{org} holds {roles}: choose one with --role", field="role")
    return Principal(org, "cli", held[0], address, "cli")


def _complaint_line(c: dict[str, Any]) -> str:
    return (
        f"#{c['id']:<5} {c['status']:<8} {c['category']:<18} {c['claim_id'][:18]}…  "
        f"filed {c['filed_at']} by {c['filed_by']}"
        + (f"  resolved by {c['resolved_by']}" if c["resolved_by"] else "")
    )


def _violation_line(v: dict[str, Any]) -> str:
    who = v["organisation"] or "-"
    return f"#{v['id']:<5} {v['occurred_at']}  {v['kind']:<20} {who:<12} {v['detail']}"


# ---------------------------------------------------------------------------- complaints


@complaint_app.command("file")
@handled
def complaint_file(
    claim: Claim,
    org: As,
    category: Annotated[str, typer.Option(help=f"One of {', '.join(CATEGORIES)}.")],
    details_file: Annotated[
        Path | None,
        typer.Option(
            "--details-file",
            help="The debtor's words, from a file ('-': standard input); never the command "
            "line, where the shell's history would keep them.",
        ),
    ] = None,
    contact: Annotated[
        str | None, typer.Option(help="The gateway's contact id (ct_…) it is about.")
    ] = None,
    role: Role = None,
    as_json: Json = False,
    idem: IdemKey = None,
) -> None:
    """File a debtor's complaint (as the gateway for the debtor, or a regulator); the
    claim's contacts pause until it is resolved."""
    rt = runtime()
    details = ""
    if details_file is not None:
        details = sys.stdin.read() if str(details_file) == "-" else _read(details_file)
    filed = Complaints(rt).file(
        acting(rt, org, role, ("GATEWAY", "REGULATOR")),
        parse_claim_id(claim),
        category=category,
        details=details,
        contact_id=contact,
        idem_key=idem,
    )
    emit(filed, as_json)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise InvalidInput("cannot read the file as UTF-8 text", field="details-file") from None


@complaint_app.command("resolve")
@handled
def complaint_resolve(
    complaint: Annotated[int, typer.Argument(help="The complaint's id.", min=1)],
    org: As,
    resolution: Annotated[str, typer.Option(help="How it was resolved.")],
    role: Role = None,
    as_json: Json = False,
) -> None:
    """Resolve a complaint (the claim's owner or a regulator); contacts resume."""
    rt = runtime()
    done = Complaints(rt).resolve(
        acting(rt, org, role, ("CREDITOR", "REGULATOR")), complaint, resolution=resolution
    )
    emit(done, as_json)


@complaint_app.command("list")
@handled
def complaint_list(
    org: As,
    claim: Annotated[str | None, typer.Option(help="Only this claim's.")] = None,
    status: Annotated[str | None, typer.Option(help="open or resolved.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 100,
    role: Role = None,
    as_json: Json = False,
) -> None:
    """The complaints you may read, newest first."""
    rt = runtime()
    found = Complaints(rt).list(
        acting(rt, org, role, ("CREDITOR", "REGULATOR", "COURT", "GATEWAY")),
        claim_id=parse_claim_id(claim) if claim else None,
        status=status,
        limit=limit,
    )
    emit(found, as_json, lambda rs: "\n".join(_complaint_line(r) for r in rs) or "no complaints")


# ---------------------------------------------------------------------------- regulator


@regulator_app.command("violations")
@handled
def regulator_violations(
    org: As,
    kind: Annotated[str | None, typer.Option(help="Only this kind.")] = None,
    claim: Annotated[str | None, typer.Option(help="Only this claim's.")] = None,
    after: Annotated[int, typer.Option(min=0, help="Only after this id.")] = 0,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    scan: Annotated[
        bool, typer.Option("--scan", help="Run the monitor once first (index, then look).")
    ] = False,
    role: Role = None,
    as_json: Json = False,
) -> None:
    """Violations the compliance monitor found, oldest first (regulators and courts)."""
    rt = runtime()
    acting(rt, org, role, ("REGULATOR", "COURT"))
    monitor = Monitor(rt)
    if scan:
        monitor.run_once()
    found = monitor.violations(
        kind=kind, claim_id=parse_claim_id(claim) if claim else None, after_id=after, limit=limit
    )
    emit(found, as_json, lambda vs: "\n".join(_violation_line(v) for v in vs) or "no violations")


@regulator_app.command("report")
@handled
def regulator_report(
    org: As,
    start: Annotated[str, typer.Option("--from", help="First day (or ISO time with zone).")],
    end: Annotated[str, typer.Option("--to", help="Last day, counted whole (or ISO time).")],
    fmt: Annotated[str, typer.Option("--format", help="json, csv or pdf.")] = "json",
    out: Annotated[
        Path | None, typer.Option("--out", help="Write here (needed for pdf); default: stdout.")
    ] = None,
    role: Role = None,
    as_json: Json = False,
) -> None:
    """Compliance figures per agency and per creditor for a period, as JSON, CSV or PDF."""
    if fmt not in ("json", "csv", "pdf"):
        raise InvalidInput("must be json, csv or pdf", field="format")
    if fmt == "pdf" and out is None:
        raise InvalidInput("a PDF needs --out FILE", field="out")
    rt = runtime()
    acting(rt, org, role, ("REGULATOR", "COURT"))
    reports = Reports(rt)
    report = reports.report(*period_of(start, end))
    if fmt == "json":
        if out is None:
            emit(report.to_json(), as_json)
            return
        data = json.dumps(report.to_json(), indent=2).encode()
    else:
        data = reports.csv(report) if fmt == "csv" else reports.pdf(report)
        if out is None:
            typer.echo(data.decode(), nl=False)
            return
    out.write_bytes(data)
    emit({"written": str(out), "bytes": len(data), "rows": len(report.figures)}, as_json)


# ---------------------------------------------------------------------------- debtor view


@handled
def debtor_view(
    debtor: Debtor,
    org: As,
    role: Role = None,
    as_json: Json = False,
) -> None:
    """Every claim of one debtor across creditors: yours in full, the others as counts,
    stages and your exposure share (regulators and keepers: all of them)."""
    rt = runtime()
    rt.indexer.run_once()
    shown = DebtorView(rt).view(
        acting(rt, org, role, ("CREDITOR", "REGULATOR", "KEEPER")), parse_pseudonym(debtor)
    )
    emit(shown, as_json)


# `debtledger debtor` is the privacy commands' group; the view joins it.
debtor_app.command("view")(debtor_view)


@handled
def debtor_divide_budget(
    debtor: Debtor,
    org: As,
    idem_key: IdemKey = None,
    as_json: Json = False,
) -> None:
    """Divide the debtor's 7-day contact budget among its creditors by their share of the
    debt (as the coordinator, an organisation with the KEEPER role); the contract then
    refuses a creditor's contacts beyond its part until the week's release point."""
    rt = runtime()
    rt.indexer.run_once()
    key = idem_key or f"budget:{debtor}:{uuid.uuid4()}"
    emit(BudgetService(rt).divide(parse_pseudonym(debtor), coordinator=org, idem_key=key), as_json)


debtor_app.command("divide-budget")(debtor_divide_budget)


@handled
def debtor_pay(
    debtor: Debtor,
    org: As,
    amount_fen: Annotated[int, typer.Option("--amount-fen", help="The payment, in fen.")],
    receipt: Annotated[str, typer.Option(help="The payment's reference (stored as a hash).")],
    currency: Annotated[str, typer.Option(help="Only claims in this currency share it.")] = "CNY",
    idem_key: IdemKey = None,
    as_json: Json = False,
) -> None:
    """One payment by the debtor split among all its active claims by share of the
    outstanding total, to the fen, and recorded on chain for each claim (as the gateway)."""
    rt = runtime()
    rt.indexer.run_once()
    key = idem_key or f"joint:{debtor}:{uuid.uuid4()}"
    done = JointRepayments(rt).pay(
        parse_pseudonym(debtor), amount_fen, receipt, by_org=org, idem_key=key, currency=currency
    )
    emit(
        {
            "debtor": done.debtor,
            "amount_fen": done.amount_fen,
            "parts": dict(done.parts),
            "tx_hashes": {c: e.tx_hash for c, e in done.entries.items()},
        },
        as_json,
    )


debtor_app.command("pay")(debtor_pay)
