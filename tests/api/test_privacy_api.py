"""Claim records, disclosures, legal requests, erasure, exposure and the access trail over
real HTTP: each role gets what it may and nothing personal reaches an agency's or a
regulator's key, a log line or the chain; errors are problem+json with the right status."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from debtledger.domain.claims import claim_id
from debtledger.privacy.service import PrivacyService
from tests.api.flows import host_with_keys
from tests.conftest import Ledger
from tests.privacy.test_service import (
    NATIONAL_ID,
    OTHER_ID,
    assert_no_canary,
    assert_not_on_chain,
    record,
)

pytestmark = pytest.mark.xdist_group("privacy")

ROLES = {
    "bank-a": "CREDITOR",
    "bank-b": "CREDITOR",
    "bank-c": "CREDITOR",
    "agency-x": "AGENCY",
    "court": "COURT",
    "regulator": "REGULATOR",
}
PROBLEM = "application/problem+json"

Keys = dict[str, dict[str, str]]


@pytest.fixture
def keys(ledger: Ledger) -> Keys:
    return host_with_keys(ledger.rt, ROLES)


def register(
    api: httpx.Client, keys: Keys, ref: str, org: str = "bank-a", **fields: Any
) -> dict[str, Any]:
    """Register a record of `org` and wait until its claim is on chain."""
    headers = {**keys[org], "Idempotency-Key": f"idem-{ref}"}
    reply = api.post("/records", json={"claim_ref": ref, **record(**fields)}, headers=headers)
    assert reply.status_code == 202, reply.text
    body: dict[str, Any] = reply.json()
    assert reply.headers["location"] == f"/operations/{body['operation']['id']}"
    deadline = time.monotonic() + 20
    while True:
        op = api.get(reply.headers["location"], headers=keys[org]).json()
        if op["status"] != "pending":
            break
        assert time.monotonic() < deadline, "the registration was not mined"
        time.sleep(0.05)
    assert op["status"] == "mined", op
    return body


def problem(reply: httpx.Response, status: int, title: str) -> dict[str, Any]:
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"] == PROBLEM
    body: dict[str, Any] = reply.json()
    assert body["title"] == title, body
    return body


def test_each_role_over_http_and_nothing_personal_reaches_an_agency_or_regulator(
    api: httpx.Client, keys: Keys, ledger: Ledger, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    done = register(api, keys, "H-1")
    assert_no_canary(json.dumps(done), "the registration answer")
    again = api.post(
        "/records",
        json={"claim_ref": "H-1", **record()},
        headers={**keys["bank-a"], "Idempotency-Key": "idem-H-1"},
    )
    assert again.status_code == 202
    assert again.json()["operation"]["id"] == done["operation"]["id"]
    assert again.json()["record_hash"] == done["record_hash"]
    refused = api.post("/records", json={"claim_ref": "H-9", **record()}, headers=keys["regulator"])
    problem(refused, 403, "Forbidden")
    bad = api.post(
        "/records",
        json={"claim_ref": "H-2", **record(national_id="110105194912310021")},
        headers=keys["bank-a"],
    )
    assert problem(bad, 422, "InvalidInput")["field"] == "national_id"
    assert "110105194912310021" not in bad.text

    owner = api.get("/records/H-1", headers=keys["bank-a"])
    assert owner.status_code == 200 and owner.json()["view"] == "full"
    assert owner.json()["fields"]["national_id"] == NATIONAL_ID

    problem(api.get("/records/H-1", headers=keys["agency-x"]), 404, "NotFound")
    until = datetime.now(UTC) + timedelta(days=30)
    ledger.claims.mandate(claim_id("H-1"), "bank-a", "agency-x", until, idem_key="m-H-1")
    seen = api.get("/records/H-1", headers=keys["agency-x"])
    assert seen.status_code == 200 and seen.json()["view"] == "non-personal"
    view = seen.json()
    check = {"disclosure": view["disclosure"], "signature": view["signature"]}
    verified = api.post("/records/verify", json=check, headers=keys["agency-x"])
    assert verified.status_code == 200 and verified.json()["signature_verified"]
    assert verified.json()["fields"] == view["fields"]
    tampered = json.loads(json.dumps(check))
    for opening in tampered["disclosure"]["disclosed"]:
        if opening["name"] == "outstanding_fen":
            opening["value"] = "1"
    problem(
        api.post("/records/verify", json=tampered, headers=keys["agency-x"]), 422, "InvalidProof"
    )
    sig = view["signature"]
    wrong_signer = {**check, "signature": sig[:10] + ("1" if sig[10] != "1" else "2") + sig[11:]}
    reply = api.post("/records/verify", json=wrong_signer, headers=keys["agency-x"])
    assert reply.status_code == 422, reply.text

    problem(api.get("/records/H-1", headers=keys["court"]), 403, "Forbidden")
    request = api.post(
        "/records/H-1/legal-requests",
        json={"case_ref": "(2026)沪01民初7号", "reason": "trial"},
        headers=keys["court"],
    )
    assert request.status_code == 201 and request.json()["evidence_item"] is not None
    listed = api.get("/records/H-1/legal-requests", headers=keys["court"])
    assert [r["id"] for r in listed.json()] == [request.json()["id"]]
    court = api.get("/records/H-1", headers=keys["court"])
    assert court.status_code == 200 and court.json()["fields"] == owner.json()["fields"]
    regulator = api.get("/records/H-1", headers=keys["regulator"])
    assert regulator.json()["view"] == "non-personal"

    ledger.rt.indexer.run_once()
    reads = {
        "agency-x": ["/records", "/records/H-1", "/claims", "/claims/H-1", "/claims/H-1/history"],
        "regulator": [
            "/records",
            "/records/H-1",
            "/records/H-1?personal=true",
            "/claims",
            "/claims/H-1/history",
            "/privacy/access",
        ],
    }
    for org, paths in reads.items():
        for path in paths:
            reply = api.get(path, headers=keys[org])
            assert reply.status_code == 200, (path, reply.text)
            assert_no_canary(reply.text, f"{org}'s GET {path}")
    for org in ("bank-a", "agency-x", "regulator"):
        assert_no_canary(api.get("/records", headers=keys[org]).text, "a list")
    assert [
        r["claim_ref"] for r in api.get("/records", headers=keys["bank-b"]).json()["data"]
    ] == []
    assert_not_on_chain(ledger.rt.writer.rpc, bytes.fromhex(done["record_hash"][2:]))
    assert "record disclosed" in caplog.text
    assert_no_canary(caplog.text, "logs")


def test_erasure_exposure_and_the_access_trail_over_http(
    api: httpx.Client, keys: Keys, ledger: Ledger
) -> None:
    one = register(api, keys, "X-1", "bank-a", principal_fen=60_000, outstanding_fen=60_000)
    register(api, keys, "X-2", "bank-b", principal_fen=30_000, outstanding_fen=30_000)
    register(api, keys, "X-3", "bank-c", principal_fen=10_000, outstanding_fen=10_000)
    two = register(api, keys, "Y-1", "bank-a", national_id=OTHER_ID)
    register(api, keys, "Y-2", "bank-b", national_id=OTHER_ID)
    ledger.rt.indexer.run_once()

    share = api.get(f"/debtors/{one['debtor']}/exposure", headers=keys["bank-a"])
    assert share.status_code == 200, share.text
    assert {k: share.json()[k] for k in ("own_fen", "share_bps", "creditors")} == {
        "own_fen": 60_000,
        "share_bps": 6_000,
        "creditors": 3,
    }
    assert "30000" not in share.text and "10000" not in share.text
    few = api.get(f"/debtors/{two['debtor']}/exposure", headers=keys["bank-a"])
    assert "at least 3 creditors" in problem(few, 409, "TooFewParties")["detail"]
    problem(
        api.get(f"/debtors/{one['debtor']}/exposure", headers=keys["agency-x"]), 403, "Forbidden"
    )

    path = f"/debtors/{two['debtor']}/personal-data"
    for org in ("bank-c", "agency-x", "regulator"):
        problem(api.delete(path, headers=keys[org]), 403, "Forbidden")
    erased = api.delete(path, headers=keys["bank-a"])
    assert erased.status_code == 200, erased.text
    assert erased.json()["fields"] == 15 and erased.json()["evidence_item"] is not None
    assert api.delete(path, headers=keys["bank-b"]).json() == erased.json()
    problem(api.get("/records/Y-1", headers=keys["bank-a"]), 410, "Erased")
    kept = api.get("/records/Y-1?personal=false", headers=keys["bank-a"]).json()
    check = {"disclosure": kept["disclosure"], "signature": kept["signature"]}
    assert api.post("/records/verify", json=check, headers=keys["bank-b"]).status_code == 200
    assert api.get("/records/X-1", headers=keys["bank-a"]).json()["view"] == "full"

    problem(api.get("/privacy/access", headers=keys["bank-a"]), 403, "Forbidden")
    log = api.get("/privacy/access", headers=keys["regulator"]).json()
    assert len(log["data"]) == 5 and not any(r["anchored"] for r in log["data"])
    assert {r["purpose"] for r in log["data"]} == {"owner-disclosure"}
    PrivacyService(ledger.rt).anchor_access_trail()
    page = api.get("/privacy/access?limit=3", headers=keys["regulator"]).json()
    assert len(page["data"]) == 3 and page["next"] == page["data"][-1]["id"]
    rest = api.get(f"/privacy/access?after={page['next']}", headers=keys["regulator"]).json()
    rows = page["data"] + rest["data"]
    assert rest["next"] is None and len(rows) == 5
    assert all(r["anchored"] and r["tx_hash"] for r in rows)
    assert len({r["evidence_item"] for r in rows}) == 5
    mine = api.get(f"/privacy/access?debtor={two['debtor']}", headers=keys["regulator"])
    assert mine.json()["data"] == []
