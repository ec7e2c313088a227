"""Supervision: debtors' complaints (filed by the gateway for the debtor, or a regulator;
resolved by the claim's owner or a regulator), the violations the compliance monitor found,
compliance reports (JSON, CSV, PDF) and the unified view of one debtor."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from debtledger.api.deps import CurrentPrincipal, RuntimeDep
from debtledger.api.routes.claims import IdempotencyKey
from debtledger.coordination.complaints import CATEGORIES, MAX_DETAILS, Complaints
from debtledger.coordination.monitor import KINDS_FOUND, MAX_LIST, Monitor
from debtledger.coordination.reports import Reports
from debtledger.coordination.view import DebtorView
from debtledger.domain.claims import parse_claim_id
from debtledger.errors import Forbidden
from debtledger.privacy.service import parse_pseudonym

router = APIRouter()

HEX64 = r"^0x[0-9a-fA-F]{64}$"
Debtor = Annotated[str, Path(description="Debtor pseudonym: 0x + 64 hex digits", pattern=HEX64)]
ComplaintId = Annotated[int, Path(ge=1, le=2**62)]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "Not found"}}
SUPERVISORS = ("REGULATOR", "COURT")


class ComplaintCreate(BaseModel):
    """A debtor's complaint about a claim or one of its contacts."""

    model_config = ConfigDict(extra="forbid")

    claim: Annotated[str, Field(max_length=128, description="Claim reference or 0x claim id")]
    category: Literal[CATEGORIES]  # type: ignore[valid-type]
    details: Annotated[str, Field(max_length=MAX_DETAILS, description="The debtor's words")] = ""
    contact_id: Annotated[
        str | None,
        Field(pattern=r"^ct_[0-9a-f]{32}$", description="The gateway's contact it is about"),
    ] = None


class ComplaintResolve(BaseModel):
    """How the complaint was resolved."""

    model_config = ConfigDict(extra="forbid")

    resolution: Annotated[str, Field(min_length=1, max_length=MAX_DETAILS)]


class ComplaintPublic(BaseModel):
    """A complaint, for its readers (the claim's owner, regulators, courts, the gateway)."""

    id: int
    claim_id: str
    contact_id: str | None
    contact_item_id: int | None
    creditor: str
    agency: str | None
    category: str
    details: str
    status: str
    filed_by: str
    filed_role: str
    filed_at: str | None
    resolved_by: str | None
    resolved_at: str | None
    resolution: str | None
    evidence_item_id: int | None
    resolution_item_id: int | None


class ViolationPublic(BaseModel):
    """A violation the compliance monitor found."""

    id: int
    kind: str
    claim_id: str | None
    organisation: str | None
    detail: str
    source_ref: str
    occurred_at: str | None
    detected_at: str | None


class FiguresPublic(BaseModel):
    """One organisation's compliance figures for the period."""

    role: str
    address: str
    organisation: str
    contacts: int
    refused_attempts: int
    refusal_rate: float | None
    complaints: int
    complaints_per_1000_contacts: float | None
    disputes_resolved: int
    avg_days_to_resolve_dispute: float | None


class ReportPublic(BaseModel):
    """Compliance figures per agency and per creditor for a period."""

    period_start: str
    period_end: str
    figures: list[FiguresPublic]


def _supervisor(principal: CurrentPrincipal) -> None:
    if principal.role not in SUPERVISORS:
        raise Forbidden("violations and reports are for regulators and courts")


# ---------------------------------------------------------------------------- complaints


@router.post(
    "/complaints",
    status_code=201,
    response_model=ComplaintPublic,
    responses={**NOT_FOUND, 403: {"description": "Not the gateway or a regulator"}},
    tags=["complaints"],
)
def file_complaint(
    rt: RuntimeDep, principal: CurrentPrincipal, body: ComplaintCreate, key: IdempotencyKey = None
) -> ComplaintPublic:
    """File a debtor's complaint (the gateway for the debtor, or a regulator); the claim's
    contacts pause until it is resolved."""
    filed = Complaints(rt).file(
        principal,
        parse_claim_id(body.claim),
        category=body.category,
        details=body.details,
        contact_id=body.contact_id,
        idem_key=key,
    )
    return ComplaintPublic(**filed)


