"""Every claim write route over HTTP: it works for the party the contract allows, and is
refused (403, with the contract's rule) for another organisation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.flows import mined, register
from tests.conftest import Ledger, new_claim


def do(
    api: httpx.Client, h: dict[str, dict[str, str]], org: str, path: str, body: Any = None
) -> dict[str, Any]:
    reply = (
        api.post(path, json=body, headers=h[org])
        if body is not None
        else api.post(path, headers=h[org])
    )
    op = mined(api, reply, h[org])
    assert op["status"] == "mined", op
    return op


def show(ledger: Ledger, ref: str) -> dict[str, Any]:
    return ledger.claims.show(new_claim(ref).claim_id)


def test_decline_and_cancel(api: httpx.Client, h, ledger: Ledger) -> None:  # type: ignore[no-untyped-def]
    register(api, h, "R-1")
    offer = {"buyer": "bank-b", "price_fen": 10}
    do(api, h, "bank-a", "/claims/R-1/transfer", offer)
    do(api, h, "bank-b", "/claims/R-1/decline")
    assert show(ledger, "R-1")["pending_transfer"] is None
    do(api, h, "bank-a", "/claims/R-1/transfer", offer)
    do(api, h, "bank-a", "/claims/R-1/cancel")
    assert show(ledger, "R-1")["pending_transfer"] is None


def test_buy_back_after_a_sale(api: httpx.Client, h, ledger: Ledger) -> None:  # type: ignore[no-untyped-def]
    register(api, h, "R-2")
    do(api, h, "bank-a", "/claims/R-2/transfer", {"buyer": "bank-b", "price_fen": 10})
    do(api, h, "bank-b", "/claims/R-2/accept")
    op = do(api, h, "bank-b", "/claims/R-2/buy-back", {"price_fen": 9})
    assert len(api.get(f"/operations/{op['id']}", headers=h["bank-b"]).json()["tx_hash"]) == 66
    assert show(ledger, "R-2")["pending_transfer"] == {"buyer": "bank-a", "buy_back": True}


def test_mandate_and_revoke(api: httpx.Client, h, ledger: Ledger) -> None:  # type: ignore[no-untyped-def]
    register(api, h, "R-3")
    do(
        api,
        h,
        "bank-a",
        "/claims/R-3/mandate",
        {"agency": "agency-x", "expires": "2099-01-01T00:00:00+08:00"},
    )
    assert show(ledger, "R-3")["mandate"]["agency"] == "agency-x"
    do(api, h, "bank-a", "/claims/R-3/mandate/revoke")
    assert show(ledger, "R-3")["mandate"] is None


def test_repay_dispute_resolve_and_write_off(api: httpx.Client, h, ledger: Ledger) -> None:  # type: ignore[no-untyped-def]
    register(api, h, "R-4")
    do(api, h, "bank-a", "/claims/R-4/repayments", {"amount_fen": 5_000, "receipt": "PAY-9"})
    assert show(ledger, "R-4")["outstanding_fen"] == 45_000
    do(api, h, "bank-a", "/claims/R-4/dispute", {"note": "amount contested"})
    assert show(ledger, "R-4")["status"] == "disputed"
    do(api, h, "bank-a", "/claims/R-4/resolve", {"outstanding_fen": 40_000})
    assert (show(ledger, "R-4")["status"], show(ledger, "R-4")["outstanding_fen"]) == (
        "active",
        40_000,
    )
    do(api, h, "bank-a", "/claims/R-4/write-off")
    assert show(ledger, "R-4")["status"] == "written-off"


def test_settle(api: httpx.Client, h, ledger: Ledger) -> None:  # type: ignore[no-untyped-def]
    register(api, h, "R-5")
    do(api, h, "bank-a", "/claims/R-5/settle", {"note": "agreed"})
    assert show(ledger, "R-5")["status"] == "settled"


@pytest.mark.parametrize(
    ("path", "body", "rule"),
    [
        ("transfer", {"buyer": "bank-a", "price_fen": 1}, "registry: caller is not the owner"),
        ("buy-back", {"price_fen": 1}, "registry: caller is not the owner"),
        ("cancel", None, "registry: caller is not the owner"),
        ("write-off", None, "registry: caller is not the owner"),
        (
            "mandate",
            {"agency": "agency-x", "expires": "2099-01-01T00:00:00Z"},
            "registry: caller is not the owner",
        ),
        ("mandate/revoke", None, "registry: caller is not the owner"),
        ("settle", {}, "registry: caller is not the owner"),
        ("dispute", {}, "registry: caller may not dispute"),
        ("resolve", {"outstanding_fen": 1}, "registry: caller may not resolve"),
        ("decline", None, "registry: no pending transfer"),
    ],
)
def test_another_org_is_refused(api: httpx.Client, h, path: str, body: Any, rule: str) -> None:  # type: ignore[no-untyped-def]
    register(api, h, "R-6")
    url = f"/claims/R-6/{path}"
    reply = (
        api.post(url, json=body, headers=h["bank-b"])
        if body is not None
        else api.post(url, headers=h["bank-b"])
    )
    assert reply.status_code in (403, 409), reply.text
    assert reply.json()["rule"] == rule


def test_naive_mandate_expiry_is_422(api: httpx.Client, h) -> None:  # type: ignore[no-untyped-def]
    register(api, h, "R-7")
    reply = api.post(
        "/claims/R-7/mandate",
        json={"agency": "agency-x", "expires": "2099-01-01T00:00:00"},
        headers=h["bank-a"],
    )
    assert reply.status_code == 422 and reply.json()["field"] == "expires"
