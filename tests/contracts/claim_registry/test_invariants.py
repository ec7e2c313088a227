"""Stateful property test: random callers drive ClaimRegistry; a Python model of its rules must
agree on every verdict, and the registry's invariants must hold after every step.

Examples: DEBTLEDGER_HYPOTHESIS_EXAMPLES (default 2000). Each example runs in a boa anchor,
so it starts from the session deployment.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
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

ACTIVE, SETTLED, WRITTEN_OFF, DISPUTED = 1, 2, 3, 4
ZERO = "0x" + "00" * 20
H = keccak(text="evidence")
CLAIMS = (0, 1, 2)  # 0 and 1 exist from the start (1 already sold once); 2 only by the rule
CREDITORS = ("c0", "c1", "c2")
PARTIES = (*CREDITORS, "agency", "court", "gateway", "stranger")
ACCOUNT_OF = {"c0": "creditor", "c1": "creditor2", "c2": "creditor3"}

SETTINGS = settings(
    max_examples=int(os.environ.get("DEBTLEDGER_HYPOTHESIS_EXAMPLES", "2000")),
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


anyone = st.sampled_from(PARTIES)


def part_or_any(part: str) -> st.SearchStrategy[str]:
    """Half the time whoever plays `part` for the claim, else any party (mostly refused).

    Uniformly random callers almost never chain a sale, a buy-back and their acceptance;
    the steps that close a claim keep uniformly random callers, so fewer examples end early.
    """
    return st.one_of(st.just(part), anyone)


owner = part_or_any("@owner")
buyer = part_or_any("@buyer")
# Half the time the claim the previous step named, so steps chain on one claim.
claim = st.one_of(st.just(-1), st.sampled_from(CLAIMS))


@dataclass
class Model:
    """What the registry should hold for one claim."""

    owner: str
    principal: int
    outstanding: int
    due_date: int
    currency: bytes
    status: int = ACTIVE
    pending: tuple[str, bool] | None = None  # (buyer, buy_back)
    mandate: tuple[str, int] | None = None  # (agency, expiry)
    last_seller: str | None = None


class RegistryMachine(RuleBasedStateMachine):
    """Bound to a deployment by `test_registry_invariants` (class attributes)."""

    registry: Any
    consortium: Any
    actors: Any

    def __init__(self) -> None:
        super().__init__()
        self._anchor = boa.env.anchor()
        self._anchor.__enter__()
        self.addr = {p: getattr(self.actors, ACCOUNT_OF.get(p, p)) for p in PARTIES}
        self.creditors = {self.addr[c] for c in CREDITORS}
        self.model: dict[int, Model] = {}
        self.seen: dict[int, tuple[str, int, tuple[str, bool]]] = {}
        self.last = 0  # claim named by the previous step
        self.changed: set[int] = set()  # claims changed by the previous step

    def teardown(self) -> None:
        try:
            if sys.exc_info()[0] is None:  # else a step failed: keep its error in front
                for i in CLAIMS:  # a step may change only the claim it names: check all
                    self.check(i)
        finally:
            self._anchor.__exit__(None, None, None)

    # ------------------------------------------------------------------ helpers

    def cid(self, i: int) -> bytes:
        return keccak(text=f"invariant-claim-{i}")

    def pick(self, ref: int) -> tuple[int, Model | None]:
        self.last = self.last if ref < 0 else ref
        return self.last, self.model.get(self.last)

    def resolve(self, name: str, i: int) -> str:
        m = self.model.get(i)
        if name == "@owner":
            return m.owner if m else self.addr["c0"]
        if name == "@buyer":
            return m.pending[0] if m and m.pending else self.addr["c2"]
        if name == "@other":  # a creditor that is not the owner
            return self.addr["c1"] if m and m.owner == self.addr["c0"] else self.addr["c0"]
        return self.addr[name]

    def attempt(self, allowed: bool, sender: str, fn: Any, *args: Any) -> bool:
        """Call as `sender`; the contract must allow exactly what the model allows."""
        name = fn.fn_ast.name
        try:
            with boa.env.prank(sender):
                fn(*args)
        except boa.BoaError as e:
            reason = e.stack_trace.last_frame.pretty_vm_reason
            assert not allowed, f"{name} refused ({reason}) but the model allows it"
            return False
        assert allowed, f"{name} succeeded but the model refuses it"
        self.changed.add(self.last)
        return True

    # ------------------------------------------------------------------ rules

    @initialize(
        principals=st.tuples(st.integers(1, 1_000), st.integers(1, 1_000)),
        due_dates=st.tuples(st.integers(1, 2**64 - 1), st.integers(1, 2**64 - 1)),
        buy_back_offered=st.booleans(),
        data=st.data(),
    )
    def first_claims(
        self,
        principals: tuple[int, int],
        due_dates: tuple[int, int],
        buy_back_offered: bool,
        data: st.DataObject,
    ) -> None:
        """c0 registers claim 0; c1 registers claim 1 and sells it to c2, which may already
        offer it back."""
        for i, (principal, due_date) in enumerate(zip(principals, due_dates, strict=True)):
            outstanding = data.draw(st.integers(0, principal))
            self.register(CREDITORS[i], i, principal, outstanding, due_date)
        self.propose_transfer("c1", 1, "c2")
        self.accept_transfer("c2", 1)
        if buy_back_offered:
            self.propose_buy_back("c2", 1)

    @rule(
        sender=owner,
        ref=claim,
        principal=st.integers(0, 1_000),
        outstanding=st.integers(0, 1_100),
        due_date=st.integers(1, 2**64 - 1),
        currency=st.sampled_from((b"CNY", b"USD", b"\xff\xff\xff")),
    )
    def register(
        self,
        sender: str,
        ref: int,
        principal: int,
        outstanding: int,
        due_date: int = 1_800_000_000,
        currency: bytes = b"CNY",
    ) -> None:
        i, m = self.pick(ref)
        s = self.resolve(sender, i)
        allowed = s in self.creditors and m is None and principal > 0 and outstanding <= principal
        c = pack_claim(
            self.cid(i), keccak(text="debtor"), principal, outstanding, currency, due_date, H
        )
        if self.attempt(allowed, s, self.registry.register, c):
            self.model[i] = Model(s, principal, outstanding, due_date, currency)

    @rule(sender=owner, ref=claim, buyer=part_or_any("@other"))
    def propose_transfer(self, sender: str, ref: int, buyer: str) -> None:
        i, m = self.pick(ref)
        s, b = self.resolve(sender, i), self.resolve(buyer, i)
        allowed = (
            m is not None
            and s == m.owner
            and m.status == ACTIVE
            and m.pending is None
            and b != s
            and b in self.creditors
        )
        if self.attempt(allowed, s, self.registry.propose_transfer, self.cid(i), b, H):
            m.pending = (b, False)

    @rule(sender=owner, ref=claim)
    def propose_buy_back(self, sender: str, ref: int) -> None:
        i, m = self.pick(ref)
        s = self.resolve(sender, i)
        allowed = (
            m is not None
            and s == m.owner
            and m.status in (ACTIVE, DISPUTED)
            and m.last_seller not in (None, s)
            and m.pending is None
            and m.last_seller in self.creditors
        )
        if self.attempt(allowed, s, self.registry.propose_buy_back, self.cid(i), H):
            m.pending = (m.last_seller, True)

    @rule(sender=buyer, ref=claim)
    def accept_transfer(self, sender: str, ref: int) -> None:
        i, m = self.pick(ref)
        s = self.resolve(sender, i)
        allowed = (
            m is not None
            and m.pending is not None
            and s == m.pending[0]
            and (m.status == ACTIVE or (m.pending[1] and m.status == DISPUTED))
            and s in self.creditors
        )
        if self.attempt(allowed, s, self.registry.accept_transfer, self.cid(i)):
            m.last_seller, m.owner, m.pending, m.mandate = m.owner, s, None, None

    @rule(sender=buyer, ref=claim)
    def decline_transfer(self, sender: str, ref: int) -> None:
        i, m = self.pick(ref)
        s = self.resolve(sender, i)
        allowed = m is not None and m.pending is not None and s == m.pending[0]
        if self.attempt(allowed, s, self.registry.decline_transfer, self.cid(i)):
            m.pending = None

    @rule(sender=owner, ref=claim)
    def cancel_transfer(self, sender: str, ref: int) -> None:
        i, m = self.pick(ref)
        s = self.resolve(sender, i)
        allowed = m is not None and s == m.owner and m.pending is not None
        if self.attempt(allowed, s, self.registry.cancel_transfer, self.cid(i)):
            m.pending = None

    @rule(sender=owner, ref=claim, agency=part_or_any("agency"), ahead=st.integers(-2, 60))
    def grant_mandate(self, sender: str, ref: int, agency: str, ahead: int) -> None:
        i, m = self.pick(ref)
        s, a = self.resolve(sender, i), self.resolve(agency, i)
        expiry = boa.env.timestamp + ahead
        allowed = (
            m is not None
            and s == m.owner
            and m.status == ACTIVE
            and a == self.addr["agency"]
            and ahead > 0
        )
        if self.attempt(allowed, s, self.registry.grant_mandate, self.cid(i), a, expiry):
            m.mandate = (a, expiry)

    @rule(sender=owner, ref=claim)
    def revoke_mandate(self, sender: str, ref: int) -> None:
        i, m = self.pick(ref)
        s = self.resolve(sender, i)
        allowed = m is not None and s == m.owner and m.mandate is not None
        if self.attempt(allowed, s, self.registry.revoke_mandate, self.cid(i)):
            m.mandate = None

    @rule(sender=anyone, ref=claim, amount=st.integers(0, 400))
    def record_repayment(self, sender: str, ref: int, amount: int) -> None:
        i, m = self.pick(ref)
        s = self.resolve(sender, i)
        allowed = (
            m is not None
            and (s == m.owner or s == self.addr["gateway"])
            and m.status in (ACTIVE, DISPUTED)
            and amount > 0
        )
        if self.attempt(allowed, s, self.registry.record_repayment, self.cid(i), amount, H):
            m.outstanding -= min(amount, m.outstanding)
            if m.outstanding == 0:
                m.pending, m.status = None, SETTLED

    @rule(sender=anyone, ref=claim)
    def settle(self, sender: str, ref: int) -> None:
        i, m = self.pick(ref)
        s = self.resolve(sender, i)
        allowed = m is not None and s == m.owner and m.status == ACTIVE
        if self.attempt(allowed, s, self.registry.settle, self.cid(i), H):
            m.pending, m.outstanding, m.status = None, 0, SETTLED

    @rule(sender=anyone, ref=claim)
    def write_off(self, sender: str, ref: int) -> None:
        i, m = self.pick(ref)
        s = self.resolve(sender, i)
        allowed = m is not None and s == m.owner and m.status in (ACTIVE, DISPUTED)
        if self.attempt(allowed, s, self.registry.write_off, self.cid(i)):
            m.pending, m.status = None, WRITTEN_OFF

    @rule(sender=anyone, ref=claim)
    def dispute(self, sender: str, ref: int) -> None:
        i, m = self.pick(ref)
        s = self.resolve(sender, i)
        allowed = (
            m is not None
            and s in (m.owner, self.addr["court"], self.addr["gateway"])
            and m.status == ACTIVE
        )
        if self.attempt(allowed, s, self.registry.dispute, self.cid(i), H):
            if m.pending and not m.pending[1]:
                m.pending = None
            m.status = DISPUTED

    @rule(sender=part_or_any("court"), ref=claim, offset=st.integers(-1_000, 1))
    def resolve_dispute(self, sender: str, ref: int, offset: int) -> None:
        """Fix the outstanding amount at principal + offset (at least 0): up to one too many."""
        i, m = self.pick(ref)
        s = self.resolve(sender, i)
        outstanding = max(0, (m.principal if m else 0) + offset)
        allowed = (
            m is not None
            and s in (m.owner, self.addr["court"])
            and m.status == DISPUTED
            and outstanding <= m.principal
            and (s == self.addr["court"] or outstanding <= m.outstanding)
        )
        if self.attempt(allowed, s, self.registry.resolve_dispute, self.cid(i), outstanding, H):
            m.outstanding = outstanding
            if outstanding == 0:
                m.pending, m.status = None, SETTLED
            else:
                m.status = ACTIVE

    @rule(creditor=st.sampled_from(CREDITORS))
    def toggle_creditor_role(self, creditor: str) -> None:
        """The consortium admin expels or readmits a creditor."""
        a, role = self.addr[creditor], keccak(text="CREDITOR")
        with boa.env.prank(self.actors.admin):
            if a in self.creditors:
                self.consortium.revoke_role(role, a)
                self.creditors.discard(a)
            else:
                self.consortium.grant_role(role, a, keccak(text=f"org:{ACCOUNT_OF[creditor]}"))
                self.creditors.add(a)

    @rule(seconds=st.integers(1, 40))
    def time_passes(self, seconds: int) -> None:
        boa.env.time_travel(seconds=seconds)

    # ------------------------------------------------------------------ invariants

    @invariant()
    def changed_claim_matches_model(self) -> None:
        # A refused call changes nothing (the EVM rolls it back): re-read after successes only.
        for i in self.changed:
            self.check(i)
        self.changed.clear()

    def check(self, i: int) -> None:
        cid, m = self.cid(i), self.model.get(i)
        if m is None:
            assert not self.registry.exists(cid)
            return
        got = self.registry.claims(cid)
        pending = self.registry.pending_transfer(cid)
        # exactly one owner, the model's; at most one pending buyer, the model's
        assert got.owner == m.owner
        assert pending == (m.pending or (ZERO, False))
        assert got.status == m.status
        assert (got.due_date, got.currency) == (m.due_date, m.currency)
        assert got.principal == m.principal
        assert 0 <= got.outstanding <= got.principal
        assert got.outstanding == m.outstanding
        assert self.registry.mandate_of(cid) == (m.mandate or (ZERO, 0))
        if i in self.seen:
            owner, status, offer = self.seen[i]
            if got.owner != owner:
                # only the proposed buyer takes a claim, and only an active one, or a
                # disputed one that is being bought back
                assert got.owner == offer[0]
                assert status == ACTIVE or (status == DISPUTED and offer[1])
        self.seen[i] = (got.owner, got.status, pending)


def test_registry_invariants(registry, consortium, actors):
    machine = type(
        "BoundRegistryMachine",
        (RegistryMachine,),
        {"registry": registry, "consortium": consortium, "actors": actors},
    )
    run_state_machine_as_test(machine, settings=SETTINGS)
