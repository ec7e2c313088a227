"""CollectionPolicy.authorize_contact: who may ask, and the requester rules (mandate, claim
state, enrolment). The contact rules of each preset are in test_rules_*.py."""

import boa
import pytest
from eth_utils import keccak

from debtledger.domain.policies import Channel, Kind

from ..conftest import DUE, NOT_ACTIVE
from .conftest import local

VOICE, SMS, COLLECT = int(Channel.VOICE), int(Channel.SMS), int(Kind.COLLECTION)
DEBTOR = keccak(text="shared-debtor")


@pytest.fixture
def cid(enrolled, at):
    at(local(10, 9, 0))  # stage 2, 09:00 in Beijing
    return enrolled()


def test_gateway_authorises_for_the_agency(policy, actors, cid, authorize, events):
    contact_id = authorize(cid, VOICE, COLLECT)
    assert contact_id == 1
    assert events(policy) == [
        (
            "ContactAuthorized",
            {
                "contact_id": 1,
                "claim_id": cid,
                "debtor": DEBTOR,
                "agency": actors.agency,
                "channel": VOICE,
                "kind": COLLECT,
                "at": local(10, 9, 0),
            },
        )
    ]
    assert policy.contact_of(1) == (cid, actors.agency, 0)
    assert policy.contact_count() == 1
    assert policy.debtor_contacts(DEBTOR) == ([local(10, 9, 0)] + [0] * 6, 0)
    assert policy.enrolment(cid).first_contact == local(10, 9, 0)


def test_contact_ids_are_sequential_and_first_contact_stays(policy, cid, authorize, at):
    ids = [authorize(cid, SMS, COLLECT)]
    at(local(10, 10, 0))
    ids.append(authorize(cid, SMS, COLLECT))
    assert ids == [1, 2]
    assert policy.enrolment(cid).first_contact == local(10, 9, 0)


@pytest.mark.parametrize(
    ("caller", "agency"),
    [("agency", "agency"), ("creditor", "creditor"), ("gateway", "creditor")],
)
def test_mandated_agency_or_owner_directly_or_through_the_gateway(cid, authorize, caller, agency):
    assert authorize(cid, SMS, COLLECT, agency=agency, caller=caller) == 1


@pytest.mark.parametrize(
    ("caller", "agency"),
    [
        ("stranger", "agency"),
        ("agency2", "agency"),  # another agency cannot speak for the mandated one
        ("creditor", "agency"),  # nor the owner
        ("keeper", "agency"),
        ("regulator", "agency"),
        ("court", "creditor"),
    ],
)
def test_refused_for_other_callers(cid, authorize, caller, agency):
    with boa.reverts("collection: caller is not the agency or a gateway"):
        authorize(cid, SMS, COLLECT, agency=agency, caller=caller)


@pytest.mark.parametrize(("channel", "kind", "reason"), [(5, 1, "channel"), (2, 5, "kind")])
def test_unknown_channel_or_kind_refused(policy, actors, cid, authorize, channel, kind, reason):
    with boa.reverts(f"collection: unknown {reason}"):
        authorize(cid, channel, kind)
    with boa.reverts(f"collection: unknown {reason}"):
        policy.check_contact(cid, channel, kind, actors.agency)


@pytest.mark.parametrize("agency", ["agency2", "creditor2", "stranger"])
def test_not_mandated(policy, cid, authorize, party, agency):
    with boa.reverts("policy: not-mandated"):
        authorize(cid, SMS, COLLECT, agency=agency)
    assert policy.check_contact(cid, SMS, COLLECT, party(agency)) == "not-mandated"


def test_expired_mandate_is_not_a_mandate(registry, actors, cid, authorize, at):
    with boa.env.prank(actors.creditor):
        registry.grant_mandate(cid, actors.agency, local(10, 12, 0))
    assert authorize(cid, SMS, COLLECT) == 1
    at(local(10, 12, 0))  # the expiry itself is past the mandate
    with boa.reverts("policy: not-mandated"):
        authorize(cid, SMS, COLLECT)
    assert authorize(cid, SMS, COLLECT, agency="creditor") == 2  # the owner still may


def test_unknown_claim_is_not_mandated(policy, actors, authorize):
    ghost = keccak(text="ghost")
    with boa.reverts("policy: not-mandated"):
        authorize(ghost, SMS, COLLECT)
    assert policy.check_contact(ghost, SMS, COLLECT, actors.creditor) == "not-mandated"


@NOT_ACTIVE
@pytest.mark.parametrize("agency", ["agency", "creditor"])
def test_inactive_claim(policy, cid, authorize, move_to, party, status, reason, agency):
    move_to(cid, status)
    with boa.reverts("policy: claim-inactive"):
        authorize(cid, SMS, COLLECT, agency=agency)
    assert policy.check_contact(cid, SMS, COLLECT, party(agency)) == "claim-inactive"


def test_not_enrolled(policy, actors, registry, claim, authorize, at):
    with boa.env.prank(actors.creditor):
        registry.grant_mandate(claim, actors.agency, 2**63)
    at(local(10, 9, 0))
    with boa.reverts("policy: not-enrolled"):
        authorize(claim, SMS, COLLECT)
    assert policy.check_contact(claim, SMS, COLLECT, actors.agency) == "not-enrolled"
    with boa.reverts("policy: not-enrolled"):
        authorize(claim, SMS, COLLECT, agency="creditor")


def test_refusal_changes_nothing(policy, cid, authorize, at):
    at(local(10, 23, 0))
    with boa.reverts("policy: contact-hours"):
        authorize(cid, VOICE, COLLECT)
    assert policy.contact_count() == 0
    assert policy.debtor_contacts(DEBTOR) == ([0] * 7, 0)
    assert policy.enrolment(cid).first_contact == 0


def test_uncapped_channel_leaves_the_debtors_budget(policy, cid, authorize):
    authorize(cid, SMS, COLLECT)
    assert policy.debtor_contacts(DEBTOR) == ([0] * 7, 0)
    assert policy.enrolment(cid).first_contact == local(10, 9, 0)


def test_due_date_label_independent_of_zone(policy, enrolled, at, authorize):
    """A due date is a UTC-midnight label; days past due count from it for every debtor."""
    west = enrolled(tz=-600, debtor=keccak(text="hawaii"))
    at(DUE + 86_400 + 20 * 3600)  # 10:00 in UTC-10, one day and 20 h after the label
    assert policy.stage_of(west) == (0, 1, 1)
    assert authorize(west, SMS, COLLECT) == 1
