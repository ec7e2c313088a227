"""CollectionPolicy test fixtures: local times of the debtor, calls as a party, and the state the
contract holds read back as the reference model's ContactState."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boa
import pytest

from debtledger.domain.policies import ContactState

from ..conftest import DUE, Actors

DAY = 86_400
CST = 480  # UTC+8, China Standard Time
EST = -300  # UTC-5


def local(days: int, hh: int, mm: int = 0, tz: int = CST) -> int:
    """Unix time of hh:mm in the debtor's zone, `days` calendar days after the due date."""
    return DUE + days * DAY + (hh * 60 + mm - tz) * 60


@pytest.fixture
def party(actors: Actors, agency2: str) -> Callable[[str], str]:
    """An address by role name ("agency", "agency2", "gateway", ...) or the address itself."""

    def resolve(name: str) -> str:
        if name == "agency2":
            return agency2
        return str(getattr(actors, name, name))

    return resolve


@pytest.fixture
def authorize(policy: Any, party: Callable[[str], str]) -> Callable[..., int]:
    """authorize_contact as `caller` (default: the gateway) for `agency` (default: agency)."""

    def do(
        claim_id: bytes, channel: int, kind: int, agency: str = "agency", caller: str = "gateway"
    ) -> int:
        with boa.env.prank(party(caller)):
            return int(policy.authorize_contact(claim_id, int(channel), int(kind), party(agency)))

    return do


@pytest.fixture
def outcome(policy: Any, party: Callable[[str], str]) -> Callable[..., None]:
    """record_outcome as `caller` (default: the gateway)."""

    def do(contact_id: int, result: int, caller: str = "gateway") -> None:
        with boa.env.prank(party(caller)):
            policy.record_outcome(contact_id, int(result))

    return do


@pytest.fixture
def chain_state(policy: Any, registry: Any, party: Callable[[str], str]) -> Callable[..., Any]:
    """The reference model's ContactState for a claim and a requester, read from the chain."""

    def read(claim_id: bytes, agency: str = "agency") -> ContactState:
        who = party(agency)
        enrolled = policy.is_enrolled(claim_id)
        info = registry.claims(claim_id)
        mandatee, expiry = registry.mandate_of(claim_id)
        live = mandatee == who and expiry > boa.env.timestamp
        if not enrolled:
            return ContactState(due_date=info.due_date, enrolled=False)
        e = policy.enrolment(claim_id)
        recent, conversation = policy.debtor_contacts(e.debtor)
        return ContactState(
            due_date=e.due_date,
            tz_offset_minutes=e.tz_offset_minutes,
            mandated=live or info.owner == who,
            active=info.status == 1,
            paused_since=e.paused_since,
            paused_seconds=e.paused_seconds,
            failed_attempts=e.failed_attempts,
            first_contact=e.first_contact,
            recent=tuple(t for t in recent if t),
            last_conversation=conversation,
        )

    return read
