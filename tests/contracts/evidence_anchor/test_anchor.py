"""EvidenceAnchor.anchor: members that produce or judge evidence fix a batch's root once."""

import boa
import pytest
from eth_utils import keccak, to_checksum_address

ZERO = "0x" + "00" * 20
ROOT = keccak(text="root")
BATCH = keccak(text="batch-1")


@pytest.mark.parametrize("caller", ["creditor", "agency", "gateway", "court"])
def test_member_anchors_root(anchor, actors, events, caller):
    who = getattr(actors, caller)
    boa.env.time_travel(seconds=1_000)
    now = boa.env.evm.patch.timestamp
    with boa.env.prank(who):
        anchor.anchor(ROOT, 1_000, BATCH)
    assert events(anchor) == [
        (
            "RootAnchored",
            {
                "root": ROOT,
                "submitter": who,
                "count": 1_000,
                "batch_id": BATCH,
                "anchored_at": now,
            },
        )
    ]
    assert anchor.anchored(ROOT) == (who, now, 1_000)


@pytest.mark.parametrize("caller", ["stranger", "regulator", "keeper", "admin"])
def test_refused_without_an_evidence_role(anchor, actors, caller):
    with boa.env.prank(getattr(actors, caller)), boa.reverts("anchor: caller may not anchor"):
        anchor.anchor(ROOT, 1, BATCH)
    assert anchor.anchored(ROOT) == (ZERO, 0, 0)


def test_refused_after_role_revoked(anchor, consortium, actors, role):
    with boa.env.prank(actors.admin):
        consortium.revoke_role(role("AGENCY"), actors.agency)
    with boa.env.prank(actors.agency), boa.reverts("anchor: caller may not anchor"):
        anchor.anchor(ROOT, 1, BATCH)


def test_root_anchored_once_only(anchor, actors):
    with boa.env.prank(actors.creditor):
        anchor.anchor(ROOT, 5, BATCH)
    first = anchor.anchored(ROOT)
    boa.env.time_travel(seconds=60)
    for who in (actors.creditor, actors.court):
        with boa.env.prank(who), boa.reverts("anchor: root already anchored"):
            anchor.anchor(ROOT, 7, keccak(text="batch-2"))
    assert anchor.anchored(ROOT) == first == (actors.creditor, first[1], 5)


def test_zero_root_refused(anchor, actors):
    with boa.env.prank(actors.creditor), boa.reverts("anchor: empty root"):
        anchor.anchor(b"\x00" * 32, 1, BATCH)


def test_count_boundaries(anchor, actors):
    with boa.env.prank(actors.creditor):
        with boa.reverts("anchor: empty batch"):
            anchor.anchor(ROOT, 0, BATCH)
        with boa.reverts("anchor: batch too large"):
            anchor.anchor(ROOT, 2**32, BATCH)
        anchor.anchor(ROOT, 2**32 - 1, BATCH)
        anchor.anchor(keccak(text="one"), 1, BATCH)
    assert anchor.anchored(ROOT)[2] == 2**32 - 1
    assert anchor.anchored(keccak(text="one"))[2] == 1


def test_packed_fields_do_not_bleed(anchor, consortium, actors, role):
    """An all-ones address, the largest block time and the largest count unpack intact."""
    member = to_checksum_address("0x" + "ff" * 20)
    with boa.env.prank(actors.admin):
        consortium.grant_role(role("COURT"), member, keccak(text="org:high"))
    boa.env.evm.patch.timestamp = 2**64 - 1
    with boa.env.prank(member):
        anchor.anchor(ROOT, 2**32 - 1, BATCH)
    assert anchor.anchored(ROOT) == (member, 2**64 - 1, 2**32 - 1)
