"""Stateful property test: random sequences of contacts, outcomes, pauses, resumes, keeper
runs and time on three claims (two creditors' claims on one debtor, a third debtor) keep
the contract equal to the Python reference model, decision by decision.

Examples: DEBTLEDGER_HYPOTHESIS_EXAMPLES (default 40). Each example runs in a boa anchor.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, replace
from typing import Any

import boa
from eth_utils import keccak
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from debtledger.domain.claims import pack_claim
from debtledger.domain.policies import (
    PRESETS,
    Channel,
    ContactState,
    Kind,
    Outcome,
    PolicyRules,
    after_contact,
    after_outcome,
    after_pause,
    after_resume,
    check_contact,
    days_past_due,
    due_stage,
)

from ..conftest import DUE, FAR

DAY = 86_400
SETTINGS = settings(
    max_examples=int(os.environ.get("DEBTLEDGER_HYPOTHESIS_EXAMPLES", "40")),
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
DEBTORS = (keccak(text="inv-debtor-1"), keccak(text="inv-debtor-2"))
# claim index -> (owner, agency, debtor index)
CLAIMS = (("creditor", "agency", 0), ("creditor2", "agency2", 0), ("creditor", "agency", 1))
CALLERS = ("gateway", "agency", "owner", "stranger")


@dataclass
class ClaimModel:
    rules: PolicyRules
    tz: int
    state: ContactState  # the claim's fields; the debtor's are kept in `debtors`
    stored_stage: int = 0


class PolicyMachine(RuleBasedStateMachine):
    """Bound to a deployment by `test_policy_invariants` (class attributes)."""

    policy: Any
    registry: Any
    plans: str
    addr: dict[str, str]

    def __init__(self) -> None:
        super().__init__()
        self._anchor = boa.env.anchor()
        self._anchor.__enter__()
        self.claims: list[ClaimModel] = []
        self.ids: list[bytes] = []
        self.debtors: dict[int, tuple[tuple[int, ...], int]] = {0: ((), 0), 1: ((), 0)}
        self.contacts: dict[int, tuple[int, str, bool]] = {}  # id -> (claim, agency, recorded)
        self.now = 0

    def teardown(self) -> None:
        try:
            if sys.exc_info()[0] is None:
                self.matches()
        finally:
            self._anchor.__exit__(None, None, None)

    # ------------------------------------------------------------------ the model

    def view(self, i: int) -> ContactState:
        recent, conversation = self.debtors[CLAIMS[i][2]]
        return replace(self.claims[i].state, recent=recent, last_conversation=conversation)

    def store(self, i: int, state: ContactState) -> None:
        self.debtors[CLAIMS[i][2]] = (state.recent, state.last_conversation)
        self.claims[i].state = replace(state, recent=(), last_conversation=0)

    def tick(self, seconds: int) -> None:
        self.now += seconds
        boa.env.evm.patch.timestamp = self.now

    def call(self, sender: str, fn: Any, *args: Any) -> tuple[bool, Any, str | None]:
        try:
            with boa.env.prank(sender):
                return True, fn(*args), None
        except boa.BoaError as e:
            return False, None, e.stack_trace.last_frame.pretty_vm_reason

    # ------------------------------------------------------------------ rules

    @initialize(
        presets=st.tuples(*[st.sampled_from(sorted(PRESETS))] * 3),
        zones=st.tuples(*[st.sampled_from([480, -300, 0, 330])] * 3),
        start=st.integers(-2 * DAY, 200 * DAY),
    )
    def enrol(self, presets: tuple[str, ...], zones: tuple[int, ...], start: int) -> None:
        self.now = DUE + start
        boa.env.evm.patch.timestamp = self.now
        for i, ((owner, agency, debtor), preset, tz) in enumerate(
            zip(CLAIMS, presets, zones, strict=True)
        ):
            cid = keccak(text=f"inv-claim-{i}")
            with boa.env.prank(self.addr[owner]):
                self.registry.register(
                    pack_claim(cid, DEBTORS[debtor], 10_000, 10_000, b"CNY", DUE, cid)
                )
                self.registry.grant_mandate(cid, self.addr[agency], FAR)
                self.policy.enrol(cid, keccak(text=preset), DEBTORS[debtor], tz)
            self.ids.append(cid)
            self.claims.append(
                ClaimModel(PRESETS[preset], tz, ContactState(due_date=DUE, tz_offset_minutes=tz))
            )

    @rule(seconds=st.one_of(st.integers(0, 600), st.integers(0, DAY), st.integers(0, 30 * DAY)))
    def time_passes(self, seconds: int) -> None:
        self.tick(seconds)

    @rule(
        i=st.integers(0, 2),
        channel=st.one_of(st.just(Channel.VOICE), st.sampled_from(Channel)),
        kind=st.one_of(st.just(Kind.COLLECTION), st.sampled_from(Kind)),
        caller=st.sampled_from(CALLERS),
        tries=st.integers(1, 4),
    )
    def contact(self, i: int, channel: Channel, kind: Kind, caller: str, tries: int) -> None:
        owner, agency, _ = CLAIMS[i]
        party = owner if caller == "owner" else agency
        sender = {"gateway": "gateway", "stranger": "stranger"}.get(caller, party)
        for _ in range(tries):
            self.tick(60)
            m = self.claims[i]
            expected = check_contact(m.rules, self.view(i), self.now, channel, kind)
            ok, contact_id, reason = self.call(
                self.addr[sender],
                self.policy.authorize_contact,
                self.ids[i],
                int(channel),
                int(kind),
                self.addr[party],
            )
            if caller == "stranger":
                assert reason == "collection: caller is not the agency or a gateway"
                return
            assert ok == (expected is None), (reason, expected)
            if not ok:
                assert reason == f"policy: {expected}"
                continue
            assert contact_id == len(self.contacts) + 1
            self.contacts[contact_id] = (i, party, False)
            self.store(i, after_contact(m.rules, self.view(i), self.now, channel))

    @rule(
        pick=st.integers(0, 10**6),
        result=st.sampled_from(Outcome),
        by_gateway=st.booleans(),
    )
    def record(self, pick: int, result: Outcome, by_gateway: bool) -> None:
        if not self.contacts:
            return
        contact_id = 1 + pick % len(self.contacts)
        i, party, recorded = self.contacts[contact_id]
        sender = self.addr["gateway" if by_gateway else party]
        ok, _, reason = self.call(sender, self.policy.record_outcome, contact_id, int(result))
        assert ok == (not recorded), reason
        if ok:
            self.contacts[contact_id] = (i, party, True)
            self.store(i, after_outcome(self.view(i), self.now, result))

    @rule(i=st.integers(0, 2))
    def pause(self, i: int) -> None:
        m = self.claims[i]
        ok, _, reason = self.call(self.plans, self.policy.pause, self.ids[i])
        assert ok == (not m.state.paused), reason
        if ok:
            m.state = after_pause(m.state, self.now)
            m.stored_stage = 0

    @rule(i=st.integers(0, 2), back=st.integers(-60, 40 * DAY))
    def resume(self, i: int, back: int) -> None:
        m = self.claims[i]
        since = self.now - back
        ok, _, reason = self.call(self.plans, self.policy.resume, self.ids[i], since)
        assert ok == (m.state.paused and back >= 0), reason
        if ok:
            m.state = after_resume(m.state, since, self.now)
            m.stored_stage = due_stage(m.rules, m.state, self.now)

    @rule(which=st.lists(st.integers(0, 2), max_size=4))
    def advance(self, which: list[int]) -> None:
        ok, changed, reason = self.call(
            self.addr["keeper"], self.policy.advance, [self.ids[i] for i in which]
        )
        assert ok, reason
        moved = 0
        for i in dict.fromkeys(which):
            m = self.claims[i]
            stage = due_stage(m.rules, m.state, self.now)
            moved += stage != m.stored_stage
            m.stored_stage = stage
        assert changed == moved

    # ------------------------------------------------------------------ invariants

    @invariant()
    def matches(self) -> None:
        for i, cid in enumerate(self.ids):
            m = self.claims[i]
            e = self.policy.enrolment(cid)
            recent, conversation = self.policy.debtor_contacts(e.debtor)
            got = ContactState(
                due_date=e.due_date,
                tz_offset_minutes=e.tz_offset_minutes,
                paused_since=e.paused_since,
                paused_seconds=e.paused_seconds,
                failed_attempts=e.failed_attempts,
                first_contact=e.first_contact,
                recent=tuple(t for t in recent if t),
                last_conversation=conversation,
            )
            assert got == self.view(i)
            dpd = days_past_due(m.state, self.now)
            assert self.policy.stage_of(cid) == (
                m.stored_stage,
                due_stage(m.rules, m.state, self.now),
                dpd,
            )


def test_policy_invariants(policy, registry, plans, actors, agency2):
    addr = {name: getattr(actors, name) for name in ("creditor", "creditor2", "agency")}
    addr |= {
        "agency2": agency2,
        "gateway": actors.gateway,
        "keeper": actors.keeper,
        "stranger": actors.stranger,
    }
    machine = type(
        "BoundPolicyMachine",
        (PolicyMachine,),
        {"policy": policy, "registry": registry, "plans": plans.address, "addr": addr},
    )
    run_state_machine_as_test(machine, settings=SETTINGS)
