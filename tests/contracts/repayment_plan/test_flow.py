"""A plan through the collection engine: kept, collection stays paused and the claim
current; missed, the claim is back at the stage of its days past due after the grace."""

import boa
from eth_utils import keccak

from debtledger.domain.policies import Channel, Kind

from ..conftest import DUE
from .conftest import COMPLETED, START, monthly

DAY = 86_400
SMS, VOICE = int(Channel.SMS), int(Channel.VOICE)
REMIND, COLLECT = int(Kind.REMINDER), int(Kind.COLLECTION)


def ask(policy, actors, cid, channel, kind):
    return policy.check_contact(cid, channel, kind, actors.agency)


def test_plan_paid_on_time(plans, policy, actors, active_plan, pay, at):
    at(START + 3600)  # 09:00 in Beijing
    assert policy.stage_of(active_plan) == (0, 0, 40)
    assert ask(policy, actors, active_plan, VOICE, COLLECT) == "collection-paused"
    assert ask(policy, actors, active_plan, SMS, REMIND) == ""
    for i in range(4):
        at(START + (30 + 30 * i) * DAY + 3600)
        with boa.env.prank(actors.keeper):
            policy.advance([active_plan])
        assert policy.stage_of(active_plan) == (0, 0, 40)  # overdue flag stays cleared
        assert ask(policy, actors, active_plan, VOICE, COLLECT) == "collection-paused"
        assert plans.check_missed(active_plan) is False
        pay(active_plan, 2_000)
    assert plans.plan_of(active_plan).state == COMPLETED


def test_missed_instalment_back_at_the_right_stage(
    plans, policy, actors, enrolled, propose, consent, at
):
    at(DUE + 85 * DAY)  # stage 3
    cid = enrolled(debtor=keccak(text="flow"))
    missed = DUE + 115 * DAY
    propose(cid, monthly(3, 2_000, first=missed), grace=10)
    consent(cid)
    at(missed + 10 * DAY)  # 08:00 in Beijing, the grace's last second
    assert plans.check_missed(cid) is False
    assert ask(policy, actors, cid, VOICE, COLLECT) == "collection-paused"
    at(missed + 10 * DAY + 1)
    assert plans.check_missed(cid) is True
    # 85 days before the plan + 10 since the missed instalment; the 30 days kept excluded
    assert policy.stage_of(cid) == (4, 4, 95)
    assert ask(policy, actors, cid, VOICE, COLLECT) == ""
    assert ask(policy, actors, cid, int(Channel.LETTER), int(Kind.LEGAL)) == ""
