"""ClaimRegistry.grant_mandate: the owner mandates an agency until a future time."""

import boa
import pytest
from eth_utils import keccak

from tests.contracts.conftest import NOT_ACTIVE

DAY = 86_400


def test_owner_mandates_agency(registry, actors, claim, events):
    expiry = boa.env.timestamp + 30 * DAY
    with boa.env.prank(actors.creditor):
        registry.grant_mandate(claim, actors.agency, expiry)
    assert events(registry) == [
        (
            "MandateGranted",
            {
                "claim_id": claim,
                "owner": actors.creditor,
                "agency": actors.agency,
                "expiry": expiry,
            },
        )
    ]
    assert registry.mandate_of(claim) == (actors.agency, expiry)
    assert registry.is_mandated(claim, actors.agency)


def test_refused_for_non_owner(registry, actors, claim):
    with boa.env.prank(actors.agency), boa.reverts("registry: caller is not the owner"):
        registry.grant_mandate(claim, actors.agency, boa.env.timestamp + DAY)
    assert not registry.is_mandated(claim, actors.agency)


@pytest.mark.parametrize("mandatee", ["court", "creditor2", "stranger"])
def test_mandatee_must_be_agency(registry, actors, claim, mandatee):
    with boa.env.prank(actors.creditor), boa.reverts("registry: mandatee is not an agency"):
        registry.grant_mandate(claim, getattr(actors, mandatee), boa.env.timestamp + DAY)


def test_expiry_now_refused(registry, actors, claim):
    with boa.env.prank(actors.creditor), boa.reverts("registry: mandate expiry is in the past"):
        registry.grant_mandate(claim, actors.agency, boa.env.timestamp)


def test_expiry_one_second_ahead_allowed(registry, actors, claim):
    expiry = boa.env.timestamp + 1
    with boa.env.prank(actors.creditor):
        registry.grant_mandate(claim, actors.agency, expiry)
    assert registry.mandate_of(claim) == (actors.agency, expiry)


def test_new_mandate_replaces_old(registry, consortium, actors, claim, role, events):
    agency2 = boa.env.generate_address()
    with boa.env.prank(actors.admin):
        consortium.grant_role(role("AGENCY"), agency2, keccak(text="org:agency2"))
    with boa.env.prank(actors.creditor):
        registry.grant_mandate(claim, actors.agency, boa.env.timestamp + DAY)
        registry.grant_mandate(claim, agency2, boa.env.timestamp + 2 * DAY)
        logged = [name for name, _ in events(registry)]
    assert logged == ["MandateRevoked", "MandateGranted"]  # the old agency's end is on record
    assert registry.mandate_of(claim) == (agency2, boa.env.timestamp + 2 * DAY)
    assert not registry.is_mandated(claim, actors.agency)


@NOT_ACTIVE
def test_refused_unless_active(registry, actors, claim, move_to, status, reason):
    move_to(claim, status)
    with boa.env.prank(actors.creditor), boa.reverts(reason):
        registry.grant_mandate(claim, actors.agency, boa.env.timestamp + DAY)
