"""CollectionPolicy.record_outcome: how a contact went, once, by its agency or a gateway."""

import boa
import pytest
from eth_utils import keccak

from debtledger.domain.policies import Channel, Kind, Outcome

from .conftest import local

VOICE, COLLECT = int(Channel.VOICE), int(Kind.COLLECTION)
DEBTOR = keccak(text="shared-debtor")


@pytest.fixture
def contact(enrolled, authorize, at):
    at(local(10, 9, 0))
    cid = enrolled()
    return cid, authorize(cid, VOICE, COLLECT)


@pytest.mark.parametrize("caller", ["gateway", "agency"])
def test_recorded_with_event(policy, actors, contact, outcome, events, at, caller):
    cid, contact_id = contact
    now = at(local(10, 9, 5))
    outcome(contact_id, Outcome.ANSWERED, caller=caller)
    assert events(policy) == [
        (
            "OutcomeRecorded",
            {
                "claim_id": cid,
                "recorded_by": getattr(actors, caller),
                "contact_id": contact_id,
                "outcome": 1,
                "at": now,
            },
        )
    ]
    assert policy.contact_of(contact_id) == (cid, actors.agency, 1)
    e = policy.enrolment(cid)
    assert (e.failed_attempts, policy.debtor_contacts(DEBTOR)[1]) == (0, 0)


def test_unanswered_counts_a_failed_attempt(policy, contact, outcome, authorize):
    cid, contact_id = contact
    outcome(contact_id, Outcome.UNANSWERED)
    outcome(authorize(cid, VOICE, COLLECT), Outcome.UNANSWERED)
    assert policy.enrolment(cid).failed_attempts == 2
    assert policy.debtor_contacts(DEBTOR)[1] == 0


@pytest.mark.parametrize("result", [Outcome.CONVERSATION, Outcome.PROMISE_TO_PAY])
def test_conversation_starts_cooling_off_and_keeps_recent_contacts(
    policy, contact, outcome, at, result
):
    cid, contact_id = contact
    recent_before = policy.debtor_contacts(DEBTOR)[0]
    now = at(local(10, 9, 30))
    outcome(contact_id, result)
    assert policy.debtor_contacts(DEBTOR) == (recent_before, now)
    assert policy.enrolment(cid).failed_attempts == 0


def test_outcome_for_the_owners_contact(policy, actors, enrolled, authorize, outcome, at):
    at(local(10, 9, 0))
    cid = enrolled(agency=None)
    contact_id = authorize(cid, VOICE, COLLECT, agency="creditor", caller="creditor")
    outcome(contact_id, Outcome.UNANSWERED, caller="creditor")
    assert policy.contact_of(contact_id) == (cid, actors.creditor, 2)


def test_only_once(contact, outcome):
    _, contact_id = contact
    outcome(contact_id, Outcome.UNANSWERED)
    with boa.reverts("collection: outcome already recorded"):
        outcome(contact_id, Outcome.CONVERSATION)


@pytest.mark.parametrize("caller", ["agency2", "creditor", "keeper", "stranger"])
def test_refused_for_others(policy, contact, outcome, caller):
    _, contact_id = contact
    with boa.reverts("collection: caller is not the agency or a gateway"):
        outcome(contact_id, Outcome.UNANSWERED, caller=caller)
    assert policy.contact_of(contact_id)[2] == 0


@pytest.mark.parametrize("contact_id", [0, 2, 2**256 - 1])
def test_unknown_contact(contact, outcome, contact_id):
    with boa.reverts("collection: unknown contact"):
        outcome(contact_id, Outcome.ANSWERED)


@pytest.mark.parametrize("value", [0, 5, 255])
def test_unknown_outcome(contact, outcome, value):
    _, contact_id = contact
    with boa.reverts("collection: unknown outcome"):
        outcome(contact_id, value)


def test_failed_attempts_saturate_at_255(policy, contact, authorize, outcome):
    """The count has 8 bits of the claim's slot: it stops at 255 and never carries into the
    stored stage next to it."""
    cid, first = contact
    outcome(first, Outcome.UNANSWERED)
    sms = int(Channel.SMS)
    for _ in range(255):
        outcome(authorize(cid, sms, COLLECT), Outcome.UNANSWERED)
    e = policy.enrolment(cid)
    assert (e.failed_attempts, e.stage) == (255, 0)
