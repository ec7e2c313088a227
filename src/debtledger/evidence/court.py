"""A claim's court package: its state and history from the chain (claims service) with its
evidence and receipts (evidence service), written by `package.build_package`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from debtledger.claims.service import ClaimService
from debtledger.evidence.package import PackageItem, build_package
from debtledger.evidence.service import EvidenceService
from debtledger.runtime import Runtime


def court_package(rt: Runtime, claim_id: bytes, out: Path) -> dict[str, Any]:
    """Anchor whatever of the claim is still waiting, then write its court package to
    `out`; returns the manifest. An unknown claim: ClaimNotFound."""
    claims, evidence = ClaimService(rt), EvidenceService(rt)
    claim = claims.show(claim_id)
    if any(it["batch_id"] is None for it in evidence.items_of_claim(claim_id)):
        evidence.run()
    items = evidence.items_of_claim(claim_id)
    by_batch: dict[int, list[int]] = {}
    for it in items:
        by_batch.setdefault(it["batch_id"], []).append(it["id"])
    receipts: dict[int, bytes] = {}
    for batch_id, ids in by_batch.items():
        receipts.update(evidence.receipts(batch_id, only=ids))
    return build_package(
        out,
        claim,
        list(claims.history(claim_id)),
        [PackageItem(it, evidence.content_path(it["id"]), receipts[it["id"]]) for it in items],
    )
