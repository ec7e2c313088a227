"""The local node: anvil from the npm package, atomic snapshots, restart from the last one."""

from __future__ import annotations

import json

import pytest

from debtledger.chain.node import LocalNode, Snapshotter, anvil_binary
from debtledger.chain.rpc import Rpc
from debtledger.errors import ChainError
from tests.conftest import Ledger, new_claim


def test_anvil_comes_from_the_pinned_npm_package() -> None:
    path = anvil_binary()
    assert path.exists()
    assert "@foundry-rs/anvil" in str(path)


def test_node_runs_shanghai_with_zero_fees(node: LocalNode) -> None:
    rpc = Rpc(node.url)
    block = rpc.call("eth_getBlockByNumber", ["latest", False])
    assert int(block["baseFeePerGas"], 16) == 0
    assert rpc.call("eth_call", [{"data": "0x5f5f00"}, "latest"]) == "0x"  # PUSH0: Shanghai
    with pytest.raises(ChainError):
        rpc.call("eth_call", [{"data": "0x5f5c00"}, "latest"])  # TLOAD: Cancun, refused


def test_stop_and_start_keeps_the_ledger(ledger: Ledger) -> None:
    ledger.claims.register("bank-a", new_claim("K-1"), idem_key="k1")
    ledger.node.stop(snapshot=True)
    assert not ledger.node.is_running()
    ledger.node.start()
    assert ledger.reopen().claims.show(new_claim("K-1").claim_id)["owner"] == "bank-a"


def test_snapshot_is_written_whole_and_atomically(ledger: Ledger) -> None:
    path = ledger.node.snapshot()
    state = json.loads(path.read_text())
    assert state["best_block_number"] == ledger.rt.writer.head()
    assert not path.with_suffix(".tmp").exists()


def test_sigkill_loses_only_what_came_after_the_last_snapshot(ledger: Ledger) -> None:
    ledger.claims.register("bank-a", new_claim("K-2"), idem_key="k2")
    snapshots = Snapshotter(ledger.node, interval_s=60)
    snapshots.tick()
    head = ledger.rt.writer.head()
    ledger.node.kill()
    ledger.node.start()
    assert Rpc(ledger.node.url).call("eth_blockNumber") == hex(head)
    assert LocalNode(ledger.settings).is_running()


def test_snapshotter_skips_when_the_chain_has_not_moved(ledger: Ledger) -> None:
    snapshots = Snapshotter(ledger.node, interval_s=60)
    snapshots.tick()
    first = ledger.node.snapshot_path.stat().st_mtime_ns
    snapshots.tick()
    assert ledger.node.snapshot_path.stat().st_mtime_ns == first
    ledger.claims.register("bank-a", new_claim("K-3"), idem_key="k3")
    snapshots.tick()
    assert ledger.node.snapshot_path.stat().st_mtime_ns != first
