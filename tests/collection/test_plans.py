"""Repayment plans against a real node with time travel: a plan paid on time keeps the
claim current and collection paused; a missed instalment breaks the plan once its grace
days are over (the keeper asks) and the claim is back at the stage its days past due give;
consent goes through the gateway and becomes evidence, as every plan payment does."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from debtledger.collection.keeper import Keeper
from debtledger.collection.plans import (
    DUE_SHIFT,
    MAX_INSTALMENTS,
    build_schedule,
    due_instant,
    pack_schedule,
    schedule_hash,
    unpack_schedule,
)
from debtledger.domain.policies import CN_CBA_2026, stage_of
from debtledger.domain.schedule import equal_instalments
from debtledger.errors import Conflict, Forbidden, InvalidInput
from tests.collection.test_engine import Case, Env, cli, running_env

pytestmark = pytest.mark.xdist_group("collection")

DAY = 86_400
EXAMPLES = max(10, int(os.environ.get("DEBTLEDGER_HYPOTHESIS_EXAMPLES", "200")) // 2)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    with running_env(tmp_path_factory.mktemp("plans")) as e:
        yield e


# ---------------------------------------------------------------------------- no node


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    day=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)),
    tz=st.integers(min_value=-720, max_value=840),
)
def test_an_instalment_falls_due_at_the_last_second_of_its_local_day(day: date, tz: int) -> None:
    due = due_instant(day, tz)
    local = datetime.fromtimestamp(due + tz * 60, UTC)
    after = datetime.fromtimestamp(due + 1 + tz * 60, UTC)
    assert local.date() == day and (local.hour, local.minute, local.second) == (23, 59, 59)
    assert after.date() == day + timedelta(days=1)


def test_schedules_pack_as_the_contract_takes_them() -> None:
    schedule = equal_instalments(100_001, 3, date(2027, 1, 31))
    words = pack_schedule(schedule, 480)
    assert unpack_schedule(words) == [
        (due_instant(date(2027, 1, 31), 480), 33_334),
        (due_instant(date(2027, 2, 28), 480), 33_334),
        (due_instant(date(2027, 3, 31), 480), 33_333),
    ]
    assert words[0] >> DUE_SHIFT == due_instant(date(2027, 1, 31), 480)
    with pytest.raises(InvalidInput) as info:
        pack_schedule(equal_instalments(1_000, MAX_INSTALMENTS + 1, date(2027, 1, 1)), 0)
    assert info.value.field == "count"


def test_schedules_of_each_kind() -> None:
    first = date(2027, 3, 15)
    assert len(build_schedule("equal", total=1_000, count=4, first=first)) == 4
    custom = build_schedule("custom", items=[(first, 300), (date(2027, 5, 1), 700)])
    assert [i.amount for i in custom] == [300, 700]
    harvest = build_schedule("seasonal", total=900, count=3, first=first, months={9, 10})
    assert [i.due.month for i in harvest] == [9, 10, 9]
    for kwargs, field in (
        ({"kind": "weekly", "total": 1, "count": 1, "first": first}, "kind"),
        ({"kind": "equal", "count": 1, "first": first}, "total_fen"),
        ({"kind": "equal", "total": 10, "first": first}, "count"),
        ({"kind": "equal", "total": 10, "count": 2}, "first_due"),
        ({"kind": "custom"}, "instalments"),
        ({"kind": "custom", "total": 5, "items": [(first, 4)]}, "total"),
    ):
        with pytest.raises(InvalidInput) as info:
            build_schedule(**kwargs)  # type: ignore[arg-type]
        assert info.value.field == field


# ---------------------------------------------------------------------------- on chain


def _propose(env: Env, case: Case, first_due: date, n: int = 4, amount: int = 25_000) -> bytes:
    schedule = equal_instalments(n * amount, n, first_due)
    key = f"p:{case.ref}:{first_due}:{n}"
    env.plans.propose(case.claim_id, "bank-a", schedule, grace_days=5, idem_key=key)
    shown = env.plans.show(case.claim_id)
    assert shown["state"] == "proposed"
    return bytes.fromhex(shown["schedule_hash"][2:])


def _local_day(t: int, tz: int) -> date:
    return datetime.fromtimestamp(t + tz * 60, UTC).date()


def test_a_plan_paid_on_time_keeps_the_claim_current_and_a_missed_one_resumes_collection(
    env: Env,
) -> None:
    keeper = Keeper(env.rt)
    case = env.new_claim(dpd=40)  # stage 3 under cn-cba-2026
    keeper.run_once()
    assert env.engine.status(case.claim_id)["stored_stage"] == 3

    first_due = _local_day(env.now(), case.tz) + timedelta(days=30)
    digest = _propose(env, case, first_due)
    words = env.plans.plans.call("instalments_of", case.claim_id)
    assert digest == schedule_hash(words)

    # Consent: only a gateway, and only to the schedule proposed.
    with pytest.raises(InvalidInput) as info:
        env.plans.consent(case.claim_id, schedule_hash=b"\x01" * 32, statement="yes", idem_key="c0")
    assert info.value.field == "schedule_hash"
    with pytest.raises(Forbidden):
        env.plans.consent(
            case.claim_id, schedule_hash=digest, statement="yes", gateway="bank-a", idem_key="c1"
        )
    env.plans.consent(
        case.claim_id, schedule_hash=digest, statement="I agree to 4 x 250.00", idem_key="c2"
    )
    (consent,) = [
        i for i in env.evidence.items_of_claim(case.claim_id) if i["kind"] == "promise-to-pay"
    ]
    record = json.loads(env.evidence.content_path(consent["id"]).read_bytes())
    assert record["schedule_hash"] == "0x" + digest.hex() and consent["organisation"] == "gateway"
    assert "I agree" not in json.dumps(record)  # only the statement's digest is kept

    status = env.engine.status(case.claim_id)
    assert (status["paused"], status["stage"], status["stored_stage"]) == (True, 0, 0)
    env.at(env.local(10, tz=case.tz))
    status = env.engine.status(case.claim_id)
    allowed = {(a["channel"], a["kind"]): a["rule"] for a in status["actions"]}
    assert allowed[("sms", "reminder")] is None
    assert allowed[("sms", "collection")] == "collection-paused"
    assert allowed[("voice", "collection")] == "collection-paused"

    # Instalment 1 paid on its due day; past its grace days nothing breaks.
    (due1, _), (due2, _) = unpack_schedule(words)[:2]
    env.at(due1 - 3 * 3600)
    env.plans.pay(case.claim_id, "gateway", 25_000, "receipt-1", idem_key="pay1")
    assert env.plans.show(case.claim_id)["next_instalment"] == 2
    assert env.claims.show(case.claim_id)["outstanding_fen"] == 75_000
    repayments = [i for i in env.evidence.items_of_claim(case.claim_id) if i["kind"] == "repayment"]
    (paid,) = [json.loads(env.evidence.content_path(i["id"]).read_bytes()) for i in repayments]
    assert (paid["amount_fen"], paid["via"], paid["claim_id"]) == (
        25_000,
        "repayment-plan",
        case.hex,
    )

    report = keeper.run_once(now=due1 + 5 * DAY + 60)
    assert report.plans_broken == 0
    assert env.plans.show(case.claim_id)["state"] == "active"
    assert env.engine.status(case.claim_id)["paused"] is True

    # Instalment 2 missed: at due + grace the plan stands, one second later the keeper breaks it.
    env.at(due2 + 5 * DAY)
    report = keeper.run_once()
    assert (report.plans_checked, report.plans_broken) == (0, 0)  # not due yet: not even asked
    env.at(due2 + 5 * DAY + 1)
    report = keeper.run_once()
    assert (report.plans_checked, report.plans_broken) == (1, 1)
    assert env.plans.show(case.claim_id)["state"] == "broken"
    status = env.engine.status(case.claim_id)
    enrolment = env.enrolment(case)
    paused = enrolment[6]
    assert status["paused"] is False
    # The pause ran from consent to the missed due date: the days past due count again from it.
    expected = (env.now() - case.due - paused) // DAY
    assert status["days_past_due"] == expected
    assert status["stage"] == status["stored_stage"] == stage_of(CN_CBA_2026, expected) == 3
    assert keeper.run_once().plans_checked == 0  # nothing left to check: idempotent

    # The owner re-ages the broken plan with the debtor's consent: paused again.
    rest = equal_instalments(75_000, 3, _local_day(env.now(), case.tz) + timedelta(days=10))
    env.plans.reage(case.claim_id, "bank-a", rest, consent_statement="ok", idem_key="reage")
    shown = env.plans.show(case.claim_id)
    assert (shown["state"], shown["count"], shown["next_instalment"]) == ("active", 3, 1)
    assert env.engine.status(case.claim_id)["paused"] is True


def test_paying_the_last_instalment_completes_the_plan(env: Env) -> None:
    case = env.new_claim(dpd=5, outstanding=30_000)
    digest = _propose(env, case, _local_day(env.now(), case.tz) + timedelta(days=20), 2, 10_000)
    env.plans.consent(case.claim_id, schedule_hash=digest, statement="yes", idem_key="c:done")
    with pytest.raises(Conflict):  # a second plan while one is active
        _propose(env, case, _local_day(env.now(), case.tz) + timedelta(days=40), 1, 1_000)
    env.plans.pay(case.claim_id, "bank-a", 20_000, "both at once", idem_key="pay:both")
    shown = env.plans.show(case.claim_id)
    assert shown["state"] == "completed" and all(i["paid"] for i in shown["instalments"])
    status = env.engine.status(case.claim_id)
    assert status["paused"] is False  # collection resumes for the rest (10,000 fen)
    assert env.claims.show(case.claim_id)["outstanding_fen"] == 10_000


def test_plan_refusals_name_the_reason(env: Env) -> None:
    case = env.new_claim(policy=None)
    with pytest.raises(Conflict) as info:
        _propose(env, case, date(2030, 1, 1))
    assert info.value.rule == "plan: claim not enrolled"
    enrolled = env.new_claim()
    with pytest.raises(Forbidden):
        env.plans.propose(
            enrolled.claim_id,
            "bank-b",
            equal_instalments(1_000, 2, date(2030, 1, 1)),
            idem_key="p:b",
        )
    with pytest.raises(Conflict):
        env.plans.pay(enrolled.claim_id, "bank-a", 1_000, "", idem_key="pay:none")
    with pytest.raises(Conflict):
        env.plans.consent(
            enrolled.claim_id, schedule_hash=b"\x02" * 32, statement="y", idem_key="c"
        )
    with pytest.raises(InvalidInput) as bad:
        env.plans.pay(enrolled.claim_id, "bank-a", 0, "", idem_key="pay:0")
    assert bad.value.field == "amount_fen"
    assert env.plans.show(enrolled.claim_id)["state"] == "none"


def test_plan_commands(env: Env) -> None:
    case = env.new_claim(dpd=12)
    first = (_local_day(env.now(), case.tz) + timedelta(days=15)).isoformat()
    code, out, err = cli(
        env,
        "plan",
        "propose",
        case.ref,
        "--as",
        "bank-a",
        "--kind",
        "custom",
        "--instalment",
        f"{first}:40000",
        "--instalment",
        "2031-01-01:60000",
        "--json",
    )
    assert code == 0, err
    plan = json.loads(out)["plan"]
    assert [i["amount_fen"] for i in plan["instalments"]] == [40_000, 60_000]
    assert plan["instalments"][0]["due_date"] == first
    code, out, err = cli(
        env,
        "plan",
        "consent",
        case.ref,
        "--schedule-hash",
        plan["schedule_hash"],
        "--statement",
        "agreed by phone",
        "--json",
    )
    assert code == 0, err
    code, out, err = cli(
        env, "plan", "pay", case.ref, "--as", "gateway", "--amount-fen", "40000", "--json"
    )
    assert code == 0, err
    code, out, err = cli(env, "plan", "show", case.ref, "--json")
    assert json.loads(out)["next_instalment"] == 2
    code, out, err = cli(env, "plan", "check", case.ref, "--json")
    assert code == 0 and json.loads(out)["state"] == "active"
    code, out, err = cli(env, "plan", "propose", case.ref, "--as", "bank-a", "--total-fen", "5")
    assert code == 1 and "count" in err
