"""`debtledger`: the command line. Thin commands over the services; `--json` for scripts."""

from __future__ import annotations

import signal
import threading
import time
from datetime import UTC, datetime
from datetime import time as dtime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from debtledger.access.service import AccessService
from debtledger.chain.node import LocalNode, Snapshotter
from debtledger.claims.service import ClaimService
from debtledger.cli import background
from debtledger.cli.collection import collection_app, keeper_app, plan_app, policy_app
from debtledger.cli.common import As, Claim, IdemKey, Json
from debtledger.cli.common import new_key as _key
from debtledger.cli.common import runtime as _runtime
from debtledger.cli.common import settings as _settings
from debtledger.cli.common import tx_summary as _tx
from debtledger.cli.contacts import contact_app
from debtledger.cli.evidence import evidence_app
from debtledger.cli.gateway import gateway_app
from debtledger.cli.output import emit, handled
from debtledger.cli.privacy import debtor_app, privacy_app, record_app
from debtledger.cli.supervision import complaint_app, regulator_app
from debtledger.domain.claims import parse_amount, parse_claim, parse_claim_id, parse_date
from debtledger.errors import ChainError, DebtLedgerError, InvalidInput
from debtledger.orgs.service import OrgService
from debtledger.runtime import Runtime

app = typer.Typer(
    help="DebtLedger: compliant debt collection on a shared ledger.", no_args_is_help=True
)
node_app = typer.Typer(help="The local chain node (anvil).", no_args_is_help=True)
org_app = typer.Typer(help="Organisations of the consortium.", no_args_is_help=True)
claim_app = typer.Typer(
    help="Claims: register, sell, mandate, collect, close.", no_args_is_help=True
)
app.add_typer(node_app, name="node")
app.add_typer(org_app, name="org")
app.add_typer(claim_app, name="claim")
app.add_typer(evidence_app, name="evidence")
app.add_typer(gateway_app, name="gateway")
app.add_typer(record_app, name="record")
app.add_typer(debtor_app, name="debtor")
app.add_typer(privacy_app, name="privacy")
app.add_typer(contact_app, name="contact")
app.add_typer(policy_app, name="policy")
app.add_typer(collection_app, name="collection")
app.add_typer(plan_app, name="plan")
app.add_typer(keeper_app, name="keeper")
app.add_typer(complaint_app, name="complaint")
app.add_typer(regulator_app, name="regulator")

# ---------------------------------------------------------------------------- node


@node_app.command("run", hidden=True)
@handled
def node_run(as_json: Json = False) -> None:
    """Run the local node in the foreground with periodic snapshots (what `start` launches)."""
    settings = _settings()
    node = LocalNode(settings)
    node.start()
    snapshots = Snapshotter(node, settings.snapshot_interval_s).start()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(0.5):
        if node.process is not None and node.process.poll() is not None:
            raise ChainError(f"anvil exited unexpectedly (code {node.process.returncode})")
    snapshots.stop()
    node.stop(snapshot=True)


@node_app.command("start")
@handled
def node_start(as_json: Json = False) -> None:
    """Start the local node in the background; its state is kept in the data folder."""
    settings = _settings()
    node = LocalNode(settings)
    if node.is_running():
        emit({"running": True, "url": node.url, "started": False}, as_json)
        return
    pid = background.spawn(["node", "run"], settings.node_dir, "supervisor", node.is_running)
    emit({"running": True, "url": node.url, "started": True, "pid": pid}, as_json)


@node_app.command("stop")
@handled
def node_stop(as_json: Json = False) -> None:
    """Snapshot the local node's state and stop it."""
    settings = _settings()
    node = LocalNode(settings)
    stopped = background.stop(settings.node_dir, "supervisor")
    if node.is_running():
        node.stop(snapshot=True)
        stopped = True
    emit({"running": False, "stopped": stopped}, as_json)


@node_app.command("status")
@handled
def node_status(as_json: Json = False) -> None:
    """Whether the node answers, its head block and the last snapshot."""
    settings = _settings()
    node = LocalNode(settings)
    info: dict[str, Any] = {"url": settings.node_url, "running": node.is_running()}
    if info["running"]:
        rt = Runtime(settings)
        info["block"] = rt.writer.head()
        info["chain_id"] = rt.chain_id
    snap = node.snapshot_path
    if snap.exists():
        info["snapshot"] = {
            "path": str(snap),
            "bytes": snap.stat().st_size,
            "age_s": round(time.time() - snap.stat().st_mtime, 1),
        }
    emit(info, as_json)


