"""Three creditors, two agencies, one debtor, through the gateway on a real node: the
debtor's 7-day budget divided by share of the debt; an agency going past its creditor's part
is refused by the contract naming the rule, and the regulator's monitor lists the attempt in
its next cycle; two agencies never reach the debtor on the same day; a complaint pauses the
claim's contacts until it is resolved; unused budget opens to others at the week's release
point, the debtor's own 7-day cap still holding."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from debtledger.access.service import Principal
from debtledger.coordination.budget import BudgetService
from debtledger.coordination.complaints import Complaints
from debtledger.coordination.monitor import Monitor
from debtledger.domain.claims import parse_claim, parse_claim_id
from debtledger.errors import PolicyRefused
from debtledger.orgs.service import OrgService
from tests.collection.test_engine import Env, running_env
from tests.conftest import enrol_at_midday

pytestmark = pytest.mark.xdist_group("coordination-scenario")

DEBTOR = hashlib.sha256(b"coordinated debtor").digest()
CALL = ("voice", "call-script-1")
WEEK = 7 * 86_400
MONDAY_EPOCH = 4 * 86_400  # 1970-01-05, a Monday


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    with running_env(tmp_path_factory.mktemp("coordination")) as e:
        OrgService(e.rt).add("bank-c", ["CREDITOR"], idem_key="org:bank-c")
        yield e


def _claim(env: Env, ref: str, owner: str, agency: str, outstanding: int) -> bytes:
    claim = parse_claim(
        {
            "claim_ref": ref,
            "debtor_pseudonym": "0x" + DEBTOR.hex(),
            "principal_fen": str(outstanding),
            "outstanding_fen": str(outstanding),
            "currency": "CNY",
            "due_date": "2026-01-15",
        }
    )
    env.claims.register(owner, claim, idem_key=f"reg:{ref}")
    until = datetime.now(UTC) + timedelta(days=365)
    env.claims.mandate(claim.claim_id, owner, agency, until, idem_key=f"m:{ref}")
    return claim.claim_id


def _call(env: Env, agency: str, claim_id: bytes) -> None:
    channel, template = CALL
    env.contacts.contact((agency, "AGENCY"), claim_id, channel, template, outcome="unanswered")


def _refused(env: Env, agency: str, claim_id: bytes) -> str:
    with pytest.raises(PolicyRefused) as refused:
        _call(env, agency, claim_id)
    return refused.value.rule


def _go_to(env: Env, t: int) -> None:
    env.rt.writer.rpc.call("anvil_setNextBlockTimestamp", [t])
    env.rt.writer.rpc.call("evm_mine", [])


@dataclass(frozen=True)
class Claims:
    monday: int  # the chain's Monday 00:00 UTC the scenario starts in
    a: bytes
    b: bytes
    c: bytes


@pytest.fixture(scope="module")
def claims(env: Env) -> Claims:
    """Next Monday 09:00 UTC on the chain: the debtor's three claims (bank-a 3,000.00 via
    agency-x, bank-b 2,000.00 via agency-y, bank-c 2,000.00 via agency-x), enrolled under
    us-reg-f with the debtor's local time about 13:00, and indexed."""
    now = env.latest()
    monday = MONDAY_EPOCH + ((now - MONDAY_EPOCH) // WEEK + 1) * WEEK
    _go_to(env, monday + 9 * 3600)
    a = _claim(env, "CO-A", "bank-a", "agency-x", 300_000)
    b = _claim(env, "CO-B", "bank-b", "agency-y", 200_000)
    c = _claim(env, "CO-C", "bank-c", "agency-x", 200_000)
    env.rt.vault.put(DEBTOR, {"phone": "+8613812345678", "debtor_name": "Coordinated"})
    for claim_id, owner in ((a, "bank-a"), (b, "bank-b"), (c, "bank-c")):
        enrol_at_midday(env.rt, claim_id, owner, policy="us-reg-f")
    env.rt.indexer.run_once()
    return Claims(monday, a, b, c)


def test_shared_budget_calendar_complaint_and_release(env: Env, claims: Claims) -> None:
    monday, a, b, c = claims.monday, claims.a, claims.b, claims.c
    divided = BudgetService(env.rt).divide(DEBTOR, coordinator="keeper", idem_key="budget:1")
    assert divided["parts"] == {"bank-a": 3, "bank-b": 2, "bank-c": 2}  # 3:2:2 of 7

    # Monday: agency-x uses bank-a's part, then goes past it.
    for _ in range(3):
        _call(env, "agency-x", a)
    assert _refused(env, "agency-x", a) == "policy: creditor-budget"
    _call(env, "agency-x", c)  # one of bank-c's two
    # The monitor's next cycle lists the refused attempt.
    seen = Monitor(env.rt).run_once()
    refused = [v for v in seen if v["kind"] == "refused-attempt"]
    assert len(refused) == 1 and refused[0]["organisation"] == "agency-x"
    assert "creditor-budget" in refused[0]["detail"]
    # Another agency the same (local) day: the coordination calendar refuses it.
    assert _refused(env, "agency-y", b) == "policy: calendar"

    # Tuesday: a complaint about claim B pauses its contacts until resolved.
    _go_to(env, monday + 86_400 + 9 * 3600)
    gateway = Principal("gateway", "ops", "GATEWAY", OrgService(env.rt).address("gateway"), "k")
    complaint = Complaints(env.rt).file(gateway, b, category="harassment", details="too many")
    assert _refused(env, "agency-y", b) == "policy: complaint-open"
    bank_b = Principal("bank-b", "ops", "CREDITOR", OrgService(env.rt).address("bank-b"), "k")
    Complaints(env.rt).resolve(bank_b, complaint["id"], resolution="calls reviewed")
    for _ in range(2):
        _call(env, "agency-y", b)
    assert _refused(env, "agency-y", b) == "policy: creditor-budget"

    # Thursday after the release point: bank-c's unused contact is open to bank-a's agency,
    # and then the debtor's own 7-in-7-days cap refuses.
    _go_to(env, monday + 3 * 86_400 + 9 * 3600)
    _call(env, "agency-x", a)
    assert _refused(env, "agency-x", a) == "policy: weekly-contacts"
    Monitor(env.rt).run_once()
    kinds = {v["kind"] for v in Monitor(env.rt).violations(limit=100)}
    assert {"refused-attempt", "complaint"} <= kinds


def test_budget_division_needs_the_keeper_role(env: Env, claims: Claims) -> None:
    from debtledger.errors import Forbidden

    with pytest.raises(Forbidden):
        BudgetService(env.rt).divide(DEBTOR, coordinator="bank-a", idem_key="budget:bad")


def test_divide_budget_from_the_command_line(
    env: Env, claims: Claims, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from typer.testing import CliRunner

    from debtledger.cli.main import app

    monkeypatch.setenv("DEBTLEDGER_DATA_DIR", str(env.settings.data_dir))
    monkeypatch.setenv("DEBTLEDGER_NODE_PORT", str(env.settings.node_port))
    monkeypatch.setenv("DEBTLEDGER_SMTP_PORT", str(env.settings.smtp_port))
    argv = ["debtor", "divide-budget", "0x" + DEBTOR.hex(), "--as", "keeper", "--json"]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["parts"] == {"bank-a": 3, "bank-b": 2, "bank-c": 2}
    refused = CliRunner().invoke(app, [*argv[:3], "--as", "bank-a"])
    assert refused.exit_code == 1 and "keeper" in refused.stderr.lower()


def test_joint_payment_from_the_command_line(
    env: Env, claims: Claims, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from typer.testing import CliRunner

    from debtledger.cli.main import app

    monkeypatch.setenv("DEBTLEDGER_DATA_DIR", str(env.settings.data_dir))
    monkeypatch.setenv("DEBTLEDGER_NODE_PORT", str(env.settings.node_port))
    before = {
        ref: env.claims.show(parse_claim_id(ref))["outstanding_fen"]
        for ref in ("CO-A", "CO-B", "CO-C")
    }
    argv = [
        "debtor",
        "pay",
        "0x" + DEBTOR.hex(),
        "--as",
        "gateway",
        "--amount-fen",
        "1001",
        "--receipt",
        "BANK-TRANSFER-77",
        "--json",
    ]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 0, result.stdout + result.stderr
    parts = json.loads(result.stdout)["parts"]
    assert sum(parts.values()) == 1001
    by_ref = {ref: parts["0x" + parse_claim_id(ref).hex()] for ref in before}
    assert by_ref == {"CO-A": 429, "CO-B": 286, "CO-C": 286}  # 3:2:2, to the fen
    for ref, part in by_ref.items():
        assert env.claims.show(parse_claim_id(ref))["outstanding_fen"] == before[ref] - part
