"""The collection routes over HTTP on a real node: policies, enrolment, a claim's collection
state and allowed contacts, plans with the gateway's consent and payments, outcomes; a
contact a rule refuses is a 409 naming the rule; regulators read and never write."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from debtledger.collection.engine import CollectionService, chain_now
from debtledger.domain.claims import claim_id
from tests.api.flows import CLAIM, host_with_keys, mined
from tests.conftest import Ledger

pytestmark = pytest.mark.xdist_group("collection")

DAY = 86_400
PHONE = "+8613912340000"
ROLES = {
    "bank-a": "CREDITOR",
    "bank-b": "CREDITOR",
    "agency-x": "AGENCY",
    "regulator": "REGULATOR",
    "gateway": "GATEWAY",
}


@pytest.fixture
def keys(ledger: Ledger) -> dict[str, dict[str, str]]:
    return host_with_keys(ledger.rt, ROLES)


def done(api: httpx.Client, reply: httpx.Response, headers: dict[str, str]) -> dict[str, Any]:
    op = mined(api, reply, headers)
    assert op["status"] == "mined", op
    return op


def next_local(ledger: Ledger, hh: int, mm: int = 0, ss: int = 0, tz: int = 480) -> int:
    """The next moment the debtor's clock (UTC offset `tz` minutes) shows hh:mm:ss."""
    now = chain_now(ledger.rt) + 1
    local = now + tz * 60
    t = local - local % DAY + hh * 3600 + mm * 60 + ss
    return (t if t >= local else t + DAY) - tz * 60


def at(ledger: Ledger, t: int) -> None:
    ledger.rt.writer.rpc.call("anvil_setNextBlockTimestamp", [t])


def new_claim(
    api: httpx.Client, keys: dict[str, dict[str, str]], ledger: Ledger, ref: str, due: str
) -> str:
    """Claim `ref` of bank-a on a debtor of its own with a phone on file, mandated to
    agency-x; returns the debtor's pseudonym."""
    debtor = hashlib.sha256(ref.encode()).hexdigest()
    body = {**CLAIM, "claim_ref": ref, "debtor_pseudonym": "0x" + debtor, "due_date": due}
    done(api, api.post("/claims", json=body, headers=keys["bank-a"]), keys["bank-a"])
    ledger.rt.vault.put(bytes.fromhex(debtor), {"phone": PHONE})
    until = (datetime.now(UTC) + timedelta(days=900)).isoformat()
    reply = api.post(
        f"/claims/{ref}/mandate",
        json={"agency": "agency-x", "expires": until},
        headers=keys["bank-a"],
    )
    done(api, reply, keys["bank-a"])
    return debtor


def enrol(
    api: httpx.Client, keys: dict[str, dict[str, str]], ref: str, policy: str, tz: int = 480
) -> None:
    reply = api.post(
        f"/claims/{ref}/enrolment",
        json={"policy": policy, "tz_offset_minutes": tz},
        headers=keys["bank-a"],
    )
    done(api, reply, keys["bank-a"])


def call(api: httpx.Client, headers: dict[str, str], ref: str) -> httpx.Response:
    body = {"channel": "voice", "template": "call-script-1", "outcome": "answered"}
    return api.post(f"/claims/{ref}/contacts", json=body, headers=headers)


def refused(reply: httpx.Response, rule: str) -> None:
    assert reply.status_code == 409, reply.text
    problem = reply.json()
    assert reply.headers["content-type"].startswith("application/problem+json")
    assert (problem["title"], problem["rule"]) == ("PolicyRefused", f"policy: {rule}")


