"""Every rule of both policy presets, end to end on a real node with time travel: a contact
that breaks the rule is refused with its name, and nothing is sent or decrypted; one that
stays just inside goes through. Times are the debtor's local times (UTC+8 unless said) while
the chain and the service count in UTC; the boundaries are checked to the second.

Contacts go through the gateway (SMS, e-mail, recorded calls); the kinds the gateway has no
template for (third parties, credit reports, letters) are authorised by the agency itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from debtledger.domain.policies import PRESETS
from debtledger.domain.schedule import equal_instalments
from debtledger.errors import Forbidden
from tests.collection.test_engine import (
    AGENCY_X,
    AGENCY_Y,
    BANK_A,
    BANK_B,
    CN,
    US,
    Case,
    Env,
    running_env,
)

pytestmark = pytest.mark.xdist_group("collection")

DAY = 86_400
WEEK = 7 * DAY
HOUR = 3_600
BOTH = pytest.mark.parametrize("policy", [CN, US])
CALL = ("voice", "call-script-1")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    with running_env(tmp_path_factory.mktemp("rules")) as e:
        yield e


def call(env: Env, who: tuple[str, str], case: Case, at: int, outcome: str = "answered") -> None:
    record = env.send(who, case, *CALL, at=at, outcome=outcome)
    assert record["status"] == "sent"


def sms(
    env: Env, who: tuple[str, str], case: Case, at: int, template: str = "overdue-notice"
) -> None:
    assert env.send(who, case, "sms", template, at=at)["status"] == "sent"


def authorize(env: Env, case: Case, channel: str, kind: str, at: int, org: str = "agency-x") -> int:
    env.at(at)
    return env.engine.authorize(
        org, case.claim_id, channel, kind, idem_key=f"{case.ref}:{at}:{kind}"
    )


def utc(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S")


# ---------------------------------------------------------------------------- hours


@pytest.mark.parametrize(
    ("policy", "tz", "ends"),
    [(CN, 480, "22:00"), (US, 480, "21:00"), (US, -300, "21:00")],
)
def test_contacts_only_within_the_debtors_local_hours(
    env: Env, policy: str, tz: int, ends: str
) -> None:
    case = env.new_claim(dpd=3, policy=policy, tz=tz)  # stage 1: collection SMS allowed
    opens = env.local(8, tz=tz)
    closes = opens + PRESETS[policy].contact_end * 60 - 8 * HOUR

    env.at(opens - 1)  # 07:59:59 for the debtor
    view = env.engine.status(case.claim_id)
    assert {(a["channel"], a["kind"]): a["rule"] for a in view["actions"]}[
        ("sms", "collection")
    ] == "contact-hours"
    assert view["local_time"].endswith(f"07:59:59{'+08:00' if tz == 480 else '-05:00'}")
    env.refused("contact-hours", case, lambda: env.send(AGENCY_X, case, "sms", "overdue-notice"))
    if tz == 480:  # for the chain and the service it is the evening before, in UTC
        assert utc(opens - 1).endswith("23:59:59")
    sms(env, AGENCY_X, case, opens)  # 08:00:00
    sms(env, AGENCY_X, case, closes - 1)  # 21:59:59 (20:59:59 under Regulation F)
    assert datetime.fromtimestamp(closes + tz * 60, UTC).strftime("%H:%M") == ends
    env.refused(
        "contact-hours",
        case,
        lambda: env.send(AGENCY_X, case, "sms", "overdue-notice", at=closes),
    )


# ---------------------------------------------------------------------------- stages


def test_cn_channels_and_kinds_follow_the_stage(env: Env) -> None:
    # UTC+12: the day past due begins at 12:00 local, inside the hours, to the second.
    case = env.new_claim(dpd=0, tz=720, at=env.local(12, tz=720, days=1))
    begins = case.due + DAY
    env.at(begins - HOUR)
    env.refused(
        "channel-not-allowed", case, lambda: env.send(AGENCY_X, case, *CALL, outcome="answered")
    )
    env.refused("kind-not-allowed", case, lambda: env.send(AGENCY_X, case, "sms", "overdue-notice"))
    env.refused(  # 11:59:58 local on the due date: still current
        "channel-not-allowed",
        case,
        lambda: env.send(AGENCY_X, case, *CALL, at=begins - 2, outcome="answered"),
    )
    sms(env, AGENCY_X, case, begins - 1, template="reminder-1")  # current: reminders only
    call(env, AGENCY_X, case, begins)  # day 1: stage 1, calls allowed
    sms(env, AGENCY_X, case, begins + 60)  # and collection messages
    env.refused(  # letters only from stage 2
        "channel-not-allowed",
        case,
        lambda: authorize(env, case, "letter", "collection", begins + 120),
    )


def test_us_channels_and_kinds_follow_the_stage(env: Env) -> None:
    case = env.new_claim(dpd=0, tz=720, policy=US, at=env.local(12, tz=720, days=1))
    begins = case.due + DAY
    env.at(begins - HOUR)
    env.refused("channel-not-allowed", case, lambda: env.send(AGENCY_X, case, "sms", "reminder-1"))
    env.refused(
        "kind-not-allowed", case, lambda: env.send(AGENCY_X, case, "email", "overdue-notice")
    )
    assert env.send(AGENCY_X, case, "email", "reminder-1", at=begins - 1)["status"] == "sent"
    sms(env, AGENCY_X, case, begins)  # stage 1: SMS and collection allowed
    env.refused(  # third parties only from stage 2
        "kind-not-allowed", case, lambda: authorize(env, case, "letter", "third-party", begins + 60)
    )


# ---------------------------------------------------------------------------- caps


def test_cn_daily_attempts_are_the_debtors_local_day(env: Env) -> None:
    case = env.new_claim(dpd=10)  # stage 2
    evening = env.local(20)
    for i in range(6):
        call(env, AGENCY_X, case, evening + i * 600)  # 20:00 ... 20:50
    env.refused(
        "daily-attempts",
        case,
        lambda: env.send(AGENCY_X, case, *CALL, at=evening + 2 * HOUR - 1, outcome="answered"),
    )
    # Every creditor of the debtor shares the cap.
    other = env.new_claim(dpd=10, owner="bank-b", agency="agency-y", debtor=case.debtor)
    env.refused(
        "daily-attempts",
        other,
        lambda: env.send(AGENCY_Y, other, *CALL, at=evening + 2 * HOUR - 1, outcome="answered"),
    )
    call(env, AGENCY_X, case, evening + 12 * HOUR)  # 08:00:00 the next local day
    # SMS are not capped.
    sms(env, AGENCY_X, case, evening + 12 * HOUR + 60)


def test_cn_daily_attempts_cross_utc_midnight_for_a_debtor_in_utc_minus_5(env: Env) -> None:
    case = env.new_claim(dpd=10, tz=-300)
    morning = env.local(10, tz=-300)  # 15:00 UTC
    for i in range(3):
        call(env, AGENCY_X, case, morning + i * 600)
    evening = morning + 10 * HOUR  # 20:00 local, 01:00 UTC the next UTC day
    assert utc(evening)[:10] != utc(morning)[:10]
    for i in range(3):
        call(env, AGENCY_X, case, evening + i * 600)
    env.refused(
        "daily-attempts",
        case,
        lambda: env.send(AGENCY_X, case, *CALL, at=evening + HOUR, outcome="answered"),
    )
    call(env, AGENCY_X, case, morning + 22 * HOUR)  # 08:00 the next local day


def test_us_has_no_daily_cap_and_cn_no_weekly_cap(env: Env) -> None:
    us = env.new_claim(dpd=10, policy=US)
    t = env.local(9)
    for i in range(7):  # all seven of the week in one day: Regulation F allows it
        call(env, AGENCY_X, us, t + i * 600)
    cn = env.new_claim(dpd=10)
    day = env.local(9)
    for d in range(2):  # 12 calls in two days: no 7-in-7 cap under the CBA guideline
        for i in range(6):
            call(env, AGENCY_X, cn, day + d * DAY + i * 600)


def test_two_creditors_and_two_agencies_share_one_weekly_budget(env: Env) -> None:
    """Regulation F's 7 calls in 7 days are the debtor's: bank-a, its agency, bank-b and its
    agency calling about two claims draw on one budget, through the gateway; the refused
    call is not made and the debtor's number is not decrypted."""
    debtor = hashlib.sha256(b"one debtor, two creditors").digest()
    a = env.new_claim(dpd=10, policy=US, owner="bank-a", agency="agency-x", debtor=debtor)
    b = env.new_claim(dpd=10, policy=US, owner="bank-b", agency="agency-y", debtor=debtor)
    t0 = env.local(9)
    callers = [
        (BANK_A, a),
        (AGENCY_X, a),
        (BANK_B, b),
        (AGENCY_Y, b),
        (AGENCY_X, a),
        (AGENCY_Y, b),
        (BANK_B, b),
    ]
    for i, (who, case) in enumerate(callers):
        call(env, who, case, t0 + i * HOUR)
    for i, (who, case) in enumerate([(BANK_A, a), (AGENCY_Y, b), (BANK_B, b)]):
        env.refused(
            "weekly-contacts",
            case,
            lambda who=who, case=case, i=i: env.send(
                who, case, *CALL, at=t0 + 8 * HOUR + i * 60, outcome="answered"
            ),
        )
    # E-mail is not a capped channel.
    assert env.send(AGENCY_Y, b, "email", "overdue-notice", at=t0 + 9 * HOUR)["status"] == "sent"
    # The first call leaves the week at t0 + 7 days: one second before, still refused.
    env.refused(
        "weekly-contacts",
        a,
        lambda: env.send(AGENCY_X, a, *CALL, at=t0 + WEEK - 1, outcome="answered"),
    )
    call(env, AGENCY_X, a, t0 + WEEK)
    recent, _ = env.engine.policy.call("debtor_contacts", debtor)
    assert recent[0] == t0 + WEEK and recent[6] == t0 + HOUR