@node_app.command("snapshot")
@handled
def node_snapshot(as_json: Json = False) -> None:
    """Write the node's state to the data folder now (atomically)."""
    path = LocalNode(_settings()).snapshot()
    emit({"snapshot": str(path), "bytes": path.stat().st_size}, as_json)


# ---------------------------------------------------------------------------- deploy, orgs


@app.command("deploy")
@handled
def deploy_cmd(as_json: Json = False) -> None:
    """Deploy the contracts and record the deployment in the data folder."""
    rt = _runtime()
    if rt.settings.deployment_file.exists():
        d = rt.deployment
        if rt.writer.rpc.call("eth_getCode", [d.addresses["ClaimRegistry"], "latest"]) not in (
            "0x",
            None,
        ):
            emit({"deployed": False, "reason": "already deployed", **d.addresses}, as_json)
            return
    emit({"deployed": True, **OrgService(rt).deploy()}, as_json)


@app.command("reconcile")
@handled
def reconcile_cmd(as_json: Json = False) -> None:
    """Reconcile the outbox with the chain: confirm what is mined, send again what is not."""
    rt = _runtime()
    emit({**rt.writer.reconcile(), "outbox": rt.outbox.counts()}, as_json)


@org_app.command("add")
@handled
def org_add(
    name: Annotated[str, typer.Argument(help="Short name, e.g. bank-a.")],
    role: Annotated[
        list[str],
        typer.Option("--role", help="CREDITOR, AGENCY, COURT, REGULATOR, GATEWAY, KEEPER."),
    ],
    address: Annotated[
        str | None,
        typer.Option(help="The organisation's address when its key is held by its own service."),
    ] = None,
    as_json: Json = False,
    idem: IdemKey = None,
) -> None:
    """Grant an organisation roles on chain (consortium admin); without --address its key
    is made and held here and the organisation is hosted by this service."""
    rt = _runtime()
    key = idem or f"org:{name}"
    if address:
        emit(OrgService(rt).add(name, role, idem_key=key, address=address), as_json)
    else:
        emit(AccessService(rt).host(name, role, idem_key=key), as_json)


@org_app.command("key")
@handled
def org_key(name: Annotated[str, typer.Argument()], as_json: Json = False) -> None:
    """Make (or show) this service's signing key for an organisation; give the address to
    the consortium admin, who grants the roles."""
    emit({"name": name, "address": OrgService(_runtime()).key(name)}, as_json)


@org_app.command("host")
@handled
def org_host(
    name: Annotated[str, typer.Argument()],
    role: Annotated[list[str], typer.Option("--role")],
    as_json: Json = False,
) -> None:
    """Host an organisation whose roles the admin granted: its members can get API keys."""
    emit(AccessService(_runtime()).host(name, role, idem_key=f"org:{name}"), as_json)


@org_app.command("member")
@handled
def org_member(
    org: Annotated[str, typer.Argument()],
    member: Annotated[str, typer.Argument()],
    as_json: Json = False,
) -> None:
    """Add a member to a hosted organisation."""
    emit(
        {"org": org, "member": member, "id": AccessService(_runtime()).add_member(org, member)},
        as_json,
    )


@org_app.command("apikey")
@handled
def org_apikey(
    org: Annotated[str, typer.Argument()],
    member: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Option("--role")],
    as_json: Json = False,
) -> None:
    """Issue an API key for a member acting in one of the organisation's roles (shown once)."""
    made = AccessService(_runtime()).issue_key(org, member, role)
    emit(
        {
            "org": org,
            "member": member,
            "role": role.upper(),
            "key_id": made.key_id,
            "api_key": made.key,
        },
        as_json,
    )


@org_app.command("revoke-key")
@handled
def org_revoke_key(key_id: Annotated[str, typer.Argument()], as_json: Json = False) -> None:
    """Revoke an API key by its id."""
    AccessService(_runtime()).revoke_key(key_id)
    emit({"revoked": key_id}, as_json)


