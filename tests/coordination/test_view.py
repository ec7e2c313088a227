"""The unified debtor view against a real node: one pseudonym's claims across creditors,
with stages, mandates and contacts as the chain has them; a creditor sees its own claims in
full, the others as counts and stages, and its exposure share only among three creditors or
more; regulators and coordinators see everything, nobody sees personal data."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

import pytest

from debtledger.access.service import Principal
from debtledger.collection.engine import STAGE_NAMES
from debtledger.coordination.view import NOT_ENROLLED, WITHHELD, DebtorView
from debtledger.errors import Forbidden, NotFound
from debtledger.orgs.service import OrgService
from tests.collection.test_engine import AGENCY_X, FIELDS, Case, Env, running_env

pytestmark = pytest.mark.xdist_group("supervision")

DEBTOR = hashlib.sha256(b"one debtor, four creditors").digest()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    with running_env(tmp_path_factory.mktemp("view")) as e:
        OrgService(e.rt).add("bank-c", ["CREDITOR"], idem_key="org:bank-c")
        yield e


def who(env: Env, org: str, role: str) -> Principal:
    return Principal(org, "test", role, OrgService(env.rt).address(org), "test")


def view(env: Env, org: str, role: str) -> dict[str, object]:
    env.rt.indexer.run_once()
    return DebtorView(env.rt, key_bits=1024).view(who(env, org, role), DEBTOR)


def test_the_view_by_role(env: Env) -> None:
    c1 = env.new_claim(dpd=3, debtor=DEBTOR, outstanding=100_000)
    c2 = env.new_claim(dpd=3, debtor=DEBTOR, outstanding=200_000, policy=None, agency=None)
    c3 = env.new_claim(dpd=40, debtor=DEBTOR, outstanding=300_000, owner="bank-b")
    env.send(AGENCY_X, c1, "sms", "overdue-notice", at=env.local(12))

    # bank-c has no claim of this debtor yet: it learns nothing about it.
    with pytest.raises(NotFound):
        view(env, "bank-c", "CREDITOR")
    mine = view(env, "bank-a", "CREDITOR")
    assert [c["claim_id"] for c in mine["claims"]] == sorted([c1.hex, c2.hex])  # type: ignore[index]
    assert mine["exposure"] == WITHHELD  # two creditors only
    assert mine["others"] == {
        "creditors": 1,
        "claims": 1,
        "stages": {stage_now(env, c3): 1},
        "statuses": {"active": 1},
    }
    claims = {c["claim_id"]: c for c in mine["claims"]}  # type: ignore[attr-defined]
    first, second = claims[c1.hex], claims[c2.hex]
    assert first["stage"] == stage_now(env, c1)
    assert first["mandate"]["agency_name"] == "agency-x" and first["mandate"]["live"]
    assert first["last_contact"] is not None
    assert first["next_contact"]["channel"] == "voice"
    verdict = env.engine.policy.call(
        "check_contact", c1.claim_id, 2, 1, OrgService(env.rt).address("agency-x")
    )
    assert first["next_contact"]["allowed"] == (verdict == "")
    assert (second["stage"], second["mandate"], second["last_contact"]) == (
        NOT_ENROLLED,
        None,
        None,
    )
    assert second["next_contact"] == "" and second["plan"] is None
    assert second["outstanding_fen"] == 200_000 and second["owner_name"] == "bank-a"

    # A third creditor: now each creditor learns its share, and no more.
    env.new_claim(dpd=3, debtor=DEBTOR, outstanding=400_000, owner="bank-c", policy=None)
    mine = view(env, "bank-a", "CREDITOR")
    assert mine["exposure"] == {
        "currency": "CNY",
        "own_fen": 300_000,
        "share_bps": 3_000,
        "creditors": 3,
    }
    assert mine["others"]["creditors"] == 2  # type: ignore[index]
    theirs = view(env, "bank-b", "CREDITOR")
    assert [c["claim_id"] for c in theirs["claims"]] == [c3.hex]  # type: ignore[index]
    assert theirs["exposure"]["share_bps"] == 3_000  # type: ignore[index]

    for org, role in (("regulator", "REGULATOR"), ("keeper", "KEEPER")):
        whole = view(env, org, role)
        assert len(whole["claims"]) == 4  # type: ignore[arg-type]
        assert whole["totals"]["creditors"] == 3  # type: ignore[index]
        assert whole["totals"]["outstanding_fen"] == {"CNY": 1_000_000}  # type: ignore[index]
        assert "exposure" not in whole
        text = json.dumps(whole, ensure_ascii=False)
        assert not any(value in text for value in FIELDS.values())

    for org, role in (("agency-x", "AGENCY"), ("court", "COURT"), ("gateway", "GATEWAY")):
        with pytest.raises(Forbidden):
            view(env, org, role)


def stage_now(env: Env, case: Case) -> str:
    """The claim's stage as the policy contract says now (independently of the view)."""
    return STAGE_NAMES[env.engine.policy.call("stage_of", case.claim_id)[1]]


def test_an_unknown_debtor_is_not_found(env: Env) -> None:
    with pytest.raises(NotFound):
        DebtorView(env.rt).view(who(env, "regulator", "REGULATOR"), b"\x07" * 32)
