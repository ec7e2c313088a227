"""Evidence over HTTP: streamed upload, who may add and read what, receipts once anchored,
files for the submitter, owner and courts only, and the court package for courts."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from debtledger.evidence.package import verify_package
from tests.api.flows import host_with_keys
from tests.conftest import Ledger, new_claim

ROLES = {
    "bank-a": "CREDITOR",
    "bank-b": "CREDITOR",
    "agency-x": "AGENCY",
    "court": "COURT",
    "regulator": "REGULATOR",
}


@pytest.fixture
def keys(ledger: Ledger) -> dict[str, dict[str, str]]:
    """Claim E-1 of bank-a mandated to agency-x; E-2 of bank-a not mandated; indexed."""
    headers = host_with_keys(ledger.rt, ROLES)
    c = ledger.claims
    for ref in ("E-1", "E-2"):
        c.register("bank-a", new_claim(ref), idem_key=ref)
    until = datetime.now(UTC) + timedelta(days=30)
    c.mandate(new_claim("E-1").claim_id, "bank-a", "agency-x", until, idem_key="m")
    ledger.rt.indexer.run_once()
    return headers


def _add(
    api: httpx.Client,
    h: dict[str, str],
    claim: str,
    body: bytes,
    kind: str = "message",
    media: str = "text/plain",
) -> httpx.Response:
    return api.post(
        "/evidence",
        params={"kind": kind, "claim": claim},
        content=body,
        headers={**h, "Content-Type": media},
    )


def test_upload_anchor_receipt_and_file_access(
    api: httpx.Client, keys: dict[str, dict[str, str]], tmp_path
) -> None:  # type: ignore[no-untyped-def]
    big = bytes(range(256)) * 8192  # 2 MiB, streamed in chunks
    r = _add(api, keys["agency-x"], "E-1", big, "call-recording", "audio/mpeg")
    assert r.status_code == 201, r.text
    item = r.json()
    assert (item["organisation"], item["size"], item["media_type"]) == (
        "agency-x",
        len(big),
        "audio/mpeg",
    )
    # Not anchored yet: no receipt.
    assert api.get(f"/evidence/{item['id']}/receipt", headers=keys["bank-a"]).status_code == 404
    batches = api.post("/evidence/batches", headers=keys["agency-x"])
    assert batches.status_code == 200 and batches.json()[0]["items"] == 1
    receipt = api.get(f"/evidence/{item['id']}/receipt", headers=keys["court"])
    assert receipt.status_code == 200
    assert receipt.json()["statement"]["content_sha256"] == item["content_sha256"]

    # Metadata: owner, mandated agency, court, regulator; not another creditor.
    for org in ("bank-a", "agency-x", "court", "regulator"):
        assert api.get(f"/evidence/{item['id']}", headers=keys[org]).status_code == 200, org
    assert api.get(f"/evidence/{item['id']}", headers=keys["bank-b"]).status_code == 404
    # The file: submitter, owner, court; a regulator is refused, another creditor sees nothing.
    for org in ("agency-x", "bank-a", "court"):
        got = api.get(f"/evidence/{item['id']}/content", headers=keys[org])
        assert got.status_code == 200 and got.content == big, org
    assert api.get(f"/evidence/{item['id']}/content", headers=keys["regulator"]).status_code == 403
    assert api.get(f"/evidence/{item['id']}/content", headers=keys["bank-b"]).status_code == 404
    listed = api.get("/claims/E-1/evidence", headers=keys["regulator"])
    assert [i["id"] for i in listed.json()] == [item["id"]]
    assert api.get("/claims/E-1/evidence", headers=keys["bank-b"]).json() == []


def test_who_may_add(api: httpx.Client, keys: dict[str, dict[str, str]]) -> None:
    assert _add(api, keys["regulator"], "E-1", b"x").status_code == 403
    assert _add(api, keys["agency-x"], "E-2", b"x").status_code == 404  # not mandated
    assert _add(api, keys["bank-b"], "E-1", b"x").status_code == 404  # not its claim
    bad = _add(api, keys["bank-a"], "E-1", b"x", kind="gossip")
    assert bad.status_code == 422 and bad.json()["field"] == "kind"
    empty = _add(api, keys["bank-a"], "E-1", b"")
    assert empty.status_code == 422 and empty.json()["field"] == "file"
    assert api.post("/evidence", params={"kind": "message"}, content=b"x").status_code == 401
    assert api.get("/claims/E-1/evidence", headers=keys["bank-a"]).json() == []


def test_court_package_for_courts_only(
    api: httpx.Client, keys: dict[str, dict[str, str]], ledger: Ledger, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    assert _add(api, keys["bank-a"], "E-1", b"legal notice sent", "legal-notice").status_code == 201
    assert _add(api, keys["agency-x"], "E-1", b"call notes", "message").status_code == 201
    for org in ("bank-a", "agency-x", "regulator"):
        assert api.get("/claims/E-1/court-package", headers=keys[org]).status_code == 403
    got = api.get("/claims/E-1/court-package", headers=keys["court"])
    assert got.status_code == 200 and got.headers["content-type"] == "application/zip"
    path = tmp_path / "package.zip"
    path.write_bytes(got.content)
    summary = verify_package(path, rpc_url=ledger.settings.node_url)
    assert summary["items"] == 2
    with zipfile.ZipFile(io.BytesIO(got.content)) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    assert manifest["claim_id"] == "0x" + new_claim("E-1").claim_id.hex()
    assert api.get("/claims/NOPE/court-package", headers=keys["court"]).status_code == 404
