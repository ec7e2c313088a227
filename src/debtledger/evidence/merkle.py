"""RFC 6962 (Certificate Transparency) Merkle trees over SHA-256: roots, audit paths and
their verification, so one record can be proven part of an anchored batch.

Leaves and inner nodes are hashed with distinct prefixes (0x00 and 0x01) so that no inner
node can pass for a leaf. Every function here takes leaf *hashes*; `leaf_hash` makes them.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from hashlib import sha256

from debtledger.errors import InvalidInput, InvalidProof

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """The hash of one leaf: SHA-256(0x00 || data)."""
    return sha256(LEAF_PREFIX + data).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return sha256(NODE_PREFIX + left + right).digest()


def _parents(level: Sequence[bytes]) -> list[bytes]:
    """The level above `level`. An odd last node is carried up unchanged: bottom-up, that
    builds exactly RFC 6962's tree, whose left subtrees are always perfect."""
    parents = [
        sha256(NODE_PREFIX + left + right).digest()
        for left, right in zip(level[0::2], level[1::2], strict=False)
    ]
    if len(level) % 2:
        parents.append(level[-1])
    return parents


def _check_leaves(leaves: Sequence[bytes]) -> None:
    for i, h in enumerate(leaves):
        if len(h) != HASH_SIZE:
            raise InvalidInput("leaf hash must be 32 bytes", field="leaves", row=i)


class MerkleTree:
    """A tree built once over its leaf hashes: the root and every audit path without
    rehashing (all proofs of an n-leaf tree cost O(n log n) in total)."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        _check_leaves(leaves)
        level = list(leaves)
        self.levels: list[list[bytes]] = [level]
        while len(level) > 1:
            level = _parents(level)
            self.levels.append(level)

    def __len__(self) -> int:
        return len(self.levels[0])

    @property
    def root(self) -> bytes:
        """The tree head; SHA-256 of nothing for the empty tree."""
        return self.levels[-1][0] if self.levels[0] else EMPTY_ROOT

    def proof(self, index: int) -> list[bytes]:
        """The audit path of leaf `index`, nearest sibling first (RFC 6962 2.1.1 order)."""
        if not 0 <= index < len(self):
            raise InvalidInput(f"no leaf {index} in a tree of {len(self)}", field="index")
        path = []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                path.append(level[sibling])
            index >>= 1
        return path

    def proofs(self) -> list[list[bytes]]:
        """Every leaf's audit path, in leaf order."""
        return [self.proof(i) for i in range(len(self))]


def root(leaves: Sequence[bytes]) -> bytes:
    """The RFC 6962 tree head of `leaves` (leaf hashes, in order)."""
    return MerkleTree(leaves).root


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path of leaf `index` in the tree over `leaves` (leaf hashes, in order)."""
    return MerkleTree(leaves).proof(index)


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that `leaf_hash` is leaf `index` of the `size`-leaf tree with head `root`.

    Returns nothing; raises `InvalidProof` otherwise (RFC 9162 2.1.3.2).
    """
    if not 0 <= index < size or len(leaf_hash) != HASH_SIZE:
        raise InvalidProof("inclusion proof does not verify")
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0 or len(p) != HASH_SIZE:
            raise InvalidProof("inclusion proof does not verify")
        if fn & 1 or fn == sn:
            r = _node(p, r)
            # Skip the levels where this node had no right sibling and was carried up.
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = _node(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0 or not hmac.compare_digest(r, root):
        raise InvalidProof("inclusion proof does not verify")
