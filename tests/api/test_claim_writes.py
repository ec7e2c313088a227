"""Claim writes over HTTP: 202 with an operation that ends mined, Idempotency-Key, the
contract's refusals as 403/409/422 with the rule, bad fields as 422 naming the field."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.flows import CLAIM, mined, register
from tests.conftest import Ledger, new_claim


def test_register_is_accepted_then_mined_then_listed(api: httpx.Client, h, ledger: Ledger) -> None:  # type: ignore[no-untyped-def]
    op = register(api, h, "W-1")
    assert op["status"] == "mined" and op["block"] >= 1 and op["action"] == "register"
    ledger.rt.indexer.run_once()
    shown = api.get("/claims/W-1", headers=h["bank-a"]).json()
    assert (shown["principal_fen"], shown["outstanding_fen"]) == (50_000, 50_000)


def test_idempotency_key_makes_retries_one_write(api: httpx.Client, h, ledger: Ledger) -> None:  # type: ignore[no-untyped-def]
    headers = {**h["bank-a"], "Idempotency-Key": "order-77"}
    first = api.post("/claims", json={"claim_ref": "W-2", **CLAIM}, headers=headers)
    again = api.post("/claims", json={"claim_ref": "W-2", **CLAIM}, headers=headers)
    assert first.json()["id"] == again.json()["id"]
    assert mined(api, again, h["bank-a"])["status"] == "mined"
    names = [e["event"] for e in ledger.claims.history(new_claim("W-2").claim_id)]
    assert names == ["ClaimRegistered"]


def test_batch_registers_all(api: httpx.Client, h, ledger: Ledger) -> None:  # type: ignore[no-untyped-def]
    body = {"claims": [{"claim_ref": f"WB-{i}", **CLAIM} for i in range(25)]}
    assert (
        mined(api, api.post("/claims/batch", json=body, headers=h["bank-a"]), h["bank-a"])["status"]
        == "mined"
    )
    assert all(ledger.claims.registered([new_claim(f"WB-{i}").claim_id for i in range(25)]))


def test_sale_proposed_by_one_org_accepted_by_another(api: httpx.Client, h, ledger: Ledger) -> None:  # type: ignore[no-untyped-def]
    register(api, h, "W-3")
    offer = api.post(
        "/claims/W-3/transfer", json={"buyer": "bank-b", "price_fen": 30_000}, headers=h["bank-a"]
    )
    assert len(offer.json()["price_salt"]) == 66
    assert mined(api, offer, h["bank-a"])["status"] == "mined"
    again = api.post(
        "/claims/W-3/transfer", json={"buyer": "bank-b", "price_fen": 1}, headers=h["bank-a"]
    )
    assert again.status_code == 409
    assert again.json()["rule"] == "registry: claim already pending transfer"
    assert (
        mined(api, api.post("/claims/W-3/accept", headers=h["bank-b"]), h["bank-b"])["status"]
        == "mined"
    )
    assert ledger.claims.show(new_claim("W-3").claim_id)["owner"] == "bank-b"


@pytest.mark.parametrize(
    ("org", "path", "body", "status", "rule"),
    [
        (
            "agency-x",
            "/claims",
            {"claim_ref": "W-9", **CLAIM},
            403,
            "registry: caller is not a creditor",
        ),
        ("bank-b", "/claims/W-4/settle", {}, 403, "registry: caller is not the owner"),
        (
            "bank-b",
            "/claims/W-4/repayments",
            {"amount_fen": 5},
            403,
            "registry: caller is not the owner or a gateway",
        ),
        ("regulator", "/claims/W-4/settle", {}, 403, None),
        ("bank-a", "/claims/NOPE/settle", {}, 404, "registry: unknown claim"),
        ("bank-a", "/claims/W-4/accept", None, 409, "registry: no pending transfer"),
    ],
)
def test_refusals_carry_the_rule(
    api: httpx.Client, h, org: str, path: str, body: Any, status: int, rule: str | None
) -> None:  # type: ignore[no-untyped-def]
    register(api, h, "W-4")
    reply = (
        api.post(path, json=body, headers=h[org])
        if body is not None
        else api.post(path, headers=h[org])
    )
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"] == "application/problem+json"
    if rule:
        assert reply.json()["rule"] == rule


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**CLAIM, "claim_ref": "W-5", "principal_fen": 10.5}, "principal_fen"),
        ({**CLAIM, "claim_ref": "W-5", "principal_fen": "100"}, "principal_fen"),
        ({**CLAIM, "claim_ref": "W-5", "principal_fen": -1}, "principal_fen"),
        ({**CLAIM, "claim_ref": "W 5"}, "claim_ref"),
        ({**CLAIM, "claim_ref": "W-5", "debtor_name": "Zhang San"}, "debtor_name"),
        ({"claim_ref": "W-5", "principal_fen": 1, "due_date": "2026-01-01"}, "debtor_pseudonym"),
        ({**CLAIM, "claim_ref": "W-5", "outstanding_fen": 60_000}, "outstanding_fen"),
    ],
)
def test_bad_field_is_422_naming_it(api: httpx.Client, h, body: dict[str, Any], field: str) -> None:  # type: ignore[no-untyped-def]
    reply = api.post("/claims", json=body, headers=h["bank-a"])
    assert reply.status_code == 422, reply.text
    assert reply.json()["field"] == field


def test_operations_of_another_org_are_not_found(api: httpx.Client, h) -> None:  # type: ignore[no-untyped-def]
    op = register(api, h, "W-6")
    assert api.get(f"/operations/{op['id']}", headers=h["bank-b"]).status_code == 404
    assert api.get(f"/operations/{op['id']}").status_code == 401
