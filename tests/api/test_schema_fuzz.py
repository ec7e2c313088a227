"""schemathesis against the OpenAPI document, over real HTTP: no input, valid or not,
makes the API answer with a 5xx (bounded examples per operation)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, settings

from debtledger.access.service import AccessService
from debtledger.api.app import create_app
from debtledger.chain.node import LocalNode
from debtledger.config import get_settings
from debtledger.orgs.service import OrgService
from debtledger.runtime import Runtime
from tests.conftest import ORGS, free_port, make_settings, new_claim

EXAMPLES = int(os.environ.get("DEBTLEDGER_FUZZ_EXAMPLES", "15"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One ledger and API for the whole module: bank-a's key, one claim of bank-a."""
    s = make_settings(tmp_path_factory.mktemp("fuzz") / "data")
    node = LocalNode(s)
    node.start()
    rt = Runtime(s)
    OrgService(rt).deploy()
    access = AccessService(rt)
    for name, roles in ORGS.items():
        access.host(name, roles, idem_key=f"host:{name}")
    access.add_member("bank-a", "fuzz")
    key = access.issue_key("bank-a", "fuzz", "CREDITOR").key
    from debtledger.claims.service import ClaimService

    ClaimService(rt).register("bank-a", new_claim("FUZZ-1"), idem_key="fuzz-1")
    app = create_app(Runtime(s))
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.02)
    yield {
        "url": f"http://127.0.0.1:{port}",
        "headers": {"Authorization": f"Bearer {key}"},
        "app": app,
    }
    srv.should_exit = True
    thread.join(timeout=10)
    node.stop(snapshot=False)


# The document does not depend on any state: build it from an app over an unopened runtime.
schema = schemathesis.openapi.from_dict(create_app(Runtime(get_settings())).openapi())


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_makes_a_server_error(case: Any, server: dict[str, Any]) -> None:
    response = case.call(base_url=server["url"], headers=server["headers"])
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text}"
