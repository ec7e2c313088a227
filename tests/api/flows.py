"""What the API tests share: the organisations they act as and how a write is followed."""

from __future__ import annotations

import time
from typing import Any

import httpx

ROLES = {"bank-a": "CREDITOR", "bank-b": "CREDITOR", "agency-x": "AGENCY", "regulator": "REGULATOR"}
CLAIM = {"debtor_pseudonym": "0x" + "ab" * 32, "principal_fen": 50_000, "due_date": "2026-06-30"}


def mined(api: httpx.Client, reply: httpx.Response, headers: dict[str, str]) -> dict[str, Any]:
    assert reply.status_code == 202, reply.text
    assert reply.headers["location"] == f"/operations/{reply.json()['id']}"
    deadline = time.monotonic() + 20
    while True:
        op = api.get(reply.headers["location"], headers=headers).json()
        if op["status"] != "pending" or time.monotonic() > deadline:
            return op  # type: ignore[no-any-return]
        time.sleep(0.05)


def register(
    api: httpx.Client, h: dict[str, dict[str, str]], ref: str, org: str = "bank-a"
) -> dict[str, Any]:
    return mined(api, api.post("/claims", json={"claim_ref": ref, **CLAIM}, headers=h[org]), h[org])
