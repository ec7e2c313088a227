"""RFC 6962 Merkle trees: the published Certificate Transparency vectors, a naive reference
written straight from the RFC text, and proofs that refuse every kind of tampering."""

from __future__ import annotations

from hashlib import sha256

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from debtledger.errors import InvalidInput, InvalidProof
from debtledger.evidence.merkle import (
    MerkleTree,
    inclusion_proof,
    leaf_hash,
    root,
    verify_inclusion,
)

# The eight leaves of the Certificate Transparency reference tests (merkle_tree_test.cc).
CT_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]

# Tree heads of the first 1..8 of CT_LEAVES, as published with the reference tests.
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]

# Audit paths published with the same tests: (leaf index, tree size, path).
CT_PATHS = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]


# --------------------------------------------------------- naive reference (RFC 6962 2.1)


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def naive_mth(data: list[bytes]) -> bytes:
    """MTH(D[n]) on the leaves' *data*, recursively, exactly as RFC 6962 2.1 defines it."""
    n = len(data)
    if n == 0:
        return sha256(b"").digest()
    if n == 1:
        return sha256(b"\x00" + data[0]).digest()
    k = _split(n)
    return sha256(b"\x01" + naive_mth(data[:k]) + naive_mth(data[k:])).digest()


def naive_path(m: int, data: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) from RFC 6962 2.1.1."""
    n = len(data)
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return naive_path(m, data[:k]) + [naive_mth(data[k:])]
    return naive_path(m - k, data[k:]) + [naive_mth(data[:k])]


def directions(index: int, size: int) -> str:
    """The leaf's way down from the root, 'L'/'R' per inner node (RFC 6962's split)."""
    out = ""
    while size > 1:
        k = _split(size)
        if index < k:
            out, size = out + "L", k
        else:
            out, index, size = out + "R", index - k, size - k
    return out


def _flip(h: bytes, bit: int = 0) -> bytes:
    return bytes([h[0] ^ (1 << bit)]) + h[1:]


# ------------------------------------------------------------------------ known vectors


@pytest.mark.parametrize("size", range(1, 9))
def test_ct_published_roots(size: int) -> None:
    leaves = [leaf_hash(d) for d in CT_LEAVES[:size]]
    assert root(leaves).hex() == CT_ROOTS[size - 1]
    assert MerkleTree(leaves).root.hex() == CT_ROOTS[size - 1]


@pytest.mark.parametrize("size", range(1, 9))
def test_naive_reference_agrees_with_published_roots(size: int) -> None:
    """The reference the property tests lean on is itself checked against the vectors."""
    assert naive_mth(CT_LEAVES[:size]).hex() == CT_ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size", "path"), CT_PATHS)
def test_ct_published_audit_paths(index: int, size: int, path: list[str]) -> None:
    leaves = [leaf_hash(d) for d in CT_LEAVES[:size]]
    proof = inclusion_proof(leaves, index)
    assert [p.hex() for p in proof] == path
    assert naive_path(index, CT_LEAVES[:size]) == proof
    verify_inclusion(leaves[index], index, size, proof, bytes.fromhex(CT_ROOTS[size - 1]))


def test_empty_tree_root_is_hash_of_nothing() -> None:
    assert root([]) == sha256(b"").digest()
    assert root([]).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert len(MerkleTree([])) == 0


def test_leaf_and_node_hashes_are_domain_separated() -> None:
    """A two-leaf tree's head cannot pass as a leaf: 0x00 and 0x01 prefixes differ."""
    a, b = leaf_hash(b"a"), leaf_hash(b"b")
    assert root([a, b]) == sha256(b"\x01" + a + b).digest()
    assert leaf_hash(a + b) != root([a, b])
    assert leaf_hash(b"") == sha256(b"\x00").digest()


# ------------------------------------------------------------------- refused input


def test_proof_of_missing_leaf_refused() -> None:
    tree = MerkleTree([leaf_hash(b"x")] * 3)
    for index in (-1, 3):
        with pytest.raises(InvalidInput, match="index"):
            tree.proof(index)


def test_leaves_must_be_hashes() -> None:
    with pytest.raises(InvalidInput, match="row 1"):
        MerkleTree([leaf_hash(b"x"), b"raw record"])


def test_failure_does_not_say_what_was_wrong() -> None:
    leaves = [leaf_hash(d) for d in CT_LEAVES]
    tree = MerkleTree(leaves)
    messages = set()
    for bad in (
        (_flip(leaves[3]), 3, 8, tree.proof(3), tree.root),
        (leaves[3], 4, 8, tree.proof(3), tree.root),
        (leaves[3], 3, 9, tree.proof(3), tree.root),
        (leaves[3], 8, 8, tree.proof(3), tree.root),
        (leaves[3], 3, 8, tree.proof(3)[:-1], tree.root),
        (leaves[3], 3, 8, [*tree.proof(3), leaves[0]], tree.root),
        (leaves[3], 3, 8, [p[:31] for p in tree.proof(3)], tree.root),
    ):
        with pytest.raises(InvalidProof) as err:
            verify_inclusion(*bad)
        messages.add(str(err.value))
    assert messages == {"inclusion proof does not verify"}


