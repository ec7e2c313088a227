"""ClaimRegistry.register_batch: 1 to 1,000 claims of the caller, all or none."""

import boa
import pytest


def test_creditor_registers_batch(registry, actors, claim_input, events):
    batch = [claim_input(principal=100 * (i + 1), outstanding=10 * i) for i in range(3)]
    with boa.env.prank(actors.creditor):
        registry.register_batch([c.abi() for c in batch])
    assert events(registry) == [
        ("ClaimRegistered", {"creditor": actors.creditor, **c._asdict()}) for c in batch
    ]
    for c in batch:
        got = registry.claims(c.claim_id)
        assert (got.owner, got.principal, got.outstanding) == (
            actors.creditor,
            c.principal,
            c.outstanding,
        )


@pytest.mark.parametrize("caller", ["agency", "stranger"])
def test_refused_for_non_creditor(registry, actors, claim_input, caller):
    c = claim_input()
    with boa.env.prank(getattr(actors, caller)), boa.reverts("registry: caller is not a creditor"):
        registry.register_batch([c.abi()])
    assert not registry.exists(c.claim_id)


def test_empty_batch_refused(registry, actors):
    with boa.env.prank(actors.creditor), boa.reverts("registry: empty batch"):
        registry.register_batch([])


def test_batch_of_one_allowed(registry, actors, claim_input):
    c = claim_input()
    with boa.env.prank(actors.creditor):
        registry.register_batch([c.abi()])
    assert registry.exists(c.claim_id)


def test_batch_of_max_size_allowed(registry, actors, claim_input, events):
    batch = [claim_input() for _ in range(1000)]
    with boa.env.prank(actors.creditor):
        registry.register_batch([c.abi() for c in batch])
    assert len(events(registry)) == 1000
    assert registry.exists(batch[0].claim_id)
    assert registry.exists(batch[-1].claim_id)


def test_batch_above_max_size_refused_by_abi(registry, actors, claim_input):
    batch = [claim_input() for _ in range(1001)]
    with (
        boa.env.prank(actors.creditor),
        boa.reverts(compiler="DynArray[ClaimInput, 1000] bounds check"),
    ):
        registry.register_batch([c.abi() for c in batch])
    assert not registry.exists(batch[0].claim_id)


def test_one_bad_claim_refuses_whole_batch(registry, actors, claim_input):
    good = claim_input()
    with boa.env.prank(actors.creditor), boa.reverts("registry: claim already registered"):
        registry.register_batch([good.abi(), claim_input().abi(), good.abi()])
    assert not registry.exists(good.claim_id)
