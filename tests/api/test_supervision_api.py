"""Supervision over HTTP: complaints filed by the gateway for the debtor and resolved by a
regulator, the monitor's violations and the compliance report for regulators and courts
only, and the unified debtor view by role."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from debtledger.coordination.monitor import Monitor
from tests.api.flows import CLAIM, host_with_keys, register
from tests.conftest import Ledger

pytestmark = pytest.mark.xdist_group("supervision")

WORDS = "催收员辱骂我的家人"


def test_complaints_violations_reports_and_the_view(
    api: httpx.Client, h: dict[str, dict[str, str]], ledger: Ledger
) -> None:
    h = {**h, **host_with_keys(ledger.rt, {"gateway": "GATEWAY", "court": "COURT"})}
    assert register(api, h, "SUP-1")["status"] == "mined"
    start = datetime.now(UTC) - timedelta(minutes=5)

    body = {"claim": "SUP-1", "category": "harassment", "details": WORDS}
    for org in ("agency-x", "bank-a"):
        assert api.post("/complaints", json=body, headers=h[org]).status_code == 403
    bad = api.post("/complaints", json={**body, "category": "rude"}, headers=h["gateway"])
    assert bad.status_code == 422
    key = {**h["gateway"], "Idempotency-Key": "portal-1"}
    filed = api.post("/complaints", json=body, headers=key)
    assert filed.status_code == 201, filed.text
    complaint = filed.json()
    assert complaint["status"] == "open" and complaint["details"] == WORDS
    assert api.post("/complaints", json=body, headers=key).json()["id"] == complaint["id"]

    url = f"/complaints/{complaint['id']}"
    assert api.get(url, headers=h["bank-b"]).status_code == 404
    assert api.get(url, headers=h["agency-x"]).status_code == 404
    for org in ("bank-a", "court", "regulator"):
        assert api.get(url, headers=h[org]).json()["id"] == complaint["id"]
    assert [c["id"] for c in api.get("/complaints", headers=h["bank-b"]).json()] == []
    listed = api.get("/complaints", params={"status": "open"}, headers=h["bank-a"]).json()
    assert [c["id"] for c in listed] == [complaint["id"]]

    resolve = {"resolution": "reviewed the call recordings; agency warned"}
    assert api.post(f"{url}/resolve", json=resolve, headers=h["bank-b"]).status_code == 404
    done = api.post(f"{url}/resolve", json=resolve, headers=h["regulator"])
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "resolved" and done.json()["resolved_by"] == "regulator"
    assert api.post(f"{url}/resolve", json=resolve, headers=h["regulator"]).status_code == 409

    # The monitor (the service runs it in the background) finds the complaint.
    Monitor(ledger.rt).run_once()
    found = api.get("/regulator/violations", params={"kind": "complaint"}, headers=h["court"])
    assert [(v["kind"], v["source_ref"]) for v in found.json()] == [
        ("complaint", f"complaint:{complaint['id']}")
    ]
    assert api.get("/regulator/violations", headers=h["bank-a"]).status_code == 403

    period = {
        "start": start.isoformat(),
        "end": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
    }
    report = api.get("/regulator/report", params=period, headers=h["regulator"])
    assert report.status_code == 200, report.text
    bank_a = ledger.orgs.address("bank-a")
    (mine,) = [
        f for f in report.json()["figures"] if f["role"] == "creditor" and f["address"] == bank_a
    ]
    assert (mine["organisation"], mine["complaints"], mine["contacts"]) == ("bank-a", 1, 0)
    as_csv = api.get("/regulator/report", params={**period, "format": "csv"}, headers=h["court"])
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [(r["organisation"], r["complaints"]) for r in rows] == [("bank-a", "1")]
    as_pdf = api.get("/regulator/report", params={**period, "format": "pdf"}, headers=h["court"])
    assert as_pdf.headers["content-type"] == "application/pdf"
    assert as_pdf.content.startswith(b"%PDF-")
    assert api.get("/regulator/report", params=period, headers=h["agency-x"]).status_code == 403
    backwards = {"start": period["end"], "end": period["start"]}
    assert api.get("/regulator/report", params=backwards, headers=h["court"]).status_code == 422

    debtor = CLAIM["debtor_pseudonym"]
    view = api.get(f"/debtors/{debtor}/view", headers=h["bank-a"])
    assert view.status_code == 200, view.text
    (claim,) = view.json()["claims"]
    assert (claim["owner_name"], claim["stage"]) == ("bank-a", "not enrolled")
    assert view.json()["exposure"] == "share withheld (fewer than 3 creditors)"
    whole = api.get(f"/debtors/{debtor}/view", headers=h["regulator"]).json()
    assert whole["totals"]["claims"] == 1
    assert api.get(f"/debtors/{debtor}/view", headers=h["bank-b"]).status_code == 404
    assert api.get(f"/debtors/{debtor}/view", headers=h["agency-x"]).status_code == 403
    assert api.get("/debtors/0x12/view", headers=h["bank-a"]).status_code == 422