def test_policies_enrolment_and_the_claims_collection_state(
    api: httpx.Client, keys: dict[str, dict[str, str]], ledger: Ledger
) -> None:
    presets = api.get("/policies", headers=keys["agency-x"]).json()
    assert [p["name"] for p in presets] == ["cn-cba-2026", "us-reg-f"]
    body = {"name": "bank-a-soft", "based_on": "cn-cba-2026", "max_daily": 2, "contact_end": 1200}
    done(api, api.post("/policies", json=body, headers=keys["bank-a"]), keys["bank-a"])
    own = [p["name"] for p in api.get("/policies", headers=keys["bank-a"]).json()]
    assert own == ["cn-cba-2026", "us-reg-f", "bank-a-soft"]
    assert "bank-a-soft" not in [
        p["name"] for p in api.get("/policies", headers=keys["bank-b"]).json()
    ]
    assert "bank-a-soft" in [
        p["name"] for p in api.get("/policies", headers=keys["regulator"]).json()
    ]
    shown = api.get("/policies/bank-a-soft", headers=keys["bank-b"]).json()
    assert (shown["owner_name"], shown["rules"]["max_daily"]) == ("bank-a", 2)
    for who in ("agency-x", "regulator"):
        assert api.post("/policies", json=body, headers=keys[who]).status_code == 403
    bad = api.post("/policies", json={**body, "max_daily": 9}, headers=keys["bank-a"])
    assert bad.status_code == 422 and bad.json()["field"] == "max_daily"
    taken = api.post("/policies", json=body, headers=keys["bank-b"])
    assert taken.status_code == 403  # the name is bank-a's

    new_claim(api, keys, ledger, "API-COL-1", "2026-06-30")
    for who in ("bank-b", "regulator"):
        reply = api.post(
            "/claims/API-COL-1/enrolment",
            json={"policy": "bank-a-soft", "tz_offset_minutes": 480},
            headers=keys[who],
        )
        assert reply.status_code == 403
    enrol(api, keys, "API-COL-1", "bank-a-soft")

    state = api.get("/claims/API-COL-1/collection", headers=keys["agency-x"]).json()
    assert (state["policy"], state["stage"], state["tz_offset_minutes"]) == ("bank-a-soft", 4, 480)
    assert state["requester_name"] == "agency-x" and len(state["actions"]) == 25
    assert api.get("/claims/API-COL-1/collection", headers=keys["bank-b"]).status_code == 404
    assert api.get("/claims/API-COL-1/collection", headers=keys["regulator"]).status_code == 200

    # 07:59:59 for the debtor in UTC+8 (23:59:59 UTC): refused with the rule, then allowed.
    opens = next_local(ledger, 8)
    at(ledger, opens - 1)
    refused(call(api, keys["agency-x"], "API-COL-1"), "contact-hours")
    at(ledger, opens)
    assert call(api, keys["agency-x"], "API-COL-1").status_code == 201
    assert call(api, keys["bank-a"], "API-COL-1").status_code == 201
    refused(call(api, keys["agency-x"], "API-COL-1"), "daily-attempts")  # bank-a-soft: 2 a day
    assert call(api, keys["regulator"], "API-COL-1").status_code == 403

    state = api.get("/claims/API-COL-1/collection", headers=keys["agency-x"]).json()
    rules = {(a["channel"], a["kind"]): a["rule"] for a in state["actions"]}
    assert rules[("voice", "collection")] == "daily-attempts"
    assert rules[("sms", "collection")] is None
    contacts = state["contacts"]
    assert [c["channel"] for c in contacts] == ["voice", "voice"]
    assert all(c["outcome"] == "answered" for c in contacts)

    strategy = api.get(
        "/claims/API-COL-1/collection/strategy", params={"grade": "B"}, headers=keys["bank-a"]
    ).json()
    assert strategy["stage"] == 4 and strategy["offer"]["max_instalments"] == 24


