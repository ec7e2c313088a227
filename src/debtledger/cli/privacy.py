"""`debtledger record`, `debtledger debtor` and `debtledger privacy`: claim records with their
personal fields in the vault, disclosures by role, verification against the chain, legal
requests, erasure, exposure shares, and the access trail (listed and anchored).

Personal fields are read from a JSON file (or standard input), never from the command line,
where the shell's history would keep them.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from debtledger.access.service import Principal
from debtledger.cli.common import As, Claim, IdemKey, Json, new_key, runtime
from debtledger.cli.output import emit, handled
from debtledger.domain.claims import parse_claim_id
from debtledger.errors import InvalidInput
from debtledger.orgs.service import OrgService
from debtledger.privacy.aggregation import DEFAULT_KEY_BITS, MAX_KEY_BITS, MIN_KEY_BITS
from debtledger.privacy.records import Disclosure
from debtledger.privacy.service import PrivacyService, parse_pseudonym
from debtledger.privacy.trail import MAX_LIST
from debtledger.runtime import Runtime

record_app = typer.Typer(
    help="Claim records: register (personal fields to the vault), show by role, verify.",
    no_args_is_help=True,
)
debtor_app = typer.Typer(
    help="Debtors by pseudonym: erase personal data, exposure shares.", no_args_is_help=True
)
privacy_app = typer.Typer(
    help="The access trail of personal data: list it, anchor it.", no_args_is_help=True
)

Role = Annotated[
    str | None,
    typer.Option("--role", help="The role to act in, when the organisation holds several."),
]
Debtor = Annotated[str, typer.Argument(help="Debtor pseudonym: 0x + 64 hex digits.")]
ACTING_ROLES = ("CREDITOR", "AGENCY", "COURT", "REGULATOR", "GATEWAY")


def _principal(rt: Runtime, org: str, role: str | None) -> Principal:
    """The organisation `org` (whose key this service holds) acting in one of its on-chain
    roles."""
    orgs = OrgService(rt)
    address = orgs.account(org).address
    held = [r for r in orgs.roles_of(address) if r in ACTING_ROLES]
    if role is not None:
        if role.upper() not in held:
            raise InvalidInput(f"{org} does not hold the role {role.upper()}", field="role")
        return Principal(org, "cli", role.upper(), address, "cli")
    if len(held) != 1:
        roles = ", ".join(held) or "none"
        raise InvalidInput(f"{org} holds the roles {roles}: choose one with --role", field="role")
    return Principal(org, "cli", held[0], address, "cli")


def _read_json(path: Path, field: str) -> Any:
    text = sys.stdin.read() if str(path) == "-" else _read(path, field)
    try:
        return json.loads(text)
    except ValueError:
        raise InvalidInput("not valid JSON", field=field) from None


def _read(path: Path, field: str) -> str:
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}", field=field)
    return path.read_text(encoding="utf-8")


# ---------------------------------------------------------------------------- record


@record_app.command("register")
@handled
def record_register(
    ref: Annotated[str, typer.Argument(help="The creditor's reference for the claim.")],
    org: As,
    file: Annotated[
        Path,
        typer.Option(
            "--file",
            help="JSON object of the record's fields (debtor_name, national_id, phone, email, "
            "address, contract_no, principal_fen, outstanding_fen, currency, due_date, "
            "contract_doc_hash); '-' reads standard input.",
        ),
    ],
    as_json: Json = False,
    idem: IdemKey = None,
) -> None:
    """Register a claim with its record: personal fields to the vault, the claim on chain
    with the debtor's pseudonym and the record hash."""
    fields = _read_json(file, "file")
    if not isinstance(fields, dict):
        raise InvalidInput("must hold one JSON object of fields", field="file")
    fields.pop("claim_ref", None)
    done = PrivacyService(runtime()).register_record(
        org, ref, fields, idem_key=new_key(idem, "record")
    )
    emit(done.to_json(), as_json)


@record_app.command("show")
@handled
def record_show(
    claim: Claim,
    org: As,
    role: Role = None,
    non_personal: Annotated[
        bool, typer.Option("--non-personal", help="Only the non-personal fields.")
    ] = False,
    case_ref: Annotated[
        str | None, typer.Option("--case", help="A court's legal request to read under.")
    ] = None,
    as_json: Json = False,
) -> None:
    """A claim's record as the organisation's role may see it; personal fields are read
    from the vault and each read is recorded."""
    rt = runtime()
    view = PrivacyService(rt).disclosure(
        _principal(rt, org, role),
        parse_claim_id(claim),
        personal=not non_personal,
        case_ref=case_ref,
    )
    emit(view.to_json(), as_json)


