"""`debtledger policy | collection | plan | keeper`: collection policies, claims under
collection, repayment plans and the keeper. Thin commands over the collection services."""

from __future__ import annotations

import signal
import threading
from datetime import date
from typing import Annotated, Any

import typer

from debtledger.cli.common import As, Claim, IdemKey, Json, runtime
from debtledger.cli.common import new_key as _key
from debtledger.cli.common import tx_summary as _tx
from debtledger.cli.output import emit, handled
from debtledger.collection.engine import (
    CollectionService,
    derive_policy,
    parse_tz_offset,
)
from debtledger.collection.keeper import Keeper
from debtledger.collection.plans import PlanService, build_schedule
from debtledger.domain.claims import parse_amount, parse_bytes32, parse_claim_id, parse_date
from debtledger.errors import InvalidInput

policy_app = typer.Typer(
    help="Collection policies: the consortium's presets and creditors' own.", no_args_is_help=True
)
collection_app = typer.Typer(
    help="Claims under collection: enrolment, stage, allowed contacts, strategies.",
    no_args_is_help=True,
)
plan_app = typer.Typer(help="Repayment plans: propose, consent, pay, check.", no_args_is_help=True)
keeper_app = typer.Typer(help="The keeper: advances stages, checks plans, sends reminders.")


def _minutes(text: str, field: str) -> int:
    """ "08:00" → 480 (minutes after midnight; "24:00" is the end of the day)."""
    try:
        hours, minutes = text.split(":")
        value = int(hours) * 60 + int(minutes)
    except ValueError:
        raise InvalidInput("give a time as HH:MM", field=field) from None
    if not 0 <= int(minutes) < 60 or not 0 <= value <= 24 * 60:
        raise InvalidInput("give a time as HH:MM", field=field)
    return value


