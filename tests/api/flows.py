"""What the API tests share: the organisations they act as and how a write is followed."""

from __future__ import annotations

import time
from typing import Any

import httpx

from debtledger.access.service import AccessService
from debtledger.runtime import Runtime

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


def host_with_keys(rt: Runtime, roles: dict[str, str]) -> dict[str, dict[str, str]]:
    """Host each organisation with a member "ops"; its API key as request headers."""
    access = AccessService(rt)
    out = {}
    for org, role in roles.items():
        access.host(org, [role], idem_key=f"host:{org}")
        access.add_member(org, "ops")
        out[org] = {"Authorization": f"Bearer {access.issue_key(org, 'ops', role).key}"}
    return out
