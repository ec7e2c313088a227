"""CollectionPolicy.check_contact: "" or the rule that would refuse, exactly as the Python
reference (debtledger.domain.policies.check_contact) decides, on generated histories.

Examples: DEBTLEDGER_HYPOTHESIS_EXAMPLES (default 60); each runs in a boa anchor.
"""

import os

import boa
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from debtledger.domain.policies import (
    PRESETS,
    Channel,
    ContactState,
    Kind,
    Outcome,
    after_contact,
    after_outcome,
    check_contact,
)

from ..conftest import DUE
from .conftest import local

DAY = 86_400
SETTINGS = settings(
    max_examples=int(os.environ.get("DEBTLEDGER_HYPOTHESIS_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Mostly minutes apart (caps, hours), sometimes days (stages, waits, cooling-off); calls to
# collect more often than the rest, so histories reach the caps.
gap = st.one_of(st.integers(0, 1_800), st.integers(0, 2 * DAY), st.integers(0, 40 * DAY))
step = st.tuples(
    gap,
    st.one_of(st.just(Channel.VOICE), st.sampled_from(Channel)),
    st.one_of(st.just(Kind.COLLECTION), st.sampled_from(Kind)),
    st.one_of(st.none(), st.sampled_from(Outcome)),
    st.one_of(st.just(1), st.integers(1, 8)),  # the same contact tried again, a minute apart
)
# First step: a day past due (stage 2 and 4 often, up to past the limitation period) and a
# local time of day (mostly inside contact hours).
first_day = st.one_of(st.integers(8, 40), st.integers(-3, 1200))
first_minute = st.one_of(st.integers(8 * 60, 20 * 60), st.integers(0, 1439))


@pytest.mark.parametrize("agency", ["agency", "creditor"])
def test_allowed_is_the_empty_string(policy, enrolled, at, party, agency):
    cid = enrolled()
    at(local(10, 9, 0))
    assert policy.check_contact(cid, 2, 1, party(agency)) == ""


def test_view_changes_nothing(policy, actors, enrolled, at):
    cid = enrolled()
    at(local(10, 9, 0))
    for _ in range(8):
        assert policy.check_contact(cid, 2, 1, actors.agency) == ""
    assert policy.contact_count() == 0


@SETTINGS
@given(
    preset=st.sampled_from(sorted(PRESETS)),
    tz=st.sampled_from([480, -300, 0, 840, -720, 330]),
    day=first_day,
    minute=first_minute,
    steps=st.lists(step, min_size=1, max_size=16),
)
def test_contract_decides_as_the_reference(
    policy, enrolled, at, authorize, outcome, chain_state, party, preset, tz, day, minute, steps
):
    rules = PRESETS[preset]
    with boa.env.anchor():
        cid = enrolled(preset=preset, tz=tz)
        model = ContactState(due_date=DUE, tz_offset_minutes=tz)
        now = local(day, 0, minute, tz)
        for wait, channel, kind, result, tries in steps:
            for i in range(tries):
                now = at(now + (wait if i == 0 else 60))
                assert chain_state(cid) == model
                expected = check_contact(rules, model, now, channel, kind)
                assert policy.check_contact(cid, channel, kind, party("agency")) == (expected or "")
                event(expected or "allowed")
                if expected is not None:
                    with boa.reverts(f"policy: {expected}"):
                        authorize(cid, channel, kind)
                    continue
                contact_id = authorize(cid, channel, kind)
                model = after_contact(rules, model, now, channel)
                if result is not None:
                    outcome(contact_id, result)
                    model = after_outcome(model, now, result)
        assert chain_state(cid) == model