# -------------------------------------------------------------------- properties


def _leaves(seed: int, size: int) -> list[bytes]:
    """Distinct leaves, so no tampering can land on an equal hash by accident."""
    return [leaf_hash(seed.to_bytes(8, "big") + i.to_bytes(4, "big")) for i in range(size)]


sizes = st.integers(min_value=1, max_value=200)
seeds = st.integers(min_value=0, max_value=2**64 - 1)


@settings(max_examples=60, deadline=None)
@given(seed=seeds, size=sizes)
def test_every_leaf_proof_verifies(seed: int, size: int) -> None:
    leaves = _leaves(seed, size)
    tree = MerkleTree(leaves)
    assert tree.root == root(leaves)
    for index, proof in enumerate(tree.proofs()):
        assert proof == inclusion_proof(leaves, index)
        verify_inclusion(leaves[index], index, size, proof, tree.root)


@settings(max_examples=40, deadline=None)
@given(seed=seeds, size=st.integers(min_value=1, max_value=40))
def test_tree_matches_naive_reference(seed: int, size: int) -> None:
    data = [seed.to_bytes(8, "big") + i.to_bytes(4, "big") for i in range(size)]
    leaves = [leaf_hash(d) for d in data]
    tree = MerkleTree(leaves)
    assert tree.root == naive_mth(data)
    assert all(tree.proof(m) == naive_path(m, data) for m in range(size))


@settings(max_examples=100, deadline=None)
@given(data=st.data(), seed=seeds, size=sizes)
def test_changed_leaf_or_path_step_refused(data: st.DataObject, seed: int, size: int) -> None:
    leaves = _leaves(seed, size)
    tree = MerkleTree(leaves)
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = tree.proof(index)
    bit = data.draw(st.integers(0, 7), label="bit")
    with pytest.raises(InvalidProof):
        verify_inclusion(_flip(leaves[index], bit), index, size, proof, tree.root)
    if proof:
        step = data.draw(st.integers(0, len(proof) - 1), label="step")
        bad = [*proof[:step], _flip(proof[step], bit), *proof[step + 1 :]]
        with pytest.raises(InvalidProof):
            verify_inclusion(leaves[index], index, size, bad, tree.root)


@settings(max_examples=100, deadline=None)
@given(data=st.data(), seed=seeds, size=st.integers(min_value=2, max_value=200))
def test_other_index_refused(data: st.DataObject, seed: int, size: int) -> None:
    leaves = _leaves(seed, size)
    tree = MerkleTree(leaves)
    index = data.draw(st.integers(0, size - 1), label="index")
    other = data.draw(st.integers(0, size - 1).filter(lambda i: i != index), label="other")
    with pytest.raises(InvalidProof):
        verify_inclusion(leaves[index], other, size, tree.proof(index), tree.root)


@settings(max_examples=100, deadline=None)
@given(data=st.data(), seed=seeds, size=sizes)
def test_other_size_refused_unless_path_is_the_same(
    data: st.DataObject, seed: int, size: int
) -> None:
    """The size is bound to a root only through the path's shape, so a size that puts the
    leaf on the same way down verifies; every other size is refused. Verifiers must take the
    size from the anchor, never from whoever hands over the proof."""
    leaves = _leaves(seed, size)
    tree = MerkleTree(leaves)
    index = data.draw(st.integers(0, size - 1), label="index")
    other = data.draw(st.integers(0, 400).filter(lambda s: s != size), label="other size")
    args = (leaves[index], index, other, tree.proof(index), tree.root)
    if index < other and directions(index, other) == directions(index, size):
        verify_inclusion(*args)
    else:
        with pytest.raises(InvalidProof):
            verify_inclusion(*args)


def test_size_is_bound_only_through_path_shape() -> None:
    """The known case behind the property above: leaf 0 of 3 walks the same way as in 4."""
    leaves = _leaves(7, 3)
    tree = MerkleTree(leaves)
    verify_inclusion(leaves[0], 0, 4, tree.proof(0), tree.root)
    with pytest.raises(InvalidProof):
        verify_inclusion(leaves[0], 0, 5, tree.proof(0), tree.root)


@settings(max_examples=100, deadline=None)
@given(data=st.data(), seed=seeds, size=st.integers(min_value=3, max_value=200))
def test_swapped_proof_order_refused(data: st.DataObject, seed: int, size: int) -> None:
    leaves = _leaves(seed, size)
    tree = MerkleTree(leaves)
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = tree.proof(index)
    if len(proof) < 2:  # a leaf carried up past levels; leaf 0 has at least two steps
        proof = tree.proof(index := 0)
    i = data.draw(st.integers(0, len(proof) - 2), label="i")
    j = data.draw(st.integers(i + 1, len(proof) - 1), label="j")
    swapped = list(proof)
    swapped[i], swapped[j] = swapped[j], swapped[i]
    with pytest.raises(InvalidProof):
        verify_inclusion(leaves[index], index, size, swapped, tree.root)
