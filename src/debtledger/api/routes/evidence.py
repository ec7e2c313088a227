"""Evidence: upload (streamed, any size), metadata, receipts, files, anchoring now, and a
claim's court package for courts."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path as FsPath
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel

from debtledger.api.deps import CurrentPrincipal, RuntimeDep
from debtledger.domain.claims import parse_claim_id
from debtledger.errors import Forbidden, InvalidInput
from debtledger.evidence.court import court_package as court_package_of
from debtledger.evidence.service import MAX_FILE, EvidenceService, NewItem
from debtledger.evidence.statements import KINDS

router = APIRouter(tags=["evidence"])
ClaimRef = Annotated[str, Path(description="Claim reference or 0x claim id", max_length=128)]
ItemId = Annotated[int, Path(ge=1, le=2**62)]


class EvidencePublic(BaseModel):
    id: int
    content_sha256: str
    size: int
    media_type: str
    claim_id: str | None
    kind: str
    organisation: str
    submitter: str
    submitted_at: int
    leaf_hash: str
    batch_id: int | None
    leaf_index: int | None


class BatchPublic(BaseModel):
    batch: int
    items: int
    root: str
    tx_hash: str | None
    block: int | None


@router.post("/evidence", status_code=201, response_model=EvidencePublic)
async def add_evidence(
    rt: RuntimeDep,
    principal: CurrentPrincipal,
    request: Request,
    kind: Annotated[str, Query(description=f"One of: {', '.join(KINDS)}")],
    claim: Annotated[str | None, Query(max_length=128)] = None,
) -> EvidencePublic:
    """Add one evidence file: the request body is the file (streamed to disk as it comes),
    its Content-Type the media type. Signed by the caller's organisation, anchored with
    the next batch."""
    service = EvidenceService(rt)
    claim_id = parse_claim_id(claim) if claim else None
    await run_in_threadpool(service.check_may_add, principal, claim_id)
    media_type = (request.headers.get("content-type") or "application/octet-stream").split(";")[0]
    folder = rt.settings.evidence_dir
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".upload-")
    try:
        size = 0
        with os.fdopen(fd, "wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > MAX_FILE:
                    raise InvalidInput(f"file is larger than {MAX_FILE} bytes", field="file")
                out.write(chunk)
        item = NewItem(FsPath(tmp), kind, media_type.strip().lower(), claim_id)
        added = await run_in_threadpool(service.add, principal.org, item)
    finally:
        os.unlink(tmp)
    return EvidencePublic(**added)


@router.get("/evidence/{item}", response_model=EvidencePublic)
def show_evidence(rt: RuntimeDep, principal: CurrentPrincipal, item: ItemId) -> EvidencePublic:
    """One item's metadata, if the caller may see it."""
    service = EvidenceService(rt)
    it = service.item(item)
    service.check_may_read(principal, it, content=False)
    return EvidencePublic(**it)


@router.get(
    "/evidence/{item}/receipt",
    responses={200: {"content": {"application/json": {}}, "description": "The receipt"}},
)
def evidence_receipt(rt: RuntimeDep, principal: CurrentPrincipal, item: ItemId) -> Response:
    """The item's receipt (see receipt.schema.json); 404 until its batch is anchored."""
    service = EvidenceService(rt)
    service.check_may_read(principal, service.item(item), content=False)
    return Response(service.receipt(item), media_type="application/json")


@router.get("/evidence/{item}/content", response_class=FileResponse)
def evidence_content(rt: RuntimeDep, principal: CurrentPrincipal, item: ItemId) -> FileResponse:
    """The file itself: for its submitter, the claim's owner and courts."""
    service = EvidenceService(rt)
    it = service.item(item)
    service.check_may_read(principal, it, content=True)
    return FileResponse(service.content_path(item), media_type=it["media_type"])


@router.post("/evidence/batches", response_model=list[BatchPublic])
def anchor_now(rt: RuntimeDep, principal: CurrentPrincipal) -> list[BatchPublic]:
    """Close the caller's waiting items into batches and anchor them now (the service does
    this on its own by size and time)."""
    service = EvidenceService(rt)
    service.check_may_add(principal, None)
    return [
        BatchPublic(
            batch=b.id,
            items=b.count,
            root="0x" + b.root.hex(),
            tx_hash=b.tx_hash,
            block=b.block_number,
        )
        for b in service.run(principal.org)
    ]


@router.get("/claims/{claim}/evidence", response_model=list[EvidencePublic])
def claim_evidence(
    rt: RuntimeDep, principal: CurrentPrincipal, claim: ClaimRef
) -> list[EvidencePublic]:
    """The evidence items of a claim the caller may see."""
    items = EvidenceService(rt).visible_items_of_claim(principal, parse_claim_id(claim))
    return [EvidencePublic(**it) for it in items]


@router.get(
    "/claims/{claim}/court-package",
    response_class=FileResponse,
    responses={200: {"content": {"application/zip": {}}, "description": "The package"}},
)
def court_package(
    rt: RuntimeDep, principal: CurrentPrincipal, claim: ClaimRef, tasks: BackgroundTasks
) -> FileResponse:
    """A claim's court package (zip): history, evidence, receipts, manifest, report. Courts
    only; verify it with `debtledger evidence verify-package`."""
    if principal.role != "COURT":
        raise Forbidden("court packages are for courts")
    claim_id = parse_claim_id(claim)
    fd, tmp = tempfile.mkstemp(suffix=".zip", dir=rt.settings.data_dir)
    os.close(fd)
    out = FsPath(tmp)
    try:
        court_package_of(rt, claim_id, out)
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    tasks.add_task(out.unlink, missing_ok=True)
    return FileResponse(
        out, media_type="application/zip", filename=f"court-package-0x{claim_id.hex()[:16]}.zip"
    )