# ---------------------------------------------------------------------------- cooling-off


def test_us_cooling_off_after_a_conversation(env: Env) -> None:
    case = env.new_claim(dpd=10, policy=US)
    call(env, AGENCY_X, case, env.local(10), outcome="conversation")
    _, talked = env.engine.policy.call("debtor_contacts", case.debtor)
    assert talked > 0
    sms(env, AGENCY_X, case, talked + DAY)  # SMS are not capped: allowed meanwhile
    env.refused(
        "cooling-off",
        case,
        lambda: env.send(AGENCY_X, case, *CALL, at=talked + WEEK - 1, outcome="answered"),
    )
    call(env, AGENCY_X, case, talked + WEEK)


def test_cn_has_no_cooling_off(env: Env) -> None:
    case = env.new_claim(dpd=10)
    call(env, AGENCY_X, case, env.local(10), outcome="promise_to_pay")
    _, talked = env.engine.policy.call("debtor_contacts", case.debtor)
    call(env, AGENCY_X, case, talked + 60)


# ---------------------------------------------------------------------------- third parties


def test_cn_third_parties_after_three_unanswered_attempts(env: Env) -> None:
    case = env.new_claim(dpd=10)  # stage 2: third parties allowed by kind
    t = env.local(10)
    call(env, AGENCY_X, case, t, outcome="unanswered")
    call(env, AGENCY_X, case, t + 600, outcome="answered")  # answered: does not count
    call(env, AGENCY_X, case, t + 1200, outcome="unanswered")
    env.refused(
        "third-party", case, lambda: authorize(env, case, "letter", "third-party", t + 1800)
    )
    call(env, AGENCY_X, case, t + 2400, outcome="unanswered")
    assert env.enrolment(case)[7] == 3
    assert authorize(env, case, "letter", "third-party", t + 3000) > 0


