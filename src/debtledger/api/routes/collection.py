"""Collection: policies, enrolment, where a claim stands and which contacts it allows,
repayment plans, and outcomes of contacts. A regulator's keys read, never write."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from debtledger.access.service import Principal
from debtledger.api.deps import CurrentPrincipal, RuntimeDep
from debtledger.api.routes.claims import ACCEPTED, ClaimRef, IdempotencyKey, operation
from debtledger.api.schemas import OperationPublic
from debtledger.collection.engine import CollectionService, derive_policy
from debtledger.collection.plans import PlanService, build_schedule
from debtledger.domain.claims import parse_bytes32, parse_claim_id
from debtledger.errors import Forbidden, NotFound
from debtledger.runtime import Runtime
from debtledger.store.outbox import Entry

router = APIRouter(tags=["collection"])

PolicyName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]
ChannelName = Literal["sms", "email", "voice", "letter", "visit"]
KindName = Literal["reminder", "collection", "third-party", "credit-report", "legal"]


# ---------------------------------------------------------------------------- schemas


class PolicyCreate(BaseModel):
    """A creditor's own policy: a preset's rules with the changes given (omitted fields keep
    the preset's value). Channels and kinds are listed per stage 0-4."""

    model_config = ConfigDict(extra="forbid")

    name: PolicyName
    based_on: Literal["cn-cba-2026", "us-reg-f"] = "cn-cba-2026"
    stage_days: Annotated[list[int], Field(min_length=4, max_length=4)] | None = None
    channels: Annotated[list[list[ChannelName]], Field(min_length=5, max_length=5)] | None = None
    kinds: Annotated[list[list[KindName]], Field(min_length=5, max_length=5)] | None = None
    contact_start: (
        Annotated[int, Field(ge=0, lt=1440, description="Minutes after midnight")] | None
    ) = None
    contact_end: Annotated[int, Field(gt=0, le=1440)] | None = None
    max_daily: Annotated[int, Field(ge=0, le=7)] | None = None
    max_weekly: Annotated[int, Field(ge=0, le=7)] | None = None
    capped_channels: list[ChannelName] | None = None
    cooling_off_seconds: Annotated[int, Field(ge=0, lt=2**32)] | None = None
    third_party_after: Annotated[int, Field(ge=0, le=255)] | None = None
    credit_report_wait_days: Annotated[int, Field(ge=0, lt=2**16)] | None = None
    legal_min_stage: Annotated[int, Field(ge=0, le=4)] | None = None
    limitation_days: Annotated[int, Field(ge=0, lt=2**16)] | None = None


class PolicyPublic(BaseModel):
    """A policy as the chain holds it; `name` is known for presets and policies made here."""

    policy_id: str
    name: str | None
    preset: bool
    owner: str | None
    owner_name: str | None
    rules: dict[str, Any]


class EnrolmentCreate(BaseModel):
    """Put the claim under a policy, for a debtor `tz_offset_minutes` east of UTC."""

    model_config = ConfigDict(extra="forbid")

    policy: Annotated[str, Field(min_length=1, max_length=66, description="Name or 0x id")]
    tz_offset_minutes: Annotated[int, Field(ge=-720, le=840, description="+480: UTC+8")]


class ActionPublic(BaseModel):
    channel: str
    kind: str
    allowed: bool
    rule: str | None


class CollectionContactPublic(BaseModel):
    contact_id: int
    agency: str
    channel: str
    kind: str
    at: str
    outcome: str | None


class CollectionPublic(BaseModel):
    """Where a claim stands now, and for each channel and kind whether a contact for
    `requester` would be authorised or the rule that refuses it."""

    claim_id: str
    enrolled: bool
    as_of: str
    requester: str
    requester_name: str
    actions: list[ActionPublic]
    policy_id: str | None = None
    policy: str | None = None
    tz_offset_minutes: int | None = None
    local_time: str | None = None
    due_date: str | None = None
    stage: int | None = None
    stage_name: str | None = None
    stored_stage: int | None = None
    days_past_due: int | None = None
    paused: bool | None = None
    paused_since: int | None = None
    paused_seconds: int | None = None
    failed_attempts: int | None = None
    first_contact: int | None = None
    contacts: list[CollectionContactPublic] = []


class InstalmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    due: date
    amount_fen: Annotated[int, Field(strict=True, gt=0, lt=2**88)]


class PlanCreate(BaseModel):
    """An instalment plan to offer: equal (total in `count` instalments from `first_due`),
    custom (the instalments listed) or seasonal (total in `count` instalments falling in
    `months`)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["equal", "custom", "seasonal"] = "equal"
    total_fen: Annotated[int, Field(strict=True, gt=0, lt=2**128)] | None = None
    count: Annotated[int, Field(ge=1, le=60)] | None = None
    first_due: date | None = None
    every_months: Annotated[int, Field(ge=1, le=12)] = 1
    months: Annotated[list[Annotated[int, Field(ge=1, le=12)]], Field(max_length=12)] = []
    instalments: Annotated[list[InstalmentCreate], Field(max_length=60)] = []
    grace_days: Annotated[int, Field(ge=0, le=365)] = 5


class ConsentCreate(BaseModel):
    """The debtor's consent, as the gateway received it, to the schedule it was shown."""

    model_config = ConfigDict(extra="forbid")

    schedule_hash: Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{64}$")]
    statement: Annotated[str, Field(min_length=1, max_length=2000)]


class PlanPaymentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount_fen: Annotated[int, Field(strict=True, gt=0, lt=2**128)]
    receipt: Annotated[str, Field(max_length=500)] = ""


class InstalmentPublic(BaseModel):
    seq: int
    due_date: str
    due_at: int
    missed_after: str
    amount_fen: int
    paid: bool


class PlanPublic(BaseModel):
    """A claim's repayment plan (state "none": never had one)."""

    claim_id: str
    state: str
    instalments: list[InstalmentPublic]
    count: int
    next_instalment: int | None
    paid_into_next_fen: int
    grace_days: int
    schedule_hash: str
    tz_offset_minutes: int


class OutcomeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["answered", "unanswered", "conversation", "promise_to_pay"]


# ---------------------------------------------------------------------------- helpers


class _Write:
    """Refuse read-only roles, derive the idempotency key, answer 202 with the operation."""

    def __init__(
        self,
        rt: RuntimeDep,
        principal: CurrentPrincipal,
        response: Response,
        key: IdempotencyKey = None,
    ):
        if principal.role == "REGULATOR":
            raise Forbidden("a regulator's API keys are read-only")
        self.rt = rt
        self.principal = principal
        self.org = principal.org
        self.key = key
        self.response = response

    def idem(self, action: str) -> str:
        if self.key:
            return f"api:{self.org}:{self.key}"
        return f"api:{self.org}:{action}:{uuid.uuid4()}"

    def need(self, *roles: str) -> None:
        if self.principal.role not in roles:
            raise Forbidden(f"a {self.principal.role} may not do this ({' or '.join(roles)} may)")

    def accepted(self, entry: Entry) -> OperationPublic:
        self.response.status_code = 202
        self.response.headers["Location"] = f"/operations/{entry.id}"
        return operation(entry)


WriteDep = Annotated[_Write, Depends(_Write)]


def _check_reader(rt: Runtime, principal: Principal, claim_id: bytes) -> None:
    """The claim's owner, its mandated agency, courts, regulators and the gateway may read
    its collection state; for anyone else it does not exist."""
    try:
        CollectionService(rt).check_reader(principal.role, principal.address, claim_id)
    except NotFound:
        raise NotFound(f"no claim 0x{claim_id.hex()} visible to {principal.org}") from None


# ---------------------------------------------------------------------------- policies


@router.get("/policies", response_model=list[PolicyPublic])
def list_policies(rt: RuntimeDep, principal: CurrentPrincipal) -> list[PolicyPublic]:
    """The consortium's presets and the caller's own policies (every policy for courts and
    regulators)."""
    service = CollectionService(rt)
    every = principal.role in ("COURT", "REGULATOR")
    owner = principal.address if principal.role == "CREDITOR" else None
    return [PolicyPublic(**p) for p in service.policies(owner, every=every)]


@router.get(
    "/policies/{policy}", response_model=PolicyPublic, responses={404: {"description": "None"}}
)
def show_policy(
    rt: RuntimeDep,
    principal: CurrentPrincipal,
    policy: Annotated[str, Path(max_length=66, description="Policy name or 0x id")],
) -> PolicyPublic:
    """One policy's rules as the chain holds them."""
    return PolicyPublic(**CollectionService(rt).show_policy(policy))


@router.post("/policies", status_code=202, response_model=OperationPublic, responses=ACCEPTED)
def create_policy(w: WriteDep, body: PolicyCreate) -> OperationPublic:
    """Create or change the caller's own policy (creditors), from a preset and changes."""
    w.need("CREDITOR")
    changes = body.model_dump(exclude_none=True, exclude={"name", "based_on"})
    rules = derive_policy(body.name, based_on=body.based_on, **changes)
    service = CollectionService(w.rt, wait=False)
    return w.accepted(service.create_policy(w.org, rules, idem_key=w.idem("policy")))


# ---------------------------------------------------------------------------- claims


@router.post(
    "/claims/{claim}/enrolment", status_code=202, response_model=OperationPublic, responses=ACCEPTED
)
def enrol_claim(w: WriteDep, claim: ClaimRef, body: EnrolmentCreate) -> OperationPublic:
    """Put a claim the caller owns under a policy (a preset or its own)."""
    w.need("CREDITOR")
    entry = CollectionService(w.rt, wait=False).enrol(
        parse_claim_id(claim),
        w.org,
        policy=body.policy,
        tz_offset_minutes=body.tz_offset_minutes,
        idem_key=w.idem("enrol"),
    )
    return w.accepted(entry)


@router.get(
    "/claims/{claim}/collection",
    response_model=CollectionPublic,
    responses={404: {"description": "Not found"}},
)
def claim_collection(
    rt: RuntimeDep, principal: CurrentPrincipal, claim: ClaimRef
) -> CollectionPublic:
    """Stage, days past due and, for each channel and kind, whether a contact for the caller
    (an agency or owner; for others the mandated agency, else the owner) is allowed now or
    the rule that refuses it."""
    claim_id = parse_claim_id(claim)
    _check_reader(rt, principal, claim_id)
    requester = principal.address if principal.role in ("AGENCY", "CREDITOR") else None
    return CollectionPublic(**CollectionService(rt).status(claim_id, requester=requester))


@router.get("/claims/{claim}/collection/strategy", responses={404: {"description": "Not found"}})
def claim_strategy(
    rt: RuntimeDep,
    principal: CurrentPrincipal,
    claim: ClaimRef,
    grade: Annotated[Literal["A", "B", "C", "D", "E"], Query(description="Credit grade")],
) -> dict[str, Any]:
    """What the grade's strategy suggests for the claim now."""
    claim_id = parse_claim_id(claim)
    _check_reader(rt, principal, claim_id)
    return CollectionService(rt).strategy(claim_id, grade)


@router.post(
    "/contacts/{contact_id}/outcome",
    status_code=202,
    response_model=OperationPublic,
    responses=ACCEPTED,
)
def record_outcome(
    w: WriteDep,
    contact_id: Annotated[int, Path(ge=1, description="The contact id the chain gave")],
    body: OutcomeCreate,
) -> OperationPublic:
    """Record how an authorised contact went (its agency or owner, or the gateway)."""
    w.need("AGENCY", "CREDITOR", "GATEWAY")
    entry = CollectionService(w.rt, wait=False).record_outcome(
        w.org, contact_id, body.outcome, idem_key=w.idem("outcome")
    )
    return w.accepted(entry)


# ---------------------------------------------------------------------------- plans


@router.post(
    "/claims/{claim}/plans", status_code=202, response_model=OperationPublic, responses=ACCEPTED
)
def propose_plan(w: WriteDep, claim: ClaimRef, body: PlanCreate) -> OperationPublic:
    """Offer the debtor an instalment plan (the claim's owner)."""
    w.need("CREDITOR")
    schedule = build_schedule(
        body.kind,
        total=body.total_fen,
        count=body.count,
        first=body.first_due,
        every_months=body.every_months,
        months=body.months,
        items=[(i.due, i.amount_fen) for i in body.instalments],
    )
    entry = PlanService(w.rt, wait=False).propose(
        parse_claim_id(claim), w.org, schedule, grace_days=body.grace_days, idem_key=w.idem("plan")
    )
    return w.accepted(entry)


@router.post(
    "/claims/{claim}/plans/consent",
    status_code=202,
    response_model=OperationPublic,
    responses=ACCEPTED,
)
def consent_plan(w: WriteDep, claim: ClaimRef, body: ConsentCreate) -> OperationPublic:
    """Record the debtor's consent to the proposed plan (the gateway): collection pauses."""
    w.need("GATEWAY")
    entry = PlanService(w.rt, wait=False).consent(
        parse_claim_id(claim),
        schedule_hash=parse_bytes32(body.schedule_hash, "schedule_hash"),
        statement=body.statement,
        gateway=w.org,
        idem_key=w.idem("consent"),
    )
    return w.accepted(entry)


@router.post(
    "/claims/{claim}/plans/payments",
    status_code=202,
    response_model=OperationPublic,
    responses=ACCEPTED,
)
def pay_plan(w: WriteDep, claim: ClaimRef, body: PlanPaymentCreate) -> OperationPublic:
    """Record a payment under the active plan (the gateway or the owner)."""
    w.need("GATEWAY", "CREDITOR")
    entry = PlanService(w.rt, wait=False).pay(
        parse_claim_id(claim), w.org, body.amount_fen, body.receipt, idem_key=w.idem("plan-pay")
    )
    return w.accepted(entry)


@router.get(
    "/claims/{claim}/plan", response_model=PlanPublic, responses={404: {"description": "None"}}
)
def show_plan(rt: RuntimeDep, principal: CurrentPrincipal, claim: ClaimRef) -> PlanPublic:
    """The claim's plan: state, instalments, the next one due."""
    claim_id = parse_claim_id(claim)
    _check_reader(rt, principal, claim_id)
    return PlanPublic(**PlanService(rt).show(claim_id))
