"""EvidenceAnchor.anchored: who fixed a root, when, over how many leaves."""

import boa
from eth_utils import keccak

from debtledger.evidence.merkle import MerkleTree, leaf_hash, verify_inclusion

ZERO = "0x" + "00" * 20


def test_unknown_root_is_all_zero(anchor):
    assert anchor.anchored(keccak(text="never")) == (ZERO, 0, 0)


def test_roots_are_kept_apart(anchor, actors):
    a, b = keccak(text="a"), keccak(text="b")
    with boa.env.prank(actors.creditor):
        anchor.anchor(a, 3, keccak(text="batch-a"))
    boa.env.time_travel(seconds=10)
    with boa.env.prank(actors.court):
        anchor.anchor(b, 4, keccak(text="batch-b"))
    sub_a, at_a, n_a = anchor.anchored(a)
    sub_b, at_b, n_b = anchor.anchored(b)
    assert (sub_a, n_a, sub_b, n_b) == (actors.creditor, 3, actors.court, 4)
    assert at_b == at_a + 10


def test_record_proven_against_anchored_root(anchor, actors):
    """What a court does: the size comes from the anchor, not from the proof's holder."""
    leaves = [leaf_hash(f"record-{i}".encode()) for i in range(11)]
    tree = MerkleTree(leaves)
    with boa.env.prank(actors.agency):
        anchor.anchor(tree.root, len(tree), keccak(text="batch"))
    submitter, _, count = anchor.anchored(tree.root)
    assert submitter == actors.agency
    verify_inclusion(leaves[6], 6, count, tree.proof(6), tree.root)