def test_us_third_parties_need_no_attempts(env: Env) -> None:
    case = env.new_claim(dpd=10, policy=US)
    assert authorize(env, case, "letter", "third-party", env.local(10)) > 0


# ---------------------------------------------------------------------------- credit reports


@BOTH
def test_credit_reports_wait_after_the_first_contact(env: Env, policy: str) -> None:
    wait = PRESETS[policy].credit_report_wait_days * DAY
    case = env.new_claim(dpd=3, policy=policy)
    t = env.local(10)
    env.refused(  # no contact yet: no report
        "credit-report-wait", case, lambda: authorize(env, case, "email", "credit-report", t)
    )
    sms(env, AGENCY_X, case, t + 60)
    first = env.enrolment(case)[8]
    assert first == t + 60
    env.refused(
        "credit-report-wait",
        case,
        lambda: authorize(env, case, "email", "credit-report", first + wait - 1),
    )
    assert authorize(env, case, "email", "credit-report", first + wait) > 0


# ---------------------------------------------------------------------------- legal action


@BOTH
def test_legal_action_from_the_legal_stage(env: Env, policy: str) -> None:
    rules = PRESETS[policy]
    threshold = rules.stage_days[rules.legal_min_stage - 1]  # cn: day 91, us: day 31
    opens = env.local(8, days=1)  # 08:00 local = 00:00 UTC: a new day past due begins
    case = env.new_claim(dpd=threshold, at=opens, policy=policy)
    env.refused(  # 20:00 the evening before: one day short
        "legal-stage",
        case,
        lambda: env.send(AGENCY_X, case, "email", "legal-notice", at=opens - 12 * HOUR),
    )
    assert env.send(AGENCY_X, case, "email", "legal-notice", at=opens)["status"] == "sent"


