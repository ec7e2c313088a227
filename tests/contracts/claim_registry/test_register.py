"""ClaimRegistry.register: a creditor registers one claim it owns."""

import boa
import pytest

ZERO = "0x" + "00" * 20
ACTIVE = 1


def test_creditor_registers_claim(registry, actors, claim_input, events):
    c = claim_input()
    with boa.env.prank(actors.creditor):
        registry.register(c.abi())
    assert events(registry) == [("ClaimRegistered", {"creditor": actors.creditor, **c._asdict()})]
    assert registry.exists(c.claim_id)
    assert registry.claims(c.claim_id) == (
        actors.creditor,
        ACTIVE,
        c.due_date,
        b"CNY",
        10_000,
        8_000,
    )
    assert registry.pending_transfer(c.claim_id) == (ZERO, False)
    assert registry.last_seller(c.claim_id) == ZERO


@pytest.mark.parametrize("caller", ["agency", "gateway", "admin", "stranger"])
def test_refused_for_non_creditor(registry, actors, claim_input, caller):
    c = claim_input()
    with boa.env.prank(getattr(actors, caller)), boa.reverts("registry: caller is not a creditor"):
        registry.register(c.abi())
    assert not registry.exists(c.claim_id)


def test_refused_once_creditor_role_revoked(registry, consortium, actors, claim_input, role):
    with boa.env.prank(actors.admin):
        consortium.revoke_role(role("CREDITOR"), actors.creditor)
    with boa.env.prank(actors.creditor), boa.reverts("registry: caller is not a creditor"):
        registry.register(claim_input().abi())


def test_outstanding_equal_to_principal_allowed(registry, actors, claim_input):
    c = claim_input(principal=500, outstanding=500)
    with boa.env.prank(actors.creditor):
        registry.register(c.abi())
    assert registry.claims(c.claim_id).outstanding == 500


def test_outstanding_above_principal_refused(registry, actors, claim_input):
    c = claim_input(principal=500, outstanding=501)
    with boa.env.prank(actors.creditor), boa.reverts("registry: outstanding exceeds principal"):
        registry.register(c.abi())


def test_same_id_twice_refused(registry, actors, claim_input):
    """Nobody, not even another creditor, can overwrite a registered claim."""
    c = claim_input()
    with boa.env.prank(actors.creditor):
        registry.register(c.abi())
    with boa.env.prank(actors.creditor2), boa.reverts("registry: claim already registered"):
        registry.register(c._replace(principal=1, outstanding=1).abi())
    assert registry.claims(c.claim_id).owner == actors.creditor


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("claim_id", b"\x00" * 32, "registry: empty claim id"),
        ("debtor", b"\x00" * 32, "registry: empty debtor pseudonym"),
        ("principal", 0, "registry: principal must be positive"),
        ("due_date", 0, "registry: missing due date"),
        ("currency", b"\x00\x00\x00", "registry: missing currency"),
    ],
)
def test_missing_field_refused(registry, actors, claim_input, field, value, reason):
    overrides = {field: value, "outstanding": 0} if field == "principal" else {field: value}
    with boa.env.prank(actors.creditor), boa.reverts(reason):
        registry.register(claim_input(**overrides).abi())


def test_widest_values_round_trip(registry, actors, claim_input):
    """Packing keeps every field apart at its maximum width."""
    top128, top64 = 2**128 - 1, 2**64 - 1
    c = claim_input(principal=top128, outstanding=top128, due_date=top64, currency=b"\xff" * 3)
    with boa.env.prank(actors.creditor):
        registry.register(c.abi())
    assert registry.claims(c.claim_id) == (
        actors.creditor,
        ACTIVE,
        top64,
        b"\xff" * 3,
        top128,
        top128,
    )


def test_refused_for_terms_wider_than_currency_and_date(registry, actors, claim_input):
    c = claim_input()
    claim_id, debtor, amounts, terms, record = c.abi()
    with boa.env.prank(actors.creditor), boa.reverts("registry: malformed terms"):
        registry.register((claim_id, debtor, amounts, terms | (1 << 88), record))
    assert not registry.exists(c.claim_id)


def test_packed_fields_come_back_unpacked(registry, actors, claim_input):
    c = claim_input(
        principal=2**128 - 1, outstanding=2**128 - 2, due_date=2**64 - 1, currency=b"USD"
    )
    with boa.env.prank(actors.creditor):
        registry.register(c.abi())
    assert registry.claims(c.claim_id) == (
        actors.creditor,
        ACTIVE,
        2**64 - 1,
        b"USD",
        2**128 - 1,
        2**128 - 2,
    )
