"""EvidenceAnchor constructor and role constants."""

from eth_utils import keccak


def test_bound_to_the_consortium(anchor, consortium):
    assert anchor.consortium() == consortium.address


def test_role_constants_match_the_consortium(anchor, consortium):
    for name in ("CREDITOR", "AGENCY", "COURT", "GATEWAY"):
        assert getattr(anchor, name)() == getattr(consortium, name)() == keccak(text=name)


def test_max_count_is_what_the_packed_slot_holds(anchor):
    assert anchor.MAX_COUNT() == 2**32 - 1