@BOTH
def test_no_legal_action_on_time_barred_debt(env: Env, policy: str) -> None:
    # UTC+12: the limitation period ends at 12:00 local (00:00 UTC), inside the hours.
    limitation = PRESETS[policy].limitation_days
    barred = env.local(12, tz=720, days=1)
    case = env.new_claim(dpd=limitation, at=barred, tz=720, policy=policy)
    assert case.due + limitation * DAY == barred
    assert env.send(AGENCY_X, case, "email", "legal-notice", at=barred - 1)["status"] == "sent"
    env.refused(
        "time-barred",
        case,
        lambda: env.send(AGENCY_X, case, "email", "legal-notice", at=barred),
    )


# ---------------------------------------------------------------------------- who and what


@BOTH
def test_only_a_mandated_agency_or_the_owner_until_the_mandate_ends(env: Env, policy: str) -> None:
    case = env.new_claim(dpd=3, policy=policy, agency=None)
    ends = env.local(12, days=1)
    env.claims.mandate(
        case.claim_id,
        "bank-a",
        "agency-x",
        datetime.fromtimestamp(ends, UTC),
        idem_key=f"m2:{case.ref}",
    )
    t = ends - DAY
    env.refused(
        "not-mandated",
        case,
        lambda: authorize(env, case, "sms", "collection", t, org="agency-y"),
    )
    for stranger in (AGENCY_Y, BANK_B):  # the gateway does not even ask the chain for them
        before = env.seen(case)
        with pytest.raises(Forbidden):
            env.send(stranger, case, "sms", "overdue-notice", at=t)
        assert env.seen(case) == before
    sms(env, AGENCY_X, case, t + 1)
    sms(env, BANK_A, case, t + 2)  # the owner needs no mandate
    sms(env, AGENCY_X, case, ends - 1)
    # At the expiry the gateway's own look (the latest block) still sees the mandate; the
    # contract, at the block's time, does not.
    env.refused(
        "not-mandated", case, lambda: env.send(AGENCY_X, case, "sms", "overdue-notice", at=ends)
    )


@BOTH
def test_no_contact_on_a_closed_or_unenrolled_claim(env: Env, policy: str) -> None:
    t = env.local(10)
    case = env.new_claim(dpd=3, policy=None, agency=None)
    env.refused("not-enrolled", case, lambda: env.send(BANK_A, case, "sms", "overdue-notice", at=t))
    env.engine.enrol(
        case.claim_id, "bank-a", policy=policy, tz_offset_minutes=480, idem_key=f"e2:{case.ref}"
    )
    sms(env, BANK_A, case, t + 60)
    env.claims.settle(case.claim_id, "bank-a", "settled", idem_key=f"s:{case.ref}")
    env.refused(
        "claim-inactive",
        case,
        lambda: env.send(BANK_A, case, "sms", "overdue-notice", at=t + 120),
    )


@BOTH
def test_a_plan_in_good_standing_pauses_collection_but_not_reminders(env: Env, policy: str) -> None:
    case = env.new_claim(dpd=20, policy=policy)
    t = env.local(10)
    sms(env, AGENCY_X, case, t)
    first = (datetime.fromtimestamp(t, UTC) + timedelta(days=30)).date()
    env.plans.propose(
        case.claim_id, "bank-a", equal_instalments(90_000, 3, first), idem_key=f"p:{case.ref}"
    )
    digest = bytes.fromhex(env.plans.show(case.claim_id)["schedule_hash"][2:])
    env.plans.consent(
        case.claim_id, schedule_hash=digest, statement="yes", idem_key=f"c:{case.ref}"
    )
    env.refused(
        "collection-paused",
        case,
        lambda: env.send(AGENCY_X, case, "sms", "overdue-notice", at=t + 600),
    )
    channel = "sms" if policy == CN else "email"  # what each allows at stage 0
    assert env.send(AGENCY_X, case, channel, "reminder-1", at=t + 660)["status"] == "sent"