@app.command("join")
@handled
def join_cmd(
    file: Annotated[Path, typer.Argument(help="The consortium's deployment record (JSON).")],
    as_json: Json = False,
) -> None:
    """Use the consortium's contracts: record its deployment here after checking it is on
    the chain this service talks to."""
    emit(OrgService(_runtime()).join(file), as_json)


@org_app.command("list")
@handled
def org_list(as_json: Json = False) -> None:
    """Organisations this data folder holds keys for, with their roles on chain."""
    orgs = OrgService(_runtime()).list()
    emit(
        orgs,
        as_json,
        lambda rows: "\n".join(
            f"{o['name']:<16} {o['address']}  {','.join(o['roles'])}" for o in rows
        ),
    )


# ---------------------------------------------------------------------------- claims


@claim_app.command("register")
@handled
def claim_register(
    ref: Annotated[str, typer.Argument(help="The creditor's reference for the claim.")],
    org: As,
    debtor: Annotated[str, typer.Option(help="Debtor pseudonym: 0x + 64 hex digits.")],
    principal_fen: Annotated[str, typer.Option(help="Principal in fen (whole number).")],
    due: Annotated[str, typer.Option(help="Due date, YYYY-MM-DD.")],
    outstanding_fen: Annotated[
        str | None, typer.Option(help="Outstanding in fen; default: principal.")
    ] = None,
    currency: str = "CNY",
    as_json: Json = False,
    idem: IdemKey = None,
) -> None:
    """Register one claim."""
    claim = parse_claim(
        {
            "claim_ref": ref,
            "debtor_pseudonym": debtor,
            "principal_fen": principal_fen,
            "outstanding_fen": outstanding_fen if outstanding_fen is not None else principal_fen,
            "currency": currency,
            "due_date": due,
        }
    )
    entry = ClaimService(_runtime()).register(org, claim, idem_key=_key(idem, "register"))
    emit({"claim_id": "0x" + claim.claim_id.hex(), "ref": ref, **_tx(entry)}, as_json)


