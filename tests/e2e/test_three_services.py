"""Three services — two banks and an agency — each with its own database, keys and API, on
one shared chain. A sale proposed through one is accepted through another, and a mandate
given by the buyer reaches the agency, by way of the chain alone."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cli.test_node_cli import dl
from tests.conftest import block_producing_node, free_port

CLAIM = {"debtor_pseudonym": "0x" + "cd" * 32, "principal_fen": 80_000, "due_date": "2026-05-31"}


@pytest.fixture
def chain() -> Iterator[str]:
    """The consortium's node: makes its own blocks every second, no fees (like Besu/QBFT)."""
    with block_producing_node("--base-fee", "0", "--gas-price", "0") as url:
        yield url


def service_env(folder: Path, rpc_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DEBTLEDGER_DATA_DIR": str(folder),
        "DEBTLEDGER_RPC_URL": rpc_url,
        "DEBTLEDGER_GAS_PRICE_WEI": "0",  # a permissioned chain without fees
    }


def wait_for(check: Any, what: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_sale_across_services_by_way_of_the_chain(chain: str, tmp_path: Path) -> None:
    envs = {org: service_env(tmp_path / org, chain) for org in ("bank-a", "bank-b", "agency-x")}
    ports = {org: free_port() for org in envs}
    roles = {"bank-a": "CREDITOR", "bank-b": "CREDITOR", "agency-x": "AGENCY"}
    try:
        dl(envs["bank-a"], "deploy")  # bank-a's service deployed: it holds the admin key
        record = tmp_path / "bank-a" / "deployment.json"
        keys: dict[str, dict[str, str]] = {}
        for org, env in envs.items():
            if org != "bank-a":
                dl(env, "join", str(record))
                address = dl(env, "org", "key", org)["address"]
                dl(
                    envs["bank-a"],
                    "org",
                    "add",
                    org,
                    "--role",
                    roles[org],
                    "--address",
                    str(address),
                )
            dl(env, "org", "host", org, "--role", roles[org])
            dl(env, "org", "member", org, "ops")
            api_key = dl(env, "org", "apikey", org, "ops", "--role", roles[org])["api_key"]
            keys[org] = {"Authorization": f"Bearer {api_key}"}
            dl(env, "serve", "--detach", "--port", str(ports[org]))
        url = {org: f"http://127.0.0.1:{p}" for org, p in ports.items()}

        def op_done(org: str, reply: httpx.Response) -> dict[str, Any]:
            assert reply.status_code == 202, reply.text
            loc = url[org] + reply.headers["location"]
            return wait_for(  # type: ignore[no-any-return]
                lambda: (
                    (op := httpx.get(loc, headers=keys[org]).json())["status"] != "pending" and op
                ),
                "the operation",
            )

        post = httpx.post
        a, b, x = "bank-a", "bank-b", "agency-x"
        assert (
            op_done(
                a, post(f"{url[a]}/claims", json={"claim_ref": "X-1", **CLAIM}, headers=keys[a])
            )["status"]
            == "mined"
        )
        buyer = httpx.get(f"{url[b]}/orgs/me", headers=keys[b]).json()["address"]
        offer = post(
            f"{url[a]}/claims/X-1/transfer",
            json={"buyer": buyer, "price_fen": 50_000},
            headers=keys[a],
        )
        assert op_done(a, offer)["status"] == "mined"
        # bank-b's service never heard of the claim except through the chain.
        assert op_done(b, post(f"{url[b]}/claims/X-1/accept", headers=keys[b]))["status"] == "mined"
        mine = wait_for(
            lambda: httpx.get(f"{url[b]}/claims", headers=keys[b]).json()["data"], "bank-b's index"
        )
        assert [c["owner"] for c in mine] == [buyer]
        wait_for(
            lambda: httpx.get(f"{url[a]}/claims/X-1", headers=keys[a]).status_code == 404,
            "bank-a's index",
        )
        agency = httpx.get(f"{url[x]}/orgs/me", headers=keys[x]).json()["address"]
        mandate = {"agency": agency, "expires": "2099-01-01T00:00:00+00:00"}
        assert (
            op_done(b, post(f"{url[b]}/claims/X-1/mandate", json=mandate, headers=keys[b]))[
                "status"
            ]
            == "mined"
        )
        seen = wait_for(
            lambda: httpx.get(f"{url[x]}/claims", headers=keys[x]).json()["data"],
            "the agency's index",
        )
        assert seen[0]["mandate_agency"] == agency and seen[0]["owner"] == buyer
    finally:
        for env in envs.values():
            subprocess.run(
                [sys.executable, "-m", "debtledger.cli.main", "serve", "--stop"],
                env=env,
                timeout=60,
            )
