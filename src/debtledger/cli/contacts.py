"""`debtledger contact`: have the masked gateway contact a claim's debtor, and list a claim's
contacts. What is printed never holds the debtor's address, number or name."""

from __future__ import annotations

import re
from typing import Annotated, Any

import typer

from debtledger.cli.common import As, Claim, IdemKey, Json, runtime
from debtledger.cli.output import emit, handled
from debtledger.collection.gateway import ContactService
from debtledger.domain.claims import parse_claim_id
from debtledger.errors import InvalidInput
from debtledger.orgs.service import OrgService
from debtledger.runtime import Runtime

contact_app = typer.Typer(
    help="Contacts with debtors through the masked gateway.", no_args_is_help=True
)
Role = Annotated[
    str | None,
    typer.Option(help="The role the organisation acts in; default: its AGENCY or CREDITOR role."),
]
_HEX_ID = re.compile(r"^0x[0-9a-fA-F]{64}$")
# The role an organisation acts in when it holds several and none is named: collecting is
# the agency's job, the owner's otherwise.
_PREFERRED = ("AGENCY", "CREDITOR", "COURT", "REGULATOR", "GATEWAY")


def _role(rt: Runtime, org: str, given: str | None) -> str:
    if given:
        return given.upper()
    held = OrgService(rt).roles_of(OrgService(rt).address(org))
    for role in _PREFERRED:
        if role in held:
            return role
    raise InvalidInput(f"{org} holds none of the roles {', '.join(_PREFERRED)}", field="as")


def _line(c: dict[str, Any]) -> str:
    return (
        f"{c['at']}  {c['channel']:<5} {c['template_id']:<18} {c['status']:<6} "
        f"{c['outcome'] or '-':<14} {c['requester']}  {c['contact_id']}"
    )


@contact_app.command("send")
@handled
def contact_send(
    claim: Claim,
    org: As,
    channel: Annotated[str, typer.Option(help="email, sms or voice.")],
    template: Annotated[str, typer.Option(help="Template id, e.g. reminder-1.")],
    outcome: Annotated[
        str | None,
        typer.Option(help="How the call went (voice): answered, unanswered, conversation, …"),
    ] = None,
    lang: Annotated[str, typer.Option(help="The debtor's language: zh or en.")] = "zh",
    pay_url: Annotated[
        str | None, typer.Option(help="Where the debtor pays; default: the ledger's page.")
    ] = None,
    role: Role = None,
    as_json: Json = False,
    idem: IdemKey = None,
) -> None:
    """Contact a claim's debtor through the gateway (a mandated agency or the claim's owner)."""
    rt = runtime()
    claim_id = parse_claim_id(claim)
    variables: dict[str, str] = {}
    if not _HEX_ID.match(claim):
        variables["claim_ref"] = claim  # the debtor reads the creditor's reference
    if pay_url is not None:
        variables["pay_url"] = pay_url
    record = ContactService(rt).contact(
        (org, _role(rt, org, role)),
        claim_id,
        channel,
        template,
        variables=variables,
        outcome=outcome,
        lang=lang,
        idem_key=idem,
    )
    emit(record, as_json)


@contact_app.command("list")
@handled
def contact_list(
    claim: Claim,
    org: Annotated[
        str | None,
        typer.Option("--as", help="List as this organisation; default: the gateway."),
    ] = None,
    role: Role = None,
    as_json: Json = False,
) -> None:
    """A claim's contacts, oldest first: when, how, which template, how it went."""
    rt = runtime()
    service = ContactService(rt)
    who = (org, _role(rt, org, role)) if org else (service.gateway, "GATEWAY")
    rows = service.contacts(who, parse_claim_id(claim))
    emit(rows, as_json, lambda rs: "\n".join(_line(r) for r in rs) or "no contacts")
