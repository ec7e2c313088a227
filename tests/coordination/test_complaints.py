"""Complaints against a real node: filed by the gateway for the debtor (or a regulator),
anchored as evidence, read by the owner, regulators, courts and the gateway only; an open
complaint pauses the claim's contacts and its resolution lets them resume."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from debtledger.access.service import Principal
from debtledger.cli.main import app as cli_app
from debtledger.coordination.complaints import REFUSAL_RULE, RESOLUTION_TYPE, Complaints
from debtledger.errors import (
    ClaimNotFound,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PolicyRefused,
)
from debtledger.evidence.service import EvidenceService
from debtledger.orgs.service import OrgService
from tests.collection.test_engine import AGENCY_X, Env, running_env

pytestmark = pytest.mark.xdist_group("supervision")

SECRET_WORDS = "他们半夜给我打了六次电话"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    with running_env(tmp_path_factory.mktemp("complaints")) as e:
        yield e


def who(env: Env, org: str, role: str) -> Principal:
    return Principal(org, "test", role, OrgService(env.rt).address(org), "test")


def contacted(env: Env) -> tuple[bytes, str]:
    """A claim of bank-a mandated to agency-x, and one SMS sent for the agency at noon in
    the debtor's time; returns the claim and the contact's id."""
    case = env.new_claim(dpd=3)
    record = env.send(AGENCY_X, case, "sms", "overdue-notice", at=env.local(12))
    assert record["status"] == "sent"
    return case.claim_id, str(record["contact_id"])


def test_an_open_complaint_pauses_contacts_until_it_is_resolved(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    claim, contact = contacted(env)
    complaints = Complaints(env.rt)
    complaints.check_no_open_complaint(claim)  # nothing open: no refusal
    caplog.set_level(logging.DEBUG)

    filed = complaints.file(
        who(env, "gateway", "GATEWAY"),
        claim,
        category="harassment",
        details=SECRET_WORDS,
        contact_id=contact,
    )
    assert filed["status"] == "open"
    assert filed["agency"] == OrgService(env.rt).address("agency-x")
    assert filed["creditor"] == OrgService(env.rt).address("bank-a")
    with pytest.raises(PolicyRefused) as info:
        complaints.check_no_open_complaint(claim)
    assert info.value.rule == REFUSAL_RULE == "policy: complaint-open"

    # Anchored as the gateway's "message" item: the record names the complaint, and holds
    # a digest of the debtor's words, not the words.
    evidence = EvidenceService(env.rt)
    item = evidence.item(filed["evidence_item_id"])
    assert (item["kind"], item["media_type"], item["organisation"]) == (
        "message",
        "application/json",
        "gateway",
    )
    record = json.loads(evidence.content_path(item["id"]).read_bytes())
    assert record["complaint_id"] == filed["id"] and record["contact_id"] == contact
    assert SECRET_WORDS not in json.dumps(record, ensure_ascii=False)

    with pytest.raises(Forbidden):  # a court reads complaints but does not resolve them
        complaints.resolve(who(env, "court", "COURT"), filed["id"], resolution="x")
    with pytest.raises(NotFound):  # another creditor cannot even see it
        complaints.resolve(who(env, "bank-b", "CREDITOR"), filed["id"], resolution="x")
    with pytest.raises(NotFound):
        complaints.resolve(who(env, "regulator", "REGULATOR"), 10**9, resolution="x")
    done = complaints.resolve(
        who(env, "bank-a", "CREDITOR"), filed["id"], resolution="agency instructed, apology"
    )
    assert done["status"] == "resolved" and done["resolved_by"] == "bank-a"
    complaints.check_no_open_complaint(claim)  # contacts resume
    resolution = json.loads(evidence.content_path(done["resolution_item_id"]).read_bytes())
    assert resolution["type"] == RESOLUTION_TYPE
    with pytest.raises(Conflict):
        complaints.resolve(who(env, "regulator", "REGULATOR"), filed["id"], resolution="again")
    assert SECRET_WORDS not in caplog.text


def test_two_open_complaints_both_must_be_resolved(env: Env) -> None:
    claim, _ = contacted(env)
    complaints = Complaints(env.rt)
    regulator = who(env, "regulator", "REGULATOR")
    first = complaints.file(regulator, claim, category="contact-hours")
    second = complaints.file(who(env, "gateway", "GATEWAY"), claim, category="wrong-amount")
    assert complaints.open_complaints(claim) == [first["id"], second["id"]]
    complaints.resolve(regulator, first["id"], resolution="checked")
    with pytest.raises(PolicyRefused):
        complaints.check_no_open_complaint(claim)
    complaints.resolve(regulator, second["id"], resolution="amount corrected")
    complaints.check_no_open_complaint(claim)
    # A regulator's filing is anchored by the gateway (regulators do not anchor evidence).
    assert EvidenceService(env.rt).item(first["evidence_item_id"])["organisation"] == "gateway"


def test_only_the_gateway_or_a_regulator_files(env: Env) -> None:
    claim, _ = contacted(env)
    complaints = Complaints(env.rt)
    for org, role in (("agency-x", "AGENCY"), ("bank-a", "CREDITOR"), ("court", "COURT")):
        with pytest.raises(Forbidden):
            complaints.file(who(env, org, role), claim, category="other")
    assert complaints.open_complaints(claim) == []


def test_filing_checks_its_input(env: Env) -> None:
    claim, _ = contacted(env)
    complaints = Complaints(env.rt)
    gateway = who(env, "gateway", "GATEWAY")
    with pytest.raises(InvalidInput) as info:
        complaints.file(gateway, claim, category="rude")
    assert info.value.field == "category"
    with pytest.raises(InvalidInput) as info:
        complaints.file(gateway, claim, category="other", details="x" * 2001)
    assert info.value.field == "details"
    with pytest.raises(NotFound):  # a well-formed contact id that is not this claim's
        complaints.file(gateway, claim, category="other", contact_id="ct_" + "0" * 32)
    with pytest.raises(ClaimNotFound):
        complaints.file(gateway, b"\x01" * 32, category="other")
    assert complaints.open_complaints(claim) == []


def test_the_same_idempotency_key_files_once(env: Env) -> None:
    claim, _ = contacted(env)
    complaints = Complaints(env.rt)
    gateway = who(env, "gateway", "GATEWAY")
    a = complaints.file(gateway, claim, category="privacy", idem_key="portal-42")
    b = complaints.file(gateway, claim, category="privacy", idem_key="portal-42")
    assert a["id"] == b["id"]
    assert complaints.open_complaints(claim) == [a["id"]]
    other, _ = contacted(env)
    with pytest.raises(Conflict):
        complaints.file(gateway, other, category="privacy", idem_key="portal-42")


def test_readers_are_the_owner_regulators_courts_and_the_gateway(env: Env) -> None:
    claim, _ = contacted(env)
    complaints = Complaints(env.rt)
    filed = complaints.file(
        who(env, "gateway", "GATEWAY"), claim, category="third-party", details=SECRET_WORDS
    )
    for org, role in (
        ("bank-a", "CREDITOR"),
        ("regulator", "REGULATOR"),
        ("court", "COURT"),
        ("gateway", "GATEWAY"),
    ):
        seen = complaints.get(who(env, org, role), filed["id"])
        assert seen["details"] == SECRET_WORDS
        assert filed["id"] in [c["id"] for c in complaints.list(who(env, org, role))]
    for org, role in (("bank-b", "CREDITOR"), ("agency-x", "AGENCY")):
        with pytest.raises(NotFound):
            complaints.get(who(env, org, role), filed["id"])
        assert filed["id"] not in [c["id"] for c in complaints.list(who(env, org, role))]
    listed = complaints.list(who(env, "bank-a", "CREDITOR"), claim_id=claim, status="open")
    assert [c["id"] for c in listed] == [filed["id"]]
    assert complaints.list(who(env, "bank-a", "CREDITOR"), claim_id=claim, status="resolved") == []


def test_the_commands(env: Env, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    claim, contact = contacted(env)
    monkeypatch.setenv("DEBTLEDGER_DATA_DIR", str(env.settings.data_dir))
    monkeypatch.setenv("DEBTLEDGER_NODE_PORT", str(env.settings.node_port))
    runner = CliRunner()

    def run(*args: str, stdin: str | None = None) -> Any:
        result = runner.invoke(cli_app, [*args, "--json"], input=stdin)
        assert result.exit_code == 0, result.stdout + result.stderr
        return json.loads(result.stdout)

    cid = "0x" + claim.hex()
    filed = run(
        "complaint", "file", cid, "--as", "gateway", "--category", "harassment",
        "--contact", contact, "--details-file", "-", stdin=SECRET_WORDS,
    )  # fmt: skip
    assert filed["details"] == SECRET_WORDS and filed["contact_id"] == contact
    listed = run("complaint", "list", "--as", "bank-a", "--claim", cid)
    assert [c["id"] for c in listed] == [filed["id"]]
    refused = runner.invoke(
        cli_app, ["complaint", "resolve", str(filed["id"]), "--as", "bank-b", "--resolution", "x"]
    )
    assert refused.exit_code == 1 and "no complaint" in refused.stderr
    done = run("complaint", "resolve", str(filed["id"]), "--as", "regulator", "--resolution", "ok")
    assert done["status"] == "resolved"

    found = run("regulator", "violations", "--as", "regulator", "--scan", "--claim", cid)
    assert [v["kind"] for v in found] == ["complaint"]
    out = tmp_path / "report.csv"
    today = datetime.now(UTC).date()
    first, last = (today - timedelta(days=1)).isoformat(), (today + timedelta(days=3)).isoformat()
    written = run(
        "regulator", "report", "--as", "regulator", "--from", first, "--to", last,
        "--format", "csv", "--out", str(out),
    )  # fmt: skip
    assert written["rows"] >= 2 and out.read_text().startswith("period_start,")
    shown = run("debtor", "view", "0x" + env.engine.debtor_of(claim).hex(), "--as", "bank-a")
    assert [c["claim_id"] for c in shown["claims"]] == [cid]


def test_complaints_read_the_gateways_contact_records() -> None:
    from debtledger.collection.gateway import RECORD_TYPE
    from debtledger.coordination.complaints import CONTACT_RECORD

    assert CONTACT_RECORD == RECORD_TYPE