def _ints(text: str, field: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise InvalidInput("give whole numbers separated by commas", field=field) from None


# ---------------------------------------------------------------------------- policy


def _policy_line(p: dict[str, Any]) -> str:
    kind = "preset" if p["preset"] else f"own ({p['owner_name']})"
    return f"{p['name'] or p['policy_id']:<24} {kind:<24} {p['policy_id']}"


@policy_app.command("list")
@handled
def policy_list(
    org: Annotated[
        str | None, typer.Option("--as", help="Also list this creditor's own policies.")
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Every policy on chain.")] = False,
    as_json: Json = False,
) -> None:
    """The consortium's presets, and a creditor's own policies."""
    rows = CollectionService(runtime()).policies(org, every=every)
    emit(rows, as_json, lambda rs: "\n".join(_policy_line(r) for r in rs))


@policy_app.command("show")
@handled
def policy_show(
    name: Annotated[str, typer.Argument(help="Policy name or 0x id.")], as_json: Json = False
) -> None:
    """A policy's rules as the chain holds them."""
    emit(CollectionService(runtime()).show_policy(name), as_json)


@policy_app.command("create")
@handled
def policy_create(
    name: Annotated[str, typer.Argument(help="The new policy's name (its id is its hash).")],
    org: As,
    based_on: Annotated[str, typer.Option(help="The preset it starts from.")] = "cn-cba-2026",
    stage_days: Annotated[
        str | None, typer.Option(help="First day past due of stages 1-4, e.g. 1,8,31,91.")
    ] = None,
    contact_start: Annotated[
        str | None, typer.Option(help="Contacts from HH:MM, debtor's time.")
    ] = None,
    contact_end: Annotated[
        str | None, typer.Option(help="Contacts until HH:MM (excluded).")
    ] = None,
    max_daily: Annotated[int | None, typer.Option(help="Capped contacts a day (0-7).")] = None,
    max_weekly: Annotated[int | None, typer.Option(help="Capped contacts in 7 days.")] = None,
    cooling_off_hours: Annotated[
        int | None, typer.Option(help="Hours without capped contacts after a conversation.")
    ] = None,
    third_party_after: Annotated[
        int | None, typer.Option(help="Unanswered attempts before third parties.")
    ] = None,
    credit_report_wait_days: Annotated[int | None, typer.Option()] = None,
    legal_min_stage: Annotated[int | None, typer.Option()] = None,
    limitation_days: Annotated[int | None, typer.Option()] = None,
    as_json: Json = False,
    idem: IdemKey = None,
) -> None:
    """Create (or change) a creditor's own policy from a preset and changes to it."""
    changes: dict[str, Any] = {}
    if stage_days is not None:
        changes["stage_days"] = _ints(stage_days, "stage_days")
    if contact_start is not None:
        changes["contact_start"] = _minutes(contact_start, "contact_start")
    if contact_end is not None:
        changes["contact_end"] = _minutes(contact_end, "contact_end")
    if cooling_off_hours is not None:
        changes["cooling_off_seconds"] = cooling_off_hours * 3600
    for field, value in (
        ("max_daily", max_daily),
        ("max_weekly", max_weekly),
        ("third_party_after", third_party_after),
        ("credit_report_wait_days", credit_report_wait_days),
        ("legal_min_stage", legal_min_stage),
        ("limitation_days", limitation_days),
    ):
        if value is not None:
            changes[field] = value
    rules = derive_policy(name, based_on=based_on, **changes)
    service = CollectionService(runtime())
    entry = service.create_policy(org, rules, idem_key=_key(idem, "policy"))
    emit({"policy_id": "0x" + rules.policy_id.hex(), "name": name, **_tx(entry)}, as_json)


# ---------------------------------------------------------------------------- collection


@collection_app.command("enrol")
@handled
def collection_enrol(
    claim: Claim,
    org: As,
    policy: Annotated[str, typer.Option(help="A preset or your own policy (name or 0x id).")],
    tz: Annotated[
        str, typer.Option("--tz", help="The debtor's UTC offset, e.g. +08:00 (or minutes).")
    ] = "+08:00",
    as_json: Json = False,
    idem: IdemKey = None,
) -> None:
    """Put a claim you own under a collection policy, for a debtor in a time zone."""
    entry = CollectionService(runtime()).enrol(
        parse_claim_id(claim),
        org,
        policy=policy,
        tz_offset_minutes=parse_tz_offset(tz),
        idem_key=_key(idem, "enrol"),
    )
    emit(_tx(entry), as_json)


def _status_text(s: dict[str, Any]) -> str:
    if not s["enrolled"]:
        return f"{s['claim_id']}: not enrolled"
    lines = [
        f"{s['claim_id']}  policy {s['policy'] or s['policy_id']}",
        f"stage {s['stage']} ({s['stage_name']}), {s['days_past_due']} days past due"
        + (", paused by a repayment plan" if s["paused"] else ""),
        f"debtor's time {s['local_time']}; contacts for {s['requester_name']}:",
    ]
    for a in s["actions"]:
        verdict = "allowed" if a["allowed"] else f"refused: {a['rule']}"
        lines.append(f"  {a['channel']:<6} {a['kind']:<14} {verdict}")
    return "\n".join(lines)


@collection_app.command("status")
@handled
def collection_status(
    claim: Claim,
    org: Annotated[
        str | None,
        typer.Option("--as", help="Whose contacts to check; default: mandated agency, else owner."),
    ] = None,
    as_json: Json = False,
) -> None:
    """Where a claim stands now: stage, days past due, and each contact allowed or the rule
    that refuses it."""
    emit(
        CollectionService(runtime()).status(parse_claim_id(claim), requester=org),
        as_json,
        _status_text,
    )


@collection_app.command("strategy")
@handled
def collection_strategy(
    claim: Claim,
    grade: Annotated[str, typer.Option(help="The debtor's credit grade, A (best) to E.")],
    as_json: Json = False,
) -> None:
    """What the grade's strategy suggests now: channels, contacts a week, instalment offer."""
    emit(CollectionService(runtime()).strategy(parse_claim_id(claim), grade), as_json)


@collection_app.command("outcome")
@handled
def collection_outcome(
    contact_id: Annotated[int, typer.Argument(help="The contact id the chain gave.")],
    org: As,
    outcome: Annotated[
        str, typer.Option(help="answered, unanswered, conversation or promise_to_pay.")
    ],
    as_json: Json = False,
    idem: IdemKey = None,
) -> None:
    """Record how an authorised contact went."""
    entry = CollectionService(runtime()).record_outcome(
        org, contact_id, outcome, idem_key=_key(idem, "outcome")
    )
    emit(_tx(entry), as_json)


# ---------------------------------------------------------------------------- plan


def _instalment(text: str) -> tuple[date, int]:
    day, sep, amount = text.partition(":")
    if not sep:
        raise InvalidInput("give an instalment as YYYY-MM-DD:FEN", field="instalment")
    return parse_date(day, "instalment"), parse_amount(amount, "instalment", positive=True)


@plan_app.command("propose")
@handled
def plan_propose(
    claim: Claim,
    org: As,
    kind: Annotated[str, typer.Option(help="equal, custom or seasonal.")] = "equal",
    total_fen: Annotated[str | None, typer.Option(help="What the plan pays, in fen.")] = None,
    count: Annotated[int | None, typer.Option(help="Number of instalments.")] = None,
    first: Annotated[str | None, typer.Option(help="First due date, YYYY-MM-DD.")] = None,
    every_months: Annotated[int, typer.Option(help="Months between instalments.")] = 1,
    months: Annotated[
        str | None, typer.Option(help="Seasonal: the months instalments fall in, e.g. 9,10,11.")
    ] = None,
    instalment: Annotated[
        list[str] | None, typer.Option(help="Custom: YYYY-MM-DD:FEN, once per instalment.")
    ] = None,
    grace_days: Annotated[int, typer.Option(help="Days after a due date before it is missed.")] = 5,
    as_json: Json = False,
    idem: IdemKey = None,
) -> None:
    """Offer the debtor an instalment plan for a claim you own."""
    schedule = build_schedule(
        kind,
        total=parse_amount(total_fen, "total_fen", positive=True) if total_fen else None,
        count=count,
        first=parse_date(first, "first") if first else None,
        every_months=every_months,
        months=_ints(months, "months") if months else (),
        items=[_instalment(i) for i in instalment or []],
    )
    service = PlanService(runtime())
    cid = parse_claim_id(claim)
    entry = service.propose(cid, org, schedule, grace_days=grace_days, idem_key=_key(idem, "plan"))
    emit({**_tx(entry), "plan": service.show(cid)}, as_json)


@plan_app.command("consent")
@handled
def plan_consent(
    claim: Claim,
    schedule_hash: Annotated[str, typer.Option(help="The proposal's schedule hash (0x…).")],
    statement: Annotated[str, typer.Option(help="The debtor's consent as received.")],
    org: Annotated[
        str | None, typer.Option("--as", help="The gateway organisation; default: the one here.")
    ] = None,
    as_json: Json = False,
    idem: IdemKey = None,
) -> None:
    """Record the debtor's consent to the proposed plan (gateway): collection pauses."""
    entry = PlanService(runtime()).consent(
        parse_claim_id(claim),
        schedule_hash=parse_bytes32(schedule_hash, "schedule_hash"),
        statement=statement,
        gateway=org,
        idem_key=_key(idem, "consent"),
    )
    emit(_tx(entry), as_json)


@plan_app.command("pay")
@handled
def plan_pay(
    claim: Claim,
    org: As,
    amount_fen: Annotated[str, typer.Option(help="Amount paid, in fen.")],
    receipt: Annotated[str, typer.Option(help="Payment receipt reference (hashed).")] = "",
    as_json: Json = False,
    idem: IdemKey = None,
) -> None:
    """Record a payment under the claim's active plan (gateway or owner)."""
    amount = parse_amount(amount_fen, "amount_fen", positive=True)
    entry = PlanService(runtime()).pay(
        parse_claim_id(claim), org, amount, receipt, idem_key=_key(idem, "plan-pay")
    )
    emit(_tx(entry), as_json)


@plan_app.command("show")
@handled
def plan_show(claim: Claim, as_json: Json = False) -> None:
    """The claim's plan: state and instalments."""
    emit(PlanService(runtime()).show(parse_claim_id(claim)), as_json)


@plan_app.command("check")
@handled
def plan_check(
    claim: Claim,
    org: Annotated[
        str | None, typer.Option("--as", help="Who sends it; default: the keeper organisation.")
    ] = None,
    as_json: Json = False,
    idem: IdemKey = None,
) -> None:
    """Break the plan now if its next instalment is unpaid past its grace days."""
    rt = runtime()
    cid = parse_claim_id(claim)
    service = PlanService(rt)
    entry = service.check_missed(cid, org or Keeper(rt).org, idem_key=_key(idem, "check"))
    emit({**_tx(entry), "state": service.show(cid)["state"]}, as_json)


# ---------------------------------------------------------------------------- keeper


@keeper_app.callback(invoke_without_command=True)
@handled
def keeper_run(
    once: Annotated[bool, typer.Option("--once", help="One pass, then exit.")] = False,
    org: Annotated[
        str | None, typer.Option("--as", help="The keeper organisation; default: the one here.")
    ] = None,
    poll_s: Annotated[float, typer.Option(help="Seconds between passes.")] = 5.0,
    as_json: Json = False,
) -> None:
    """Advance stages, check plans and send first-overdue reminders: once, or every
    --poll-s seconds until stopped."""
    keeper = Keeper(runtime(), org=org)
    if once:
        emit(keeper.run_once(), as_json)
        return
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    emit({"passes": keeper.follow(stop, poll_s)}, as_json)
