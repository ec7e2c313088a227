"""A real HTTP server (uvicorn in a thread) over the app, on a free port; its store on
SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from debtledger.api.app import create_app
from debtledger.config import Settings
from tests.api.flows import ROLES, host_with_keys
from tests.conftest import Ledger, free_port


@pytest.fixture
def settings(store_settings: Settings) -> Settings:
    return store_settings


@pytest.fixture
def api(ledger: Ledger) -> Iterator[httpx.Client]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(ledger.reopen().rt), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the API did not start"
        time.sleep(0.02)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        yield client
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def h(ledger: Ledger) -> dict[str, dict[str, str]]:
    """An API key (as headers) for each organisation of ROLES, hosted by the ledger's service."""
    return host_with_keys(ledger.rt, ROLES)
