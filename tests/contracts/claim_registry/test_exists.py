"""ClaimRegistry.exists: whether an id is registered."""


def test_registered_claim_exists(registry, claim):
    assert registry.exists(claim)


def test_unknown_and_empty_ids_do_not_exist(registry):
    assert not registry.exists(b"\x00" * 32)
    assert not registry.exists(b"\x01" * 32)