def test_plans_and_outcomes_over_http(
    api: httpx.Client, keys: dict[str, dict[str, str]], ledger: Ledger
) -> None:
    new_claim(api, keys, ledger, "API-PLAN-1", "2026-06-30")
    enrol(api, keys, "API-PLAN-1", "cn-cba-2026")
    first = (datetime.fromtimestamp(chain_now(ledger.rt), UTC) + timedelta(days=30)).date()
    plan = {
        "kind": "equal",
        "total_fen": 50_000,
        "count": 2,
        "first_due": first.isoformat(),
        "grace_days": 3,
    }
    assert (
        api.post("/claims/API-PLAN-1/plans", json=plan, headers=keys["agency-x"]).status_code == 403
    )
    done(
        api, api.post("/claims/API-PLAN-1/plans", json=plan, headers=keys["bank-a"]), keys["bank-a"]
    )
    shown = api.get("/claims/API-PLAN-1/plan", headers=keys["agency-x"]).json()
    assert (shown["state"], shown["count"]) == ("proposed", 2)
    assert [i["amount_fen"] for i in shown["instalments"]] == [25_000, 25_000]
    assert shown["instalments"][0]["due_date"] == first.isoformat()

    consent = {"schedule_hash": shown["schedule_hash"], "statement": "agreed on the phone"}
    assert (
        api.post(
            "/claims/API-PLAN-1/plans/consent", json=consent, headers=keys["bank-a"]
        ).status_code
        == 403
    )
    wrong = api.post(
        "/claims/API-PLAN-1/plans/consent",
        json={**consent, "schedule_hash": "0x" + "12" * 32},
        headers=keys["gateway"],
    )
    assert wrong.status_code == 422 and wrong.json()["field"] == "schedule_hash"
    reply = api.post("/claims/API-PLAN-1/plans/consent", json=consent, headers=keys["gateway"])
    done(api, reply, keys["gateway"])
    state = api.get("/claims/API-PLAN-1/collection", headers=keys["agency-x"]).json()
    assert (state["paused"], state["stage"]) == (True, 0)

    # Collection calls are refused while the plan stands (within the debtor's hours).
    at(ledger, next_local(ledger, 10))
    refused(call(api, keys["agency-x"], "API-PLAN-1"), "collection-paused")

    pay = {"amount_fen": 25_000, "receipt": "bank transfer 1"}
    reply = api.post("/claims/API-PLAN-1/plans/payments", json=pay, headers=keys["gateway"])
    done(api, reply, keys["gateway"])
    shown = api.get("/claims/API-PLAN-1/plan", headers=keys["bank-a"]).json()
    assert shown["next_instalment"] == 2 and shown["instalments"][0]["paid"] is True
    assert api.get("/claims/API-PLAN-1/plan", headers=keys["bank-b"]).status_code == 404
    assert (
        api.post(
            "/claims/API-PLAN-1/plans/payments", json=pay, headers=keys["regulator"]
        ).status_code
        == 403
    )

    # An outcome for a contact authorised outside the gateway, by its agency (while the
    # plan stands, reminders only, by the channels of the current stage).
    at(ledger, next_local(ledger, 10, 30))
    contact_id = CollectionService(ledger.rt).authorize(
        "agency-x", claim_id("API-PLAN-1"), "email", "reminder", idem_key="mail"
    )
    body = {"outcome": "unanswered"}
    reply = api.post(f"/contacts/{contact_id}/outcome", json=body, headers=keys["agency-x"])
    done(api, reply, keys["agency-x"])
    again = api.post(f"/contacts/{contact_id}/outcome", json=body, headers=keys["agency-x"])
    assert (
        again.status_code == 409 and again.json()["rule"] == "collection: outcome already recorded"
    )
    state = api.get("/claims/API-PLAN-1/collection", headers=keys["bank-a"]).json()
    assert state["failed_attempts"] == 1
    assert api.post("/contacts/1/outcome", json=body, headers=keys["regulator"]).status_code == 403


def test_rules_refuse_over_http_by_name(
    api: httpx.Client, keys: dict[str, dict[str, str]], ledger: Ledger
) -> None:
    nine = next_local(ledger, 9)  # 09:00 for the debtor, 01:00 UTC
    due = datetime.fromtimestamp(nine, UTC).date()  # due that day: current
    new_claim(api, keys, ledger, "API-RULE-0", due.isoformat())
    refused(call(api, keys["agency-x"], "API-RULE-0"), "not-enrolled")
    enrol(api, keys, "API-RULE-0", "cn-cba-2026")
    at(ledger, nine)
    refused(call(api, keys["agency-x"], "API-RULE-0"), "channel-not-allowed")  # no calls yet
    body = {"channel": "sms", "template": "overdue-notice"}
    reply = api.post("/claims/API-RULE-0/contacts", json=body, headers=keys["agency-x"])
    refused(reply, "kind-not-allowed")  # reminders only while current