@router.get("/complaints", response_model=list[ComplaintPublic], tags=["complaints"])
def list_complaints(
    rt: RuntimeDep,
    principal: CurrentPrincipal,
    claim: Annotated[str | None, Query(max_length=128)] = None,
    status: Literal["open", "resolved"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ComplaintPublic]:
    """The complaints the caller may read, newest first."""
    found = Complaints(rt).list(
        principal,
        claim_id=parse_claim_id(claim) if claim else None,
        status=status,
        limit=limit,
    )
    return [ComplaintPublic(**c) for c in found]


@router.get(
    "/complaints/{complaint}",
    response_model=ComplaintPublic,
    responses=NOT_FOUND,
    tags=["complaints"],
)
def show_complaint(
    rt: RuntimeDep, principal: CurrentPrincipal, complaint: ComplaintId
) -> ComplaintPublic:
    """One complaint."""
    return ComplaintPublic(**Complaints(rt).get(principal, complaint))


@router.post(
    "/complaints/{complaint}/resolve",
    response_model=ComplaintPublic,
    responses={**NOT_FOUND, 409: {"description": "Resolved already"}},
    tags=["complaints"],
)
def resolve_complaint(
    rt: RuntimeDep, principal: CurrentPrincipal, complaint: ComplaintId, body: ComplaintResolve
) -> ComplaintPublic:
    """Resolve a complaint (the claim's owner or a regulator); contacts resume."""
    done = Complaints(rt).resolve(principal, complaint, resolution=body.resolution)
    return ComplaintPublic(**done)


# ---------------------------------------------------------------------------- regulator


@router.get(
    "/regulator/violations",
    response_model=list[ViolationPublic],
    responses={403: {"description": "Not a regulator or a court"}},
    tags=["regulator"],
)
def list_violations(
    rt: RuntimeDep,
    principal: CurrentPrincipal,
    kind: Literal[KINDS_FOUND] | None = None,  # type: ignore[valid-type]
    claim: Annotated[str | None, Query(max_length=128)] = None,
    after: Annotated[int, Query(ge=0, description="Only violations after this id")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST)] = 100,
) -> list[ViolationPublic]:
    """Violations the compliance monitor found, oldest first (regulators and courts)."""
    _supervisor(principal)
    found = Monitor(rt).violations(
        kind=kind,
        claim_id=parse_claim_id(claim) if claim else None,
        after_id=after,
        limit=limit,
    )
    return [ViolationPublic(**v) for v in found]


@router.get(
    "/regulator/report",
    response_model=ReportPublic,
    responses={
        200: {
            "content": {"text/csv": {}, "application/pdf": {}},
            "description": "The report as JSON, CSV or PDF",
        },
        403: {"description": "Not a regulator or a court"},
    },
    tags=["regulator"],
)
def compliance_report(
    rt: RuntimeDep,
    principal: CurrentPrincipal,
    start: AwareDatetime,
    end: AwareDatetime,
    format: Literal["json", "csv", "pdf"] = "json",
) -> Any:
    """Compliance figures per agency and per creditor for [start, end) (regulators and
    courts): contacts, refusal rate, complaints per 1,000 contacts, days to resolve a
    dispute."""
    _supervisor(principal)
    reports = Reports(rt)
    report = reports.report(start, end)
    name = f"compliance-{start.date().isoformat()}-{end.date().isoformat()}"
    if format == "csv":
        return Response(
            reports.csv(report),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    if format == "pdf":
        return Response(
            reports.pdf(report),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'},
        )
    return ReportPublic(**report.to_json())


# ---------------------------------------------------------------------------- debtor view


@router.get(
    "/debtors/{debtor}/view",
    responses={**NOT_FOUND, 403: {"description": "Not a creditor, regulator or keeper"}},
    tags=["debtors"],
)
def debtor_view(rt: RuntimeDep, principal: CurrentPrincipal, debtor: Debtor) -> dict[str, Any]:
    """Every claim of one debtor across creditors: a creditor sees its own in full and the
    others as counts, stages and its exposure share; regulators and keepers see all."""
    return DebtorView(rt).view(principal, parse_pseudonym(debtor))
