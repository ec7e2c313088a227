"""/health, /ready and the OpenAPI document, over real HTTP."""

from __future__ import annotations

import httpx

from tests.conftest import Ledger


def test_health(api: httpx.Client) -> None:
    assert api.get("/health").json() == {"status": "ok"}


def test_ready_reports_the_chain(api: httpx.Client, ledger: Ledger) -> None:
    body = api.get("/ready").json()
    assert body["status"] == "ready" and body["chain_id"] == 31337
    assert body["block"] == ledger.rt.writer.head()


def test_not_ready_without_the_node_is_a_problem(api: httpx.Client, ledger: Ledger) -> None:
    ledger.node.kill()
    reply = api.get("/ready")
    assert reply.status_code == 503
    assert reply.headers["content-type"] == "application/problem+json"
    assert reply.json()["title"] == "NodeUnavailable"


def test_openapi_documents_the_routes(api: httpx.Client) -> None:
    spec = api.get("/openapi.json").json()
    assert {"/health", "/ready"} <= set(spec["paths"])
    assert api.get("/docs").status_code == 200


def test_every_other_route_needs_a_key(api: httpx.Client, ledger: Ledger) -> None:
    from debtledger.access.service import AccessService

    access = AccessService(ledger.rt)
    access.host("bank-a", ["CREDITOR"], idem_key="host:bank-a")
    access.add_member("bank-a", "alice")
    key = access.issue_key("bank-a", "alice", "CREDITOR").key
    missing = api.get("/orgs/me")
    assert (
        missing.status_code == 401 and missing.headers["content-type"] == "application/problem+json"
    )
    assert (
        api.get("/orgs/me", headers={"Authorization": "Bearer " + key[:-1] + "x"}).status_code
        == 401
    )
    me = api.get("/orgs/me", headers={"Authorization": f"Bearer {key}"})
    assert me.status_code == 200
    assert me.json() == {
        "org": "bank-a",
        "member": "alice",
        "role": "CREDITOR",
        "address": ledger.orgs.address("bank-a"),
    }
    assert api.get("/orgs/me", headers={"X-API-Key": key}).json()["member"] == "alice"


def test_hosted_organisations_are_listed(api: httpx.Client, ledger: Ledger) -> None:
    from debtledger.access.service import AccessService

    access = AccessService(ledger.rt)
    access.host("bank-a", ["CREDITOR"], idem_key="host:bank-a")
    access.host("agency-x", ["AGENCY"], idem_key="host:agency-x")
    access.add_member("agency-x", "ops")
    headers = {"X-API-Key": access.issue_key("agency-x", "ops", "AGENCY").key}
    listed = api.get("/orgs", headers=headers).json()
    assert [(o["name"], o["roles"]) for o in listed] == [
        ("agency-x", ["AGENCY"]),
        ("bank-a", ["CREDITOR"]),
    ]
    assert api.get("/orgs").status_code == 401