@claim_app.command("import")
@handled
def claim_import(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV: claim_ref,debtor_pseudonym,principal_fen,outstanding_fen,currency,due_date"
        ),
    ],
    org: As,
    skip_bad: Annotated[
        bool, typer.Option("--skip-bad", help="Import the good rows and list the bad ones.")
    ] = False,
    as_json: Json = False,
) -> None:
    """Import claims from a CSV file. A bad row stops the whole import unless --skip-bad."""
    service = ClaimService(_runtime())
    if as_json:
        report = service.import_csv(file, org, skip_bad=skip_bad)
    else:
        with Progress(
            TextColumn("importing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            transient=False,
        ) as bar:
            task = bar.add_task("import", total=None)
            report = service.import_csv(
                file,
                org,
                skip_bad=skip_bad,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    emit(report, as_json)


@claim_app.command("show")
@handled
def claim_show(claim: Claim, as_json: Json = False) -> None:
    """A claim's current state on chain."""
    emit(ClaimService(_runtime()).show(parse_claim_id(claim)), as_json)


@claim_app.command("history")
@handled
def claim_history(claim: Claim, as_json: Json = False) -> None:
    """Every event of a claim, oldest first."""
    rows = list(ClaimService(_runtime()).history(parse_claim_id(claim)))
    emit(rows, as_json, lambda evs: "\n".join(f"block {e['block']:>6}  {e['event']}" for e in evs))


@claim_app.command("transfer")
@handled
def claim_transfer(
    claim: Claim,
    org: As,
    to: Annotated[str, typer.Option("--to", help="The buying creditor (name or address).")],
    price_fen: Annotated[
        str, typer.Option(help="Agreed price in fen; only its hash goes on chain.")
    ],
    currency: str = "CNY",
    buy_back: Annotated[
        bool, typer.Option("--buy-back", help="Offer it back to the last seller.")
    ] = False,
    as_json: Json = False,
    idem: IdemKey = None,
) -> None:
    """Offer a claim to another creditor (it must accept)."""
    service = ClaimService(_runtime())
    price = parse_amount(price_fen, "price_fen")
    cid = parse_claim_id(claim)
    if buy_back:
        entry, commitment = service.propose_buy_back(
            cid, org, price, currency, idem_key=_key(idem, "buyback")
        )
    else:
        entry, commitment = service.propose_transfer(
            cid, org, to, price, currency, idem_key=_key(idem, "transfer")
        )
    emit({**_tx(entry), "price_hash": commitment.hash, "price_salt": commitment.salt}, as_json)


@claim_app.command("buyback")
@handled
def claim_buyback(
    claim: Claim,
    org: As,
    price_fen: Annotated[str, typer.Option()],
    currency: str = "CNY",
    as_json: Json = False,
    idem: IdemKey = None,
) -> None:
    """Offer a claim back to the creditor that sold it last (repurchase)."""
    entry, commitment = ClaimService(_runtime()).propose_buy_back(
        parse_claim_id(claim),
        org,
        parse_amount(price_fen, "price_fen"),
        currency,
        idem_key=_key(idem, "buyback"),
    )
    emit({**_tx(entry), "price_hash": commitment.hash, "price_salt": commitment.salt}, as_json)


def _simple(action: str, method: str, doc: str) -> None:
    def command(claim: Claim, org: As, as_json: Json = False, idem: IdemKey = None) -> None:
        entry = getattr(ClaimService(_runtime()), method)(
            parse_claim_id(claim), org, idem_key=_key(idem, action)
        )
        emit(_tx(entry), as_json)

    command.__doc__ = doc
    claim_app.command(action)(handled(command))


_simple("accept", "accept", "Accept an offered claim: the caller becomes its only owner.")
_simple("decline", "decline", "Decline an offered claim.")
_simple("cancel", "cancel", "Withdraw your offer of a claim.")
_simple("writeoff", "write_off", "Write a claim off at its outstanding amount.")


@claim_app.command("mandate")
@handled
def claim_mandate(
    claim: Claim,
    org: As,
    agency: Annotated[str | None, typer.Option(help="The agency (name or address).")] = None,
    until: Annotated[
        str | None, typer.Option(help="Last day of the mandate, YYYY-MM-DD (UTC).")
    ] = None,
    revoke: Annotated[bool, typer.Option("--revoke", help="End the current mandate.")] = False,
    as_json: Json = False,
    idem: IdemKey = None,
) -> None:
    """Mandate an agency to collect a claim until a date, or revoke the mandate."""
    service = ClaimService(_runtime())
    cid = parse_claim_id(claim)
    if revoke:
        entry = service.revoke_mandate(cid, org, idem_key=_key(idem, "revoke"))
    else:
        if not agency or not until:
            raise InvalidInput(
                "give --agency and --until (or --revoke)", field="agency" if not agency else "until"
            )
        day = parse_date(until, "until")
        expiry = datetime.combine(day, dtime(23, 59, 59), tzinfo=UTC)
        entry = service.mandate(cid, org, agency, expiry, idem_key=_key(idem, "mandate"))
    emit(_tx(entry), as_json)


@claim_app.command("repay")
@handled
def claim_repay(
    claim: Claim,
    org: As,
    amount_fen: Annotated[str, typer.Option(help="Amount repaid in fen (whole, positive).")],
    receipt: Annotated[
        str, typer.Option(help="Payment receipt reference; only its hash goes on chain.")
    ] = "",
    as_json: Json = False,
    idem: IdemKey = None,
) -> None:
    """Record a repayment: the outstanding amount falls, never below zero."""
    amount = parse_amount(amount_fen, "amount_fen", positive=True)
    entry = ClaimService(_runtime()).repay(
        parse_claim_id(claim), org, amount, receipt, idem_key=_key(idem, "repay")
    )
    emit(_tx(entry), as_json)


@claim_app.command("settle")
@handled
def claim_settle(
    claim: Claim, org: As, note: str = "", as_json: Json = False, idem: IdemKey = None
) -> None:
    """Close a claim as settled; what is left unpaid is forgiven."""
    entry = ClaimService(_runtime()).settle(
        parse_claim_id(claim), org, note, idem_key=_key(idem, "settle")
    )
    emit(_tx(entry), as_json)


@claim_app.command("dispute")
@handled
def claim_dispute(
    claim: Claim,
    org: As,
    reason: Annotated[
        str, typer.Option(help="Grounds of the dispute; only its hash goes on chain.")
    ] = "",
    as_json: Json = False,
    idem: IdemKey = None,
) -> None:
    """Mark a claim disputed: sale and collection stop until it is resolved."""
    entry = ClaimService(_runtime()).dispute(
        parse_claim_id(claim), org, reason, idem_key=_key(idem, "dispute")
    )
    emit(_tx(entry), as_json)


@claim_app.command("resolve")
@handled
def claim_resolve(
    claim: Claim,
    org: As,
    outstanding_fen: Annotated[
        str, typer.Option(help="Outstanding amount the resolution fixed, in fen.")
    ],
    note: str = "",
    as_json: Json = False,
    idem: IdemKey = None,
) -> None:
    """Resolve a dispute with the outstanding amount it fixed (zero settles the claim)."""
    amount = parse_amount(outstanding_fen, "outstanding_fen")
    entry = ClaimService(_runtime()).resolve(
        parse_claim_id(claim), org, amount, note, idem_key=_key(idem, "resolve")
    )
    emit(_tx(entry), as_json)


# ---------------------------------------------------------------------------- serve


def _api_answers(url: str) -> bool:
    import httpx

    try:
        return httpx.get(f"{url}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _every(stop: threading.Event, interval_s: float, job: Any) -> None:
    """Run `job` every `interval_s` until `stop`; a failed turn (node down) waits for the next."""
    while not stop.wait(interval_s):
        try:
            job()
        except DebtLedgerError as exc:
            typer.echo(f"warning: {exc}", err=True)


@app.command("serve")
@handled
def serve_cmd(
    host: str = "127.0.0.1",
    port: int = 8000,
    detach: Annotated[bool, typer.Option("--detach", help="Run in the background.")] = False,
    stop: Annotated[
        bool, typer.Option("--stop", help="Stop a server started with --detach.")
    ] = False,
    as_json: Json = False,
) -> None:
    """Run migrations, the local node (when configured), the indexer, the evidence batcher
    and the API."""
    settings = _settings()
    url = f"http://{host}:{port}"
    if stop:
        emit({"stopped": background.stop(settings.data_dir, "api")}, as_json)
        return
    if settings.local_node and not LocalNode(settings).is_running():
        background.spawn(
            ["node", "run"], settings.node_dir, "supervisor", LocalNode(settings).is_running
        )
    if detach:
        if _api_answers(url):  # already serving: a second server could not bind the port
            emit({"url": url, "docs": f"{url}/docs", "started": False}, as_json)
            return
        args = ["serve", "--host", host, "--port", str(port)]
        pid = background.spawn(args, settings.data_dir, "api", lambda: _api_answers(url))
        emit({"url": url, "docs": f"{url}/docs", "started": True, "pid": pid}, as_json)
        return
    import uvicorn

    from debtledger.api.app import create_app
    from debtledger.collection.keeper import Keeper
    from debtledger.coordination.monitor import Monitor
    from debtledger.evidence.service import EvidenceService
    from debtledger.privacy.service import PrivacyService

    rt = Runtime(settings)
    indexer = rt.indexer  # migrations ran, the deployment is known
    stopping = threading.Event()
    workers = [
        threading.Thread(target=indexer.follow, args=(stopping, 0.5), daemon=True),
        threading.Thread(target=EvidenceService(rt).follow, args=(stopping,), daemon=True),
        threading.Thread(target=Keeper(rt).follow, args=(stopping,), daemon=True),
        threading.Thread(target=Monitor(rt).follow, args=(stopping,), daemon=True),
        threading.Thread(
            target=_every,
            args=(
                stopping,
                settings.evidence_batch_seconds,
                PrivacyService(rt).anchor_access_trail,
            ),
            daemon=True,
        ),
    ]
    for worker in workers:
        worker.start()
    try:
        uvicorn.run(create_app(rt), host=host, port=port, log_level="warning")
    finally:
        stopping.set()
        for worker in workers:
            worker.join(timeout=10)


# ---------------------------------------------------------------------------- demo


@app.command("demo")
@handled
def demo_cmd(
    claims: Annotated[int, typer.Option(help="How many demo claims bank-a registers.")] = 1000,
    as_json: Json = False,
) -> None:
    """Load demo data: two banks, one agency, claims; show a sale and a refused second sale."""
    from debtledger.demo import run_demo

    emit(run_demo(_runtime(), claims), as_json)


def main() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":
    app()
