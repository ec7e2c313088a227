"""The compliance monitor against a real node: each kind of violation is found in the run
after it happens (the monitor indexes the chain itself), stored once however often it
runs, and nothing is flagged for contacts and reads that kept to the rules."""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import insert

from debtledger.access.service import Principal
from debtledger.collection.gateway import RECORD_TYPE
from debtledger.coordination.complaints import Complaints
from debtledger.coordination.monitor import MandateChange, Monitor, mandate_state
from debtledger.errors import PolicyRefused
from debtledger.evidence.service import EvidenceService, NewItem
from debtledger.orgs.service import OrgService
from debtledger.privacy.trail import Accessor, AccessTrail
from debtledger.store.models import erasures_table
from tests.collection.test_engine import AGENCY_X, DAY, Case, Env, running_env

pytestmark = pytest.mark.xdist_group("supervision")

EXAMPLES = max(20, int(os.environ.get("DEBTLEDGER_HYPOTHESIS_EXAMPLES", "200")))


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    with running_env(tmp_path_factory.mktemp("monitor")) as e:
        yield e


def of_claim(found: list[dict[str, Any]], case: Case) -> list[tuple[str, str | None]]:
    return sorted((v["kind"], v["organisation"]) for v in found if v["claim_id"] == case.hex)


def forged_contact(
    env: Env, case: Case, *, at: int, authorization: int | None, requester: str = "agency-x"
) -> int:
    """A contact evidence item as the gateway records one, that no contract call stands
    behind (what a gateway bypassing the chain would leave)."""
    record = {
        "type": RECORD_TYPE,
        "contact_id": "ct_" + hashlib.sha256(f"{case.ref}{at}".encode()).hexdigest()[:32],
        "claim_id": case.hex,
        "requester": requester,
        "requester_role": "AGENCY",
        "channel": "sms",
        "template_id": "overdue-notice",
        "kind": "collection",
        "authorization": authorization,
        "at": datetime.fromtimestamp(at, UTC).isoformat(),
        "status": "sent",
    }
    item = EvidenceService(env.rt).add(
        "gateway",
        NewItem(json.dumps(record).encode(), "contact", "application/json", case.claim_id),
    )
    return int(item["id"])


def chain_clock(env: Env) -> AccessTrail:
    """The access trail on the chain's clock. The monitor times reads by this service's
    clock and mandates by block time; these tests move the chain's time ahead of the wall
    clock, so the reads that must fall inside a mandate are written on the chain's."""
    return AccessTrail(env.rt.engine, clock=lambda: float(env.now()))


def short_mandate(env: Env, seconds: int = 120) -> tuple[Case, int]:
    """A claim whose mandate to agency-x ends `seconds` after the chain's now."""
    case = env.new_claim(agency=None)
    expiry = env.now() + seconds
    env.claims.mandate(
        case.claim_id,
        "bank-a",
        "agency-x",
        datetime.fromtimestamp(expiry, UTC),
        idem_key=f"short:{case.ref}",
    )
    return case, expiry


def test_contacts_that_kept_the_rules_raise_nothing(env: Env) -> None:
    monitor = Monitor(env.rt)
    monitor.run_once()
    case = env.new_claim(dpd=3)
    env.send(AGENCY_X, case, "sms", "overdue-notice", at=env.local(12))
    env.send(("bank-a", "CREDITOR"), case, "sms", "overdue-notice", at=env.local(13))
    chain_clock(env).record("agency-x", "AGENCY", case.debtor, "phone", "verify", case.claim_id)
    assert of_claim(monitor.run_once(), case) == []


def test_a_refused_attempt_is_a_violation_once(env: Env) -> None:
    monitor = Monitor(env.rt)
    case = env.new_claim(dpd=3)
    at_night = env.local(3)
    with pytest.raises(PolicyRefused) as info:
        env.send(AGENCY_X, case, "sms", "overdue-notice", at=at_night)
    assert info.value.rule == "policy: contact-hours"
    found = monitor.run_once()  # the gateway recorded the refused attempt itself
    assert of_claim(found, case) == [("refused-attempt", "agency-x")]
    (v,) = [v for v in found if v["claim_id"] == case.hex]
    assert "contact-hours" in v["detail"]
    assert of_claim(monitor.run_once(), case) == []  # stored once
    assert of_claim(Monitor(env.rt).run_once(), case) == []  # and by another monitor too
    stored = monitor.violations(claim_id=case.claim_id)
    assert [x["kind"] for x in stored] == ["refused-attempt"]


def test_a_contact_without_an_authorisation_is_flagged(env: Env) -> None:
    monitor = Monitor(env.rt)
    monitor.run_once()
    case = env.new_claim(dpd=3)
    genuine = env.send(AGENCY_X, case, "sms", "overdue-notice", at=env.local(12))
    forged_contact(env, case, at=env.now(), authorization=None)
    forged_contact(env, case, at=env.now() + 1, authorization=10**9)  # no such contact id
    found = monitor.run_once()
    assert of_claim(found, case) == [
        ("unauthorised-contact", "agency-x"),
        ("unauthorised-contact", "agency-x"),
    ]
    assert str(genuine["evidence_item_id"]) not in {v["source_ref"][9:] for v in found}