@record_app.command("verify")
@handled
def record_verify(
    file: Annotated[
        Path,
        typer.Argument(help="A disclosure, or a record as `record show --json` prints it."),
    ],
    signature: Annotated[
        str | None, typer.Option(help="The creditor's signature (0x + 130 hex digits).")
    ] = None,
    as_json: Json = False,
) -> None:
    """Check a disclosure against the claim's record hash on chain, and the signature
    against the claim's registrant; exit code 1 when either does not hold."""
    data = _read_json(file, "file")
    if isinstance(data, dict) and "disclosure" in data:
        signature = signature or data.get("signature")
        data = data["disclosure"]
    sig = None
    if signature is not None:
        text = str(signature)
        if not (text.startswith("0x") and len(text) == 132):
            raise InvalidInput("must be 0x followed by 130 hex digits", field="signature")
        try:
            sig = bytes.fromhex(text[2:])
        except ValueError:
            raise InvalidInput("must be 0x followed by 130 hex digits", field="signature") from None
    emit(PrivacyService(runtime()).verify(Disclosure.from_json(data), sig), as_json)


@record_app.command("legal-request")
@handled
def record_legal_request(
    claim: Claim,
    org: As,
    case_ref: Annotated[str, typer.Option("--case", help="The court's case reference.")],
    reason: Annotated[str, typer.Option(help="Why the court needs the personal fields.")],
    as_json: Json = False,
) -> None:
    """A court's request for a claim's personal fields, recorded and anchored as evidence."""
    rt = runtime()
    request = PrivacyService(rt).legal_request(
        _principal(rt, org, "COURT"), parse_claim_id(claim), case_ref, reason
    )
    emit(request.to_json(), as_json)


# ---------------------------------------------------------------------------- debtor


@debtor_app.command("erase")
@handled
def debtor_erase(
    debtor: Debtor,
    org: Annotated[
        str | None, typer.Option("--as", help="A creditor owning a claim of the debtor.")
    ] = None,
    admin: Annotated[
        bool, typer.Option("--admin", help="As the consortium admin (its key must be here).")
    ] = False,
    anchor_as: Annotated[
        str | None,
        typer.Option("--anchor-as", help="With --admin: the organisation that anchors it."),
    ] = None,
    as_json: Json = False,
) -> None:
    """Erase a debtor's personal data (the right to deletion) and anchor the erasure as
    evidence; its non-personal records still verify."""
    rt = runtime()
    service = PrivacyService(rt)
    pseudonym = parse_pseudonym(debtor)
    if admin:
        if not anchor_as:
            raise InvalidInput("--admin needs --anchor-as ORG", field="anchor_as")
        done = service.erase_as_admin(pseudonym, anchor_as=anchor_as)
    else:
        if not org:
            raise InvalidInput("give --as ORG (or --admin)", field="as")
        done = service.erase(_principal(rt, org, "CREDITOR"), pseudonym)
    emit(done.to_json(), as_json)


@debtor_app.command("exposure")
@handled
def debtor_exposure(
    debtor: Debtor,
    org: As,
    currency: str = "CNY",
    key_bits: Annotated[
        int,
        typer.Option(
            min=MIN_KEY_BITS, max=MAX_KEY_BITS, help="Paillier key size of the round (bits)."
        ),
    ] = DEFAULT_KEY_BITS,
    as_json: Json = False,
) -> None:
    """Your share of the debtor's exposure across creditors, by a Paillier round: you learn
    your share and how many creditors there are, not their amounts."""
    rt = runtime()
    done = PrivacyService(rt, key_bits=key_bits).exposure(
        _principal(rt, org, "CREDITOR"), parse_pseudonym(debtor), currency=currency
    )
    emit(done.to_json(), as_json)


# ---------------------------------------------------------------------------- privacy


def _when(value: str | None, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput("must be an ISO 8601 time with a zone", field=field) from None
    if when.tzinfo is None:
        raise InvalidInput("must have a time zone (e.g. +08:00 or Z)", field=field)
    return when


@privacy_app.command("access-log")
@handled
def privacy_access_log(
    since: Annotated[str | None, typer.Option(help="From this time (ISO 8601, zoned).")] = None,
    until: Annotated[str | None, typer.Option(help="Before this time.")] = None,
    debtor: Annotated[str | None, typer.Option(help="Only this debtor pseudonym.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=MAX_LIST)] = 100,
    after: Annotated[int | None, typer.Option(help="After this record id (paging).")] = None,
    as_json: Json = False,
) -> None:
    """Every read of personal data in this store, with where each record is anchored."""
    rows = PrivacyService(runtime()).access_records(
        since=_when(since, "since"),
        until=_when(until, "until"),
        debtor=parse_pseudonym(debtor) if debtor else None,
        limit=limit,
        after=after,
    )
    emit(
        rows,
        as_json,
        lambda rs: "\n".join(
            f"{r['id']:>6}  {r['accessed_at']}  {r['actor_org']:<12} {r['field']:<12} "
            f"{r['purpose']}  {'anchored' if r['anchored'] else 'waiting'}"
            for r in rs
        ),
    )


@privacy_app.command("anchor-trail")
@handled
def privacy_anchor_trail(as_json: Json = False) -> None:
    """Anchor every access record not yet anchored (each exactly once) as evidence."""
    emit(PrivacyService(runtime()).anchor_access_trail().to_json(), as_json)
