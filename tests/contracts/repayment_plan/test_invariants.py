"""Stateful property test: random proposals, consents, payments, missed-instalment checks,
re-ageing and time keep the plan, the registry's outstanding amount and the policy's pause
equal to a small model.

Examples: DEBTLEDGER_HYPOTHESIS_EXAMPLES (default 60). Each example runs in a boa anchor.
"""

from __future__ import annotations

import os
import sys
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

from ..conftest import CN, DUE
from .conftest import ACTIVE, BROKEN, COMPLETED, CONSENT, NONE, PROPOSED, RECEIPT, words

DAY = 86_400
SETTINGS = settings(
    max_examples=int(os.environ.get("DEBTLEDGER_HYPOTHESIS_EXAMPLES", "60")),
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
CLAIM = keccak(text="plan-invariant-claim")
schedules = st.tuples(
    st.integers(1, 6),  # instalments
    st.integers(1, 3_000),  # amount of each
    st.integers(1, 40),  # days between them
    st.integers(1, 20 * DAY),  # seconds from now to the first
)


class PlanMachine(RuleBasedStateMachine):
    """Bound to a deployment by `test_plan_invariants` (class attributes)."""

    plans: Any
    policy: Any
    registry: Any
    owner: str
    gateway: str

    def __init__(self) -> None:
        super().__init__()
        self._anchor = boa.env.anchor()
        self._anchor.__enter__()
        self.state = NONE
        self.schedule: list[tuple[int, int]] = []
        self.grace = 0
        self.next = 0
        self.paid = 0
        self.outstanding = 8_000
        self.paused = False
        self.now = 0

    def teardown(self) -> None:
        try:
            if sys.exc_info()[0] is None:
                self.matches()
        finally:
            self._anchor.__exit__(None, None, None)

    def attempt(self, allowed: bool, sender: str, fn: Any, *args: Any) -> Any:
        try:
            with boa.env.prank(sender):
                out = fn(*args)
        except boa.BoaError as e:
            reason = e.stack_trace.last_frame.pretty_vm_reason
            assert not allowed, f"{fn.fn_ast.name} refused ({reason}) but the model allows it"
            return None
        assert allowed, f"{fn.fn_ast.name} succeeded but the model refuses it"
        return out

    def missed(self) -> bool:
        return self.next < len(self.schedule) and (
            self.now > self.schedule[self.next][0] + self.grace * DAY
        )

    def make(self, shape: tuple[int, int, int, int]) -> list[tuple[int, int]]:
        n, amount, gap, first = shape
        return [(self.now + first + i * gap * DAY, amount) for i in range(n)]

    @initialize(start=st.integers(-5 * DAY, 200 * DAY))
    def claim(self, start: int) -> None:
        self.now = DUE + start
        boa.env.evm.patch.timestamp = self.now
        with boa.env.prank(self.owner):
            self.registry.register(
                pack_claim(CLAIM, keccak(text="d"), 10_000, 8_000, b"CNY", DUE, CLAIM)
            )
            self.policy.enrol(CLAIM, keccak(text=CN), keccak(text="d"), 480)

    @rule(seconds=st.one_of(st.integers(0, DAY), st.integers(0, 45 * DAY)))
    def time_passes(self, seconds: int) -> None:
        self.now += seconds
        boa.env.evm.patch.timestamp = self.now

    @rule(shape=schedules, grace=st.integers(0, 10))
    def propose(self, shape: tuple[int, int, int, int], grace: int) -> None:
        schedule = self.make(shape)
        allowed = self.state != ACTIVE and self.outstanding > 0
        self.attempt(allowed, self.owner, self.plans.propose, CLAIM, words(schedule), grace)
        if allowed:
            self.state, self.schedule, self.grace, self.next, self.paid = (
                PROPOSED,
                schedule,
                grace,
                0,
                0,
            )

    @rule()
    def consent(self) -> None:
        allowed = self.state == PROPOSED and self.outstanding > 0
        self.attempt(allowed, self.gateway, self.plans.record_consent, CLAIM, CONSENT)
        if allowed:
            self.state, self.paused = ACTIVE, True

    @rule(amount=st.integers(1, 3_500), by_owner=st.booleans())
    def pay(self, amount: int, by_owner: bool) -> None:
        sender = self.owner if by_owner else self.gateway
        allowed = self.state == ACTIVE
        self.attempt(allowed, sender, self.plans.pay, CLAIM, amount, RECEIPT)
        if not allowed:
            return
        if self.missed():
            self.state, self.paused = BROKEN, False
            self.outstanding -= min(amount, self.outstanding)
            return
        self.outstanding -= min(amount, self.outstanding)
        left = amount
        while left and self.next < len(self.schedule):
            step = min(left, self.schedule[self.next][1] - self.paid)
            left, self.paid = left - step, self.paid + step
            if self.paid == self.schedule[self.next][1]:
                self.next, self.paid = self.next + 1, 0
        if self.next == len(self.schedule) or self.outstanding == 0:
            self.state = COMPLETED
            self.paused = self.outstanding == 0  # a settled claim stays out of collection

    @rule()
    def check_missed(self) -> None:
        broke = self.state == ACTIVE and self.missed()
        assert self.attempt(True, self.gateway, self.plans.check_missed, CLAIM) == broke
        if broke:
            self.state, self.paused = BROKEN, False

    @rule(shape=schedules)
    def reage(self, shape: tuple[int, int, int, int]) -> None:
        schedule = self.make(shape)
        allowed = self.state in (ACTIVE, BROKEN) and self.outstanding > 0
        self.attempt(allowed, self.owner, self.plans.reage, CLAIM, words(schedule), CONSENT)
        if allowed:
            self.schedule, self.next, self.paid = schedule, 0, 0
            self.state, self.paused = ACTIVE, True

    @invariant()
    def matches(self) -> None:
        if self.now == 0:
            return
        plan = self.plans.plan_of(CLAIM)
        assert (plan.state, plan.next_instalment, plan.paid_into_next) == (
            self.state,
            self.next,
            self.paid,
        )
        if self.state != NONE:
            assert plan.instalments == len(self.schedule)
            assert self.plans.instalments_of(CLAIM) == words(self.schedule)
        assert self.registry.claims(CLAIM).outstanding == self.outstanding
        assert (self.policy.enrolment(CLAIM).paused_since != 0) == self.paused
        if self.paused:
            assert self.policy.stage_of(CLAIM)[:2] == (0, 0)


def test_plan_invariants(plans, policy, registry, actors):
    machine = type(
        "BoundPlanMachine",
        (PlanMachine,),
        {
            "plans": plans,
            "policy": policy,
            "registry": registry,
            "owner": actors.creditor,
            "gateway": actors.gateway,
        },
    )
    run_state_machine_as_test(machine, settings=SETTINGS)
