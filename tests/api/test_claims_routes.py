"""GET /claims, /claims/{claim}, /claims/{claim}/history: each works, each refuses callers
without a key, and each shows a caller only what its role and organisation may see."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.api.flows import host_with_keys
from tests.conftest import Ledger, new_claim

ROLES = {
    "bank-a": "CREDITOR",
    "bank-b": "CREDITOR",
    "agency-x": "AGENCY",
    "court": "COURT",
    "regulator": "REGULATOR",
    "gateway": "GATEWAY",
}


@pytest.fixture
def keys(ledger: Ledger) -> dict[str, dict[str, str]]:
    """Claims A-1..A-3 of bank-a (A-2 mandated to agency-x), B-1 of bank-b; indexed."""
    headers = host_with_keys(ledger.rt, ROLES)
    c = ledger.claims
    for ref in ("A-1", "A-2", "A-3"):
        c.register("bank-a", new_claim(ref), idem_key=ref)
    c.register("bank-b", new_claim("B-1"), idem_key="B-1")
    until = datetime.now(UTC) + timedelta(days=30)
    c.mandate(new_claim("A-2").claim_id, "bank-a", "agency-x", until, idem_key="m")
    c.settle(new_claim("A-3").claim_id, "bank-a", "paid", idem_key="s")
    ledger.rt.indexer.run_once()
    return headers


def _ids(reply: httpx.Response) -> set[str]:
    assert reply.status_code == 200, reply.text
    return {c["claim_id"] for c in reply.json()["data"]}


def cid(ref: str) -> str:
    return "0x" + new_claim(ref).claim_id.hex()


@pytest.mark.parametrize(
    ("org", "expected"),
    [
        ("bank-a", {"A-1", "A-2", "A-3"}),
        ("bank-b", {"B-1"}),
        ("agency-x", {"A-2"}),
        ("court", {"A-1", "A-2", "A-3", "B-1"}),
        ("regulator", {"A-1", "A-2", "A-3", "B-1"}),
        ("gateway", set()),
    ],
)
def test_list_shows_what_the_role_may_see(
    api: httpx.Client, keys, org: str, expected: set[str]
) -> None:  # type: ignore[no-untyped-def]
    assert _ids(api.get("/claims", headers=keys[org])) == {cid(r) for r in expected}


def test_list_filters_and_pages(api: httpx.Client, keys) -> None:  # type: ignore[no-untyped-def]
    court = keys["court"]
    assert _ids(api.get("/claims", params={"status": "settled"}, headers=court)) == {cid("A-3")}
    first = api.get("/claims", params={"limit": 3}, headers=court).json()
    assert len(first["data"]) == 3 and first["next"] == first["data"][-1]["claim_id"]
    rest = api.get("/claims", params={"limit": 3, "after": first["next"]}, headers=court).json()
    assert len(rest["data"]) == 1 and rest["next"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"status": "lost"}, "status"),
        ({"after": "zz"}, "after"),
        ({"due_before": "31/12"}, "due_before"),
    ],
)
def test_bad_query_is_422_naming_the_field(
    api: httpx.Client, keys, params: dict[str, object], field: str
) -> None:  # type: ignore[no-untyped-def]
    reply = api.get("/claims", params=params, headers=keys["court"])
    assert reply.status_code == 422
    assert reply.headers["content-type"] == "application/problem+json"
    assert reply.json()["field"] == field


def test_show_own_claim_by_reference(api: httpx.Client, keys, ledger: Ledger) -> None:  # type: ignore[no-untyped-def]
    body = api.get("/claims/A-1", headers=keys["bank-a"]).json()
    assert body["owner"] == ledger.orgs.address("bank-a")
    assert (body["principal_fen"], body["status"]) == (100_000, "active")


@pytest.mark.parametrize("org", ["bank-b", "agency-x", "gateway"])
def test_another_orgs_claim_is_not_found(api: httpx.Client, keys, org: str) -> None:  # type: ignore[no-untyped-def]
    reply = api.get("/claims/A-1", headers=keys[org])
    assert reply.status_code == 404 and reply.json()["title"] == "NotFound"


def test_history_of_a_visible_claim(api: httpx.Client, keys) -> None:  # type: ignore[no-untyped-def]
    names = [e["event"] for e in api.get("/claims/A-2/history", headers=keys["agency-x"]).json()]
    assert names == ["ClaimRegistered", "MandateGranted"]
    assert api.get("/claims/A-1/history", headers=keys["agency-x"]).status_code == 404


@pytest.mark.parametrize("path", ["/claims", "/claims/A-1", "/claims/A-1/history"])
def test_every_claim_route_needs_a_key(api: httpx.Client, keys, path: str) -> None:  # type: ignore[no-untyped-def]
    assert api.get(path).status_code == 401
