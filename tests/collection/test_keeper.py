"""The keeper against a real node with time travel: it advances a claim when its stage falls
due and not a second earlier, whatever its own clock says; two keepers at once advance each
claim once and send each first-overdue reminder once; reruns change nothing; it finds its
work by an index range of the schedule; the collection stream rewinds with the chain."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select, text

from debtledger.collection.engine import CollectionService, derive_policy
from debtledger.collection.keeper import (
    PLAN,
    REMINDER,
    STAGE,
    CollectionIndexer,
    Keeper,
    KeeperReport,
    apply_collection_event,
    next_window,
    planned_checks,
)
from debtledger.domain.claims import parse_claim
from debtledger.runtime import Runtime
from debtledger.store.models import collection_claims_table, collection_schedule_table
from tests.collection.test_engine import Case, Env, cli, running_env
from tests.conftest import Ledger

pytestmark = pytest.mark.xdist_group("collection")

DAY = 86_400
EXAMPLES = max(10, int(os.environ.get("DEBTLEDGER_HYPOTHESIS_EXAMPLES", "200")) // 2)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    with running_env(tmp_path_factory.mktemp("keeper")) as e:
        yield e


def schedule_of(rt: Runtime, case: Case) -> dict[str, int]:
    s = collection_schedule_table.c
    with rt.engine.connect() as conn:
        rows = conn.execute(select(s.reason, s.next_check_at).where(s.claim_id == case.hex)).all()
    return {r: int(t) for r, t in rows}


def stage_changes(rt: Runtime, cases: list[Case]) -> list[tuple[str, int, int]]:
    """Every StageChanged of these claims on chain: (claim, from, to)."""
    return [
        ("0x" + e.args["claim_id"].hex(), e.args["from_stage"], e.args["to_stage"])
        for e in rt.events.events(
            rt.deployment.block,
            claim_ids=[c.claim_id for c in cases],
            names=["StageChanged"],
            address=rt.address("CollectionPolicy"),
        )
    ]


def sms_to(env: Env, number: str) -> int:
    return sum(1 for m in env.sms.messages() if m.to == number)


# ---------------------------------------------------------------------------- no node


ROW: dict[str, Any] = {
    "claim_id": "0x" + "11" * 32,
    "policy_id": "0x" + "22" * 32,
    "debtor": "0x" + "33" * 32,
    "tz_offset_minutes": 480,
    "due_at": 1_800_000_000,
    "stage": 0,
    "paused_since": 0,
    "paused_seconds": 0,
    "plan_state": 0,
    "plan_next": 0,
    "plan_grace_days": 0,
    "plan_dues": [],
}


def test_checks_are_planned_from_the_claims_state_alone() -> None:
    days = [1, 8, 31, 91]
    due = ROW["due_at"]
    assert planned_checks(ROW, days) == {STAGE: due + DAY}
    assert planned_checks({**ROW, "stage": 2, "paused_seconds": 500}, days) == {
        STAGE: due + 500 + 31 * DAY
    }
    assert planned_checks({**ROW, "stage": 4}, days) == {}
    assert planned_checks(ROW, None) == {}  # a policy not indexed yet
    active = {
        **ROW,
        "paused_since": due,
        "plan_state": 2,
        "plan_dues": [7, 9],
        "plan_grace_days": 3,
    }
    assert planned_checks(active, days) == {PLAN: 7 + 3 * DAY + 1}
    assert planned_checks({**active, "plan_next": 1}, days) == {PLAN: 9 + 3 * DAY + 1}
    assert planned_checks({**active, "plan_next": 2}, days) == {}
    assert planned_checks({**active, "plan_state": 3, "paused_since": 0}, days) == {
        STAGE: due + DAY
    }


def test_events_build_a_claims_row() -> None:
    enrolled = apply_collection_event(
        None,
        "ClaimEnrolled",
        {
            "claim_id": ROW["claim_id"],
            "policy_id": ROW["policy_id"],
            "debtor": ROW["debtor"],
            "tz_offset_minutes": 480,
            "due_date": ROW["due_at"],
        },
    )
    assert enrolled == ROW
    assert apply_collection_event(None, "StageChanged", {"to_stage": 1}) is None
    row: dict[str, Any] | None = enrolled
    for name, args in (
        ("StageChanged", {"to_stage": 3}),
        ("PlanProposed", {"instalments": [5 << 128 | 10, 6 << 128 | 10], "grace_days": 2}),
        ("PlanConsented", {}),
        ("CollectionPaused", {"since": 77}),
        ("StageChanged", {"to_stage": 0}),
        ("PlanPaymentCredited", {"next_instalment": 1}),
        ("PlanBroken", {}),
        ("CollectionResumed", {"since": 90, "paused_seconds": 13}),
    ):
        row = apply_collection_event(row, name, args)
    assert row is not None
    assert (row["stage"], row["paused_since"], row["paused_seconds"]) == (0, 0, 13)
    assert (row["plan_state"], row["plan_next"], row["plan_dues"], row["plan_grace_days"]) == (
        3,
        1,
        [5, 6],
        2,
    )


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    now=st.integers(min_value=1_600_000_000, max_value=2_500_000_000),
    tz=st.integers(min_value=-720, max_value=840),
    start=st.integers(min_value=0, max_value=1439),
)
def test_the_next_window_opens_within_a_day_at_the_start_minute(
    now: int, tz: int, start: int
) -> None:
    opens = next_window(now, tz, start)
    assert now < opens <= now + DAY
    local = datetime.fromtimestamp(opens + tz * 60, UTC)
    assert local.hour * 60 + local.minute == start and local.second == 0


# ---------------------------------------------------------------------------- advancing


def test_a_claim_is_advanced_when_its_stage_falls_due_and_reminded_once(env: Env) -> None:
    keeper = Keeper(env.rt)
    case = env.new_claim(dpd=0, fields={"phone": "+8613800000101"})
    keeper.run_once()
    enters = case.due + DAY  # the first day past due begins at the next UTC midnight
    assert schedule_of(env.rt, case) == {STAGE: enters}

    env.at(enters - 1)
    before = keeper.run_once()
    assert env.engine.status(case.claim_id)["stored_stage"] == 0
    assert before.advanced == 0

    env.at(enters)
    report = keeper.run_once()
    assert report.advanced >= 1 and report.reminders_sent >= 1
    status = env.engine.status(case.claim_id)
    assert (status["stored_stage"], status["stage"]) == (1, 1)
    assert stage_changes(env.rt, [case]) == [(case.hex, 0, 1)]
    assert schedule_of(env.rt, case) == {STAGE: case.due + 8 * DAY}
    # The reminder went at once (08:00 for the debtor in UTC+8), for the owner, by SMS.
    assert sms_to(env, "+8613800000101") == 1
    (item,) = [i for i in env.evidence.items_of_claim(case.claim_id) if i["kind"] == "contact"]
    record = json.loads(env.evidence.content_path(item["id"]).read_bytes())
    assert (record["requester"], record["template_id"], record["kind"]) == (
        "bank-a",
        "reminder-1",
        "reminder",
    )
    again = keeper.run_once()  # idempotent: nothing is due any more
    assert (again.advanced, again.reminders_sent, again.transactions) == (0, 0, 0)
    assert sms_to(env, "+8613800000101") == 1


def test_a_reminder_outside_the_debtors_hours_waits_for_the_window(env: Env) -> None:
    keeper = Keeper(env.rt)
    phone = "+8613800000202"
    case = env.new_claim(dpd=0, tz=180, fields={"phone": phone})  # UTC+3: 03:00 at UTC 00:00
    keeper.run_once()
    env.at(case.due + DAY)
    report = keeper.run_once()
    assert report.reminders_deferred >= 1 and sms_to(env, phone) == 0
    opens = case.due + DAY + 5 * 3600  # 08:00 in UTC+3
    assert schedule_of(env.rt, case)[REMINDER] == opens
    env.at(opens - 60)
    keeper.run_once()
    assert sms_to(env, phone) == 0
    env.at(opens)
    keeper.run_once()
    assert sms_to(env, phone) == 1
    assert REMINDER not in schedule_of(env.rt, case)


def test_a_keeper_whose_clock_runs_ahead_changes_nothing_early(env: Env) -> None:
    keeper = Keeper(env.rt)
    case = env.new_claim(dpd=5, fields=None)  # stage 1 now; stage 2 from day 8
    keeper.run_once()
    assert env.engine.status(case.claim_id)["stored_stage"] == 1
    planned = schedule_of(env.rt, case)
    assert planned == {STAGE: case.due + 8 * DAY}

    ahead = keeper.run_once(now=env.now() + 400 * DAY)
    assert ahead.due >= 1 and ahead.transactions >= 1  # it asked the contract...
    assert env.engine.status(case.claim_id)["stored_stage"] == 1  # ...which refused to move
    assert stage_changes(env.rt, [case]) == [(case.hex, 0, 1)]
    assert schedule_of(env.rt, case) == planned  # and the claim keeps its time

    env.at(case.due + 8 * DAY)
    assert keeper.run_once().advanced >= 1
    assert env.engine.status(case.claim_id)["stored_stage"] == 2


def test_two_keepers_at_once_advance_each_claim_once(env: Env) -> None:
    phones = [f"+86138000003{i:02d}" for i in range(6)]
    cases = [env.new_claim(dpd=0, agency=None, fields={"phone": p}) for p in phones]
    cases += [env.new_claim(dpd=0, agency=None, fields=None) for _ in range(6)]
    keepers = [Keeper(Runtime(env.settings), page_size=5, batch_size=2) for _ in range(2)]
    keepers[0].run_once()
    env.at(max(c.due for c in cases) + DAY)

    reports: list[KeeperReport] = []
    errors: list[BaseException] = []

    def run(k: Keeper) -> None:
        try:
            reports.append(k.run_once())
        except BaseException as exc:  # noqa: BLE001 - the test reports it below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(k,)) for k in keepers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert len(reports) == 2
    assert sorted(stage_changes(env.rt, cases)) == sorted((c.hex, 0, 1) for c in cases)
    assert all(env.engine.status(c.claim_id)["stored_stage"] == 1 for c in cases)
    sent = sum(r.reminders_sent for r in reports)
    deferred = sum(r.reminders_deferred for r in reports)
    # Each reminder is taken by one keeper at a time. A local node that keeps no old states
    # can answer a call racing the other keeper's block with "block out of range": that
    # reminder waits (nothing was authorised or sent for it) and is sent by a later look.
    assert sum(sms_to(env, p) for p in phones) == sent <= len(phones) <= sent + deferred
    for _ in range(2):  # the next passes: nothing to advance, each reminder sent once
        for k in keepers:
            assert k.run_once().advanced == 0
    assert [sms_to(env, p) for p in phones] == [1] * len(phones)


def test_a_policy_change_has_its_claims_checked_at_once(env: Env) -> None:
    keeper = Keeper(env.rt)
    engine = CollectionService(env.rt)
    engine.create_policy("bank-a", derive_policy("bank-a-keeper"), idem_key="pol:keeper:1")
    case = env.new_claim(dpd=10, policy="bank-a-keeper", fields=None)
    keeper.run_once()
    assert env.engine.status(case.claim_id)["stored_stage"] == 2
    engine.create_policy(
        "bank-a",
        derive_policy("bank-a-keeper", stage_days=(1, 20, 31, 91)),
        idem_key="pol:keeper:2",
    )
    keeper.run_once()
    assert env.engine.status(case.claim_id)["stored_stage"] == 1  # day 10 is stage 1 now
    assert schedule_of(env.rt, case) == {STAGE: case.due + 20 * DAY}


# ---------------------------------------------------------------------------- finding work


def test_the_keeper_reads_due_work_by_an_index_range(env: Env) -> None:
    keeper = Keeper(env.rt, page_size=3)
    for _ in range(4):
        env.new_claim(dpd=2, agency=None, fields=None)
    keeper.index.run_once()
    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "collection_schedule" in statement and "next_check_at <=" in statement:
            statements.append((statement, params))

    event.listen(env.rt.engine, "before_cursor_execute", capture)
    try:
        far = env.now() + 1000 * DAY
        pages = list(keeper.pages(far))
    finally:
        event.remove(env.rt.engine, "before_cursor_execute", capture)
    rows = [d for page in pages for d in page]
    assert all(len(p) <= 3 for p in pages) and len(pages) >= 2
    keys = [(d.next_check_at, d.claim_id, d.reason) for d in rows]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)  # each row once, in order
    with env.rt.engine.connect() as conn:
        total = conn.execute(text("SELECT count(*) FROM collection_schedule")).scalar()
        assert len(rows) == total
        assert len(statements) in (len(pages), len(pages) + 1)  # + an empty last read
        assert conn.dialect.name == "sqlite"
        for i, (statement, params) in enumerate(statements):
            plan = " ".join(
                str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
            )
            # One range of the schedule's index; every page after the first starts where the
            # one before ended (not at the start of the range: that would be quadratic).
            assert "SEARCH collection_schedule USING" in plan, plan
            assert "ix_collection_schedule_next_check_at" in plan, plan
            if i:
                assert "(next_check_at>? AND next_check_at<?)" in plan, plan
    work = keeper.work(rows)
    assert all(len(b) <= keeper.batch_size for b in work.advance)


def test_keeper_command_runs_once(env: Env) -> None:
    case = env.new_claim(dpd=0, agency=None, fields=None)
    env.at(case.due + DAY)
    code, out, err = cli(env, "keeper", "--once", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["advanced"] >= 1 and report["transactions"] >= 1
    assert env.engine.status(case.claim_id)["stored_stage"] == 1


# ---------------------------------------------------------------------------- the stream


def test_the_collection_stream_rewinds_with_the_chain(ledger: Ledger) -> None:
    """A chain that loses blocks (a reorganisation, a node restored from an older snapshot)
    takes the enrolments and stage changes of those blocks out of the read model and the
    schedule; what remains is as if they never happened."""
    rt = ledger.rt
    engine = CollectionService(rt)
    index = CollectionIndexer(rt)

    def claim(ref: str, due: str) -> bytes:
        new = parse_claim(
            {
                "claim_ref": ref,
                "debtor_pseudonym": "0x" + "7e" * 32,
                "principal_fen": "1000",
                "outstanding_fen": "1000",
                "currency": "CNY",
                "due_date": due,
            }
        )
        ledger.claims.register("bank-a", new, idem_key=f"r:{ref}")
        engine.enrol(
            new.claim_id, "bank-a", policy="cn-cba-2026", tz_offset_minutes=0, idem_key=f"e:{ref}"
        )
        return new.claim_id

    kept = claim("KEEP-1", "2026-01-01")
    index.run_once()
    snapshot = rt.writer.rpc.call("evm_snapshot")
    lost = claim("LOSE-1", "2026-01-01")
    ledger.orgs.add("keeper", ["KEEPER"], idem_key="org:keeper")
    Keeper(rt).run_once()  # advances both to stage 4, indexes it
    with rt.engine.connect() as conn:
        stages = dict(
            conn.execute(
                select(collection_claims_table.c.claim_id, collection_claims_table.c.stage)
            ).all()
        )
    assert stages == {"0x" + kept.hex(): 4, "0x" + lost.hex(): 4}

    rt.writer.rpc.call("evm_revert", [snapshot])
    for _ in range(3):
        rt.writer.rpc.call("evm_mine")  # other blocks at the same heights
    index.run_once()
    with rt.engine.connect() as conn:
        rows = conn.execute(select(collection_claims_table)).all()
        schedule = conn.execute(select(collection_schedule_table)).all()
    assert [(r.claim_id, r.stage) for r in rows] == [("0x" + kept.hex(), 0)]
    assert [(r.claim_id, r.reason) for r in schedule] == [("0x" + kept.hex(), STAGE)]
