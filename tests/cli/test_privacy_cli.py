"""`debtledger record`, `debtor` and `privacy` against a real node: personal fields from a
file into the vault, views by role, verification that fails on tampering, legal requests,
erasure, exposure, and the access trail anchored once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from debtledger.domain.claims import claim_id
from tests.conftest import Cli, Ledger
from tests.privacy.test_service import NATIONAL_ID, OTHER_ID, assert_no_canary, record

pytestmark = pytest.mark.xdist_group("privacy")

runner = CliRunner()


@pytest.fixture(name="cli")
def json_cli(cli: Cli) -> Cli:
    """The shared `cli`, its output parsed when it prints JSON."""

    def invoke(line: str, stdin: str | None = None) -> tuple[int, Any, str]:
        code, stdout, stderr = cli(line, stdin=stdin)
        try:
            out = json.loads(stdout)
        except ValueError:
            out = stdout
        return code, out, stderr

    return invoke


def write(path: Path, data: Any) -> str:
    path.write_text(json.dumps(data, ensure_ascii=False))
    return str(path)


def test_records_by_role_and_verification_from_the_command_line(
    cli: Cli, ledger: Ledger, tmp_path: Path
) -> None:
    fields = write(tmp_path / "r.json", record())
    code, done, err = cli(f"record register C-1 --as bank-a --file {fields} --json")
    assert code == 0, (done, err)
    assert done["operation"]["status"] == "mined" and done["debtor"].startswith("0x")
    assert_no_canary(json.dumps(done), "the registration output")
    again = cli(f"record register C-1 --as bank-a --file {fields} --idempotency-key x --json")
    assert again[0] == 1 and again[1]["kind"] == "Conflict"
    code, out, _ = cli(
        "record register C-2 --as bank-a --file - --json",
        stdin=json.dumps(record(national_id="110105194912310021")),
    )
    assert code == 1 and out["field"] == "national_id" and "110105194912310021" not in out["error"]

    code, full, _ = cli("record show C-1 --as bank-a --json")
    assert code == 0 and full["fields"]["national_id"] == NATIONAL_ID
    assert cli("record show C-1 --as agency-x --json")[1]["kind"] == "NotFound"
    until = datetime.now(UTC) + timedelta(days=3)
    ledger.claims.mandate(claim_id("C-1"), "bank-a", "agency-x", until, idem_key="m")
    code, seen, _ = cli("record show C-1 --as agency-x --json")
    assert code == 0 and seen["view"] == "non-personal"
    assert_no_canary(json.dumps(seen), "the agency's view")

    shown = write(tmp_path / "seen.json", seen)
    code, checked, _ = cli(f"record verify {shown} --json")
    assert code == 0 and checked["signature_verified"] and checked["fields"] == seen["fields"]
    seen["disclosure"]["disclosed"][0]["value"] += "0"
    code, out, _ = cli(f"record verify {write(tmp_path / 'bad.json', seen)} --json")
    assert code == 1 and out["kind"] == "InvalidProof"

    assert cli("record show C-1 --as court --json")[1]["kind"] == "Forbidden"
    code, request, _ = cli("record legal-request C-1 --as court --case K-1 --reason trial --json")
    assert code == 0 and request["evidence_item"] is not None
    code, court, _ = cli("record show C-1 --as court --case K-1 --json")
    assert code == 0 and court["fields"] == full["fields"]


def test_erasure_exposure_and_the_access_trail_from_the_command_line(
    cli: Cli, ledger: Ledger, tmp_path: Path
) -> None:
    mine = write(tmp_path / "a.json", record())
    theirs = write(tmp_path / "b.json", record(national_id=OTHER_ID))
    _, a, _ = cli(f"record register E-1 --as bank-a --file {mine} --json")
    _, b, _ = cli(f"record register E-2 --as bank-b --file {theirs} --json")
    ledger.rt.indexer.run_once()
    code, out, _ = cli(f"debtor exposure {a['debtor']} --as bank-a --key-bits 1024 --json")
    assert code == 1 and out["kind"] == "TooFewParties"

    assert cli("record show E-1 --as bank-a --json")[0] == 0  # five reads of personal data
    code, log, _ = cli("privacy access-log --json")
    assert code == 0 and len(log) == 5 and not any(r["anchored"] for r in log)
    code, run, _ = cli("privacy anchor-trail --json")
    assert code == 0 and run["anchored"] == 5 and run["batches"][0]["block"] is not None
    assert cli("privacy anchor-trail --json")[1]["anchored"] == 0
    _, log, _ = cli(f"privacy access-log --debtor {a['debtor']} --json")
    assert len(log) == 5 and all(r["anchored"] for r in log)
    assert len({r["evidence_item"] for r in log}) == 5
    _, text, _ = cli("privacy access-log")
    assert text.count("anchored") == 5

    code, out, _ = cli(f"debtor erase {a['debtor']} --as bank-b --json")
    assert code == 1 and out["kind"] == "Forbidden"
    code, erased, _ = cli(f"debtor erase {a['debtor']} --as bank-a --json")
    assert code == 0 and erased["fields"] == 10 and erased["evidence_item"] is not None
    assert cli("record show E-1 --as bank-a --json")[1]["kind"] == "Erased"
    code, kept, _ = cli("record show E-1 --as bank-a --non-personal --json")
    assert code == 0
    assert cli(f"record verify {write(tmp_path / 'k.json', kept)} --json")[0] == 0
    code, by_admin, _ = cli(f"debtor erase {b['debtor']} --admin --anchor-as bank-b --json")
    assert code == 0 and by_admin["requested_by"] == "admin"