def test_a_contact_after_the_mandate_expired_is_flagged(env: Env) -> None:
    monitor = Monitor(env.rt)
    case, expiry = short_mandate(env)
    forged_contact(env, case, at=expiry - 10, authorization=None)  # within: unauthorised only
    forged_contact(env, case, at=expiry + DAY, authorization=None)
    assert of_claim(monitor.run_once(), case) == [
        ("mandate-expired", "agency-x"),
        ("unauthorised-contact", "agency-x"),
        ("unauthorised-contact", "agency-x"),
    ]


def test_personal_data_read_outside_a_mandate(env: Env) -> None:
    monitor = Monitor(env.rt)
    case, expiry = short_mandate(env)
    trail = env.rt.vault.trail
    chain_clock(env).record("agency-x", "AGENCY", case.debtor, "phone", "verify", case.claim_id)
    env.rt.vault.get(
        case.debtor, "phone", accessor=Accessor("agency-y", "AGENCY", "skip-trace", case.claim_id)
    )
    late = AccessTrail(env.rt.engine, clock=lambda: float(expiry + 60))
    late.record("agency-x", "AGENCY", case.debtor, "email", "verify", case.claim_id)
    trail.record("agency-x", "AGENCY", case.debtor, "email", "verify", None)  # names no claim
    trail.record("gateway", "GATEWAY", case.debtor, "phone", "contact", case.claim_id)
    found = monitor.run_once()
    assert of_claim(found, case) == [
        ("mandate-expired", "agency-x"),
        ("pii-outside-mandate", "agency-y"),
    ]
    no_claim = [v for v in found if v["kind"] == "pii-outside-mandate" and v["claim_id"] is None]
    assert [v["organisation"] for v in no_claim] == ["agency-x"]
    assert all("verify" in v["detail"] or "skip-trace" in v["detail"] for v in found)


def test_disputes_and_complaints_are_seen_in_the_next_run(env: Env) -> None:
    monitor = Monitor(env.rt)
    monitor.run_once()
    case = env.new_claim(dpd=3)
    gateway = Principal("gateway", "t", "GATEWAY", OrgService(env.rt).address("gateway"), "t")
    Complaints(env.rt).file(gateway, case.claim_id, category="harassment")  # names the agency
    env.claims.dispute(case.claim_id, "bank-a", "amount wrong", idem_key=f"d:{case.ref}")
    # No indexer ran in between: the monitor's own run indexes the dispute's block.
    found = monitor.run_once()
    assert of_claim(found, case) == [("complaint", "agency-x"), ("dispute", "bank-a")]
    (dispute,) = [v for v in found if v["kind"] == "dispute" and v["claim_id"] == case.hex]
    block = env.rt.writer.rpc.call("eth_getBlockByNumber", ["latest", False])
    assert (
        dispute["occurred_at"]
        <= datetime.fromtimestamp(int(block["timestamp"], 16), UTC).isoformat()
    )


def test_an_erasure_not_done_in_time_is_flagged(env: Env) -> None:
    debtor = hashlib.sha256(b"erasure that stalled").digest()
    with env.rt.engine.begin() as conn:
        conn.execute(
            insert(erasures_table).values(
                debtor=debtor, requested_by="bank-a", requested_at=time.time() - 2 * DAY, fields=3
            )
        )
    found = Monitor(env.rt).run_once()
    late = [v for v in found if v["kind"] == "erasure-late"]
    assert [v["source_ref"] for v in late] == ["erasure:0x" + debtor.hex()]
    assert Monitor(env.rt, erasure_deadline_s=3 * DAY).run_once() == []


def test_follow_runs_until_stopped(env: Env) -> None:
    monitor = Monitor(env.rt)
    monitor.run_once()
    case = env.new_claim(dpd=3)
    stop = threading.Event()
    worker = threading.Thread(target=monitor.follow, args=(stop, 0.05))
    worker.start()
    try:
        env.claims.dispute(case.claim_id, "bank-a", "not mine", idem_key=f"d:{case.ref}")
        deadline = time.monotonic() + 10
        while not monitor.violations(claim_id=case.claim_id):
            assert time.monotonic() < deadline, "the monitor did not see the dispute"
            time.sleep(0.05)
    finally:
        stop.set()
        worker.join(timeout=10)
    assert not worker.is_alive()
    assert [v["kind"] for v in monitor.violations(claim_id=case.claim_id)] == ["dispute"]


# ---------------------------------------------------------------------------- mandates

_AGENCIES = ["0x" + "a1" * 20, "0x" + "b2" * 20]
_change = st.tuples(
    st.integers(0, 50),  # seconds after the previous change
    st.sampled_from([None, *_AGENCIES]),  # None: revoked
    st.integers(0, 100),  # expiry, seconds after the change
)


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.lists(_change, max_size=8), st.sampled_from(_AGENCIES), st.integers(0, 500))
def test_mandate_state_replays_the_registry(
    changes: list[tuple[int, str | None, int]], agency: str, at: int
) -> None:
    timeline, t = [], 0
    for block, (gap, who, lasts) in enumerate(changes):
        t += gap
        timeline.append(MandateChange(block, 0, t, who, t + lasts if who else 0))
    # The registry's storage, replayed: one mandate slot that each event overwrites.
    slot: tuple[str, int] | None = None
    for change in timeline:
        if change.at <= at:
            slot = (change.agency, change.expiry) if change.agency else None
    live = slot is not None and slot[0] == agency and slot[1] > at
    state = mandate_state(timeline, agency.upper().replace("0X", "0x"), at)
    assert (state == "live") == live
    assert (state == "expired") == (slot is not None and slot[0] == agency and not live)
