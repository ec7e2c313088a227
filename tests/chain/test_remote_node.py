"""The same code against a node DebtLedger does not run: writes wait for the node's own
blocks, and fees are paid at the node's gas price."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account

from debtledger.chain.compile import CONTRACTS
from debtledger.chain.rpc import Rpc
from debtledger.claims.service import ClaimService
from debtledger.config import Settings, get_settings
from debtledger.orgs.service import OrgService
from debtledger.runtime import Runtime
from tests.conftest import block_producing_node, new_claim

# anvil's first well-known development key: funded on this throwaway node only.
FUNDED_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


@pytest.fixture
def remote(tmp_path: Path) -> Iterator[Settings]:
    """A fee-charging node producing a block every second (like a QBFT network)."""
    with block_producing_node() as url:
        yield get_settings(data_dir=tmp_path / "data", rpc_url=url, receipt_timeout_s=30)


def _fund(settings: Settings, address: str) -> None:
    rpc = Rpc(settings.node_url)
    funder = Account.from_key(FUNDED_KEY)
    tx = {
        "to": address,
        "value": 10**20,
        "gas": 21_000,
        "gasPrice": int(rpc.call("eth_gasPrice"), 16),
        "nonce": int(rpc.call("eth_getTransactionCount", [funder.address, "pending"]), 16),
        "chainId": int(rpc.call("eth_chainId"), 16),
    }
    raw = "0x" + bytes(funder.sign_transaction(tx).raw_transaction).hex()
    tx_hash = rpc.call("eth_sendRawTransaction", [raw])
    deadline = time.monotonic() + 10
    while rpc.call("eth_getTransactionReceipt", [tx_hash]) is None:
        assert time.monotonic() < deadline, "funding was not mined"
        time.sleep(0.1)


def test_writes_wait_for_the_nodes_blocks_and_pay_its_fees(remote: Settings) -> None:
    rt = Runtime(remote)
    assert not rt.settings.local_node and rt.writer.gas_price is None
    orgs = OrgService(rt)
    _fund(remote, rt.keys.create("admin").address)  # the deployer-to-be pays fees here
    bank = rt.keys.create("bank-a")
    _fund(remote, bank.address)
    orgs.deploy()
    orgs.add("bank-a", ["CREDITOR"], idem_key="org:bank-a")
    entry = ClaimService(rt).register("bank-a", new_claim("R-1"), idem_key="r1")
    receipt = rt.writer.rpc.call("eth_getTransactionReceipt", [entry.tx_hash])
    assert int(receipt["effectiveGasPrice"], 16) > 0  # paid at the node's price
    assert ClaimService(rt).show(new_claim("R-1").claim_id)["owner"] == "bank-a"
    assert rt.deployment.block > 0 and rt.deployment.evm_version == "shanghai"
    assert set(rt.deployment.source_sha256) == set(CONTRACTS)
