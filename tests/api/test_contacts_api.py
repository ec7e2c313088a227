"""POST and GET /claims/{claim}/contacts over HTTP, with a real SMTP server and the local SMS
provider: who may ask, who may list, idempotency, failures as 502, and no answer to a
requester ever holding the debtor's address, number or name."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from debtledger.collection.sms_provider import ProviderHandle
from debtledger.config import Settings
from debtledger.domain.claims import parse_claim
from tests.api.flows import host_with_keys
from tests.collection.conftest import (  # noqa: F401 - fixtures
    TOKEN,
    SmtpServer,
    sms_provider,
    smtp_server,
)
from tests.conftest import Ledger, enrol_at_midday

pytestmark = pytest.mark.xdist_group("gateway")

NAME = "李雷"
EMAIL = "li.lei@example.net"
PHONE = "+8613912345678"
PII = (NAME, EMAIL, PHONE, PHONE.removeprefix("+86"), "li.lei")
ROLES = {
    "bank-a": "CREDITOR",
    "bank-b": "CREDITOR",
    "agency-x": "AGENCY",
    "court": "COURT",
    "regulator": "REGULATOR",
    "gateway": "GATEWAY",
}
PAY = {"pay_url": "https://pay.example.com/c"}


@pytest.fixture
def settings(
    store_settings: Settings,
    smtp_server: SmtpServer,  # noqa: F811
    sms_provider: ProviderHandle,  # noqa: F811
) -> Settings:
    return store_settings.model_copy(
        update={
            "smtp_host": smtp_server.host,
            "smtp_port": smtp_server.port,
            "sms_provider_url": sms_provider.url,
            "sms_provider_token": TOKEN,
        }
    )


@pytest.fixture
def keys(ledger: Ledger) -> dict[str, dict[str, str]]:
    return host_with_keys(ledger.rt, ROLES)


def claim_of_debtor(ledger: Ledger, ref: str, *, mandate: bool = True) -> bytes:
    """Claim `ref` of bank-a on a debtor whose details are in the vault; returns the
    debtor's pseudonym."""
    debtor = hashlib.sha256(ref.encode()).digest()
    claim = parse_claim(
        {
            "claim_ref": ref,
            "debtor_pseudonym": "0x" + debtor.hex(),
            "principal_fen": "50000",
            "outstanding_fen": "50000",
            "currency": "CNY",
            "due_date": "2026-06-30",
        }
    )
    ledger.claims.register("bank-a", claim, idem_key=f"reg:{ref}")
    ledger.rt.vault.put(debtor, {"phone": PHONE, "email": EMAIL, "debtor_name": NAME})
    if mandate:
        until = datetime.now(UTC) + timedelta(days=30)
        ledger.claims.mandate(claim.claim_id, "bank-a", "agency-x", until, idem_key=f"m:{ref}")
    enrol_at_midday(ledger.rt, claim.claim_id, "bank-a")
    return debtor


def assert_no_pii(reply: httpx.Response) -> None:
    for value in PII:
        assert value not in reply.text, f"personal data in an answer: {value!r}"


def post(
    api: httpx.Client,
    headers: dict[str, str],
    ref: str,
    body: dict[str, Any],
    key: str | None = None,
) -> httpx.Response:
    extra = {"Idempotency-Key": key} if key else {}
    return api.post(f"/claims/{ref}/contacts", json=body, headers={**headers, **extra})


def test_a_mandated_agency_contacts_the_debtor_and_no_answer_holds_personal_data(
    api: httpx.Client,
    keys: dict[str, dict[str, str]],
    ledger: Ledger,
    smtp_server: SmtpServer,  # noqa: F811
    sms_provider: ProviderHandle,  # noqa: F811
) -> None:
    claim_of_debtor(ledger, "API-1")
    agency = keys["agency-x"]
    email = {"channel": "email", "template": "reminder-1", "variables": PAY}
    reply = post(api, agency, "API-1", email, key="mail-1")
    assert reply.status_code == 201, reply.text
    sent = reply.json()
    assert sent["claim_ref"] == "API-1" and sent["status"] == "sent"
    assert set(sent) == {
        "contact_id",
        "evidence_item_id",
        "template_id",
        "channel",
        "lang",
        "claim_ref",
        "at",
        "status",
        "outcome",
        "message_id",
    }
    assert_no_pii(reply)
    (envelope,) = smtp_server.mailbox.envelopes
    assert envelope.rcpt_tos == [EMAIL]

    again = post(api, agency, "API-1", email, key="mail-1")
    assert again.status_code == 201 and again.json() == sent
    assert len(smtp_server.mailbox.envelopes) == 1

    reply = post(api, agency, "API-1", {"channel": "sms", "template": "overdue-notice"})
    assert reply.status_code == 201, reply.text
    assert_no_pii(reply)
    assert [m.to for m in sms_provider.messages()] == [PHONE]
    call = {"channel": "voice", "template": "call-script-1", "outcome": "conversation"}
    reply = post(api, keys["bank-a"], "API-1", call)
    assert reply.status_code == 201 and reply.json()["outcome"] == "conversation"

    for org in ("agency-x", "bank-a", "court", "regulator", "gateway"):
        listed = api.get("/claims/API-1/contacts", headers=keys[org])
        assert listed.status_code == 200, listed.text
        assert_no_pii(listed)
        rows = listed.json()
        assert [r["channel"] for r in rows] == ["email", "sms", "voice"]
        assert [r["requester"] for r in rows] == ["agency-x", "agency-x", "bank-a"]
        assert rows[0]["contact_id"] == sent["contact_id"]
        assert (rows[0]["message_sha256"] is None) == (org == "agency-x")
    assert api.get("/claims/API-1/contacts", headers=keys["bank-b"]).status_code == 404
    assert api.get("/claims/API-1/contacts").status_code == 401


REFUSALS: list[tuple[str, str, dict[str, Any], int, str | None]] = [
    ("regulator", "API-2", {"channel": "sms", "template": "reminder-1"}, 403, None),
    ("bank-b", "API-2", {"channel": "sms", "template": "reminder-1"}, 403, None),
    ("court", "API-2", {"channel": "sms", "template": "reminder-1"}, 403, None),
    ("gateway", "API-2", {"channel": "sms", "template": "reminder-1"}, 403, None),
    ("agency-x", "API-3", {"channel": "sms", "template": "reminder-1"}, 403, None),
    ("agency-x", "API-2", {"channel": "fax", "template": "reminder-1"}, 422, "channel"),
    ("agency-x", "API-2", {"channel": "sms", "template": "legal-notice"}, 422, "channel"),
    ("agency-x", "API-2", {"channel": "voice", "template": "call-script-1"}, 422, "outcome"),
    ("agency-x", "API-2", {"channel": "sms", "template": "x", "to": PHONE}, 422, "to"),
    (
        "agency-x",
        "API-2",
        {"channel": "sms", "template": "reminder-1", "variables": {"debtor_name": "x"}},
        422,
        "debtor_name",
    ),
]


def test_refusals_send_nothing_and_decrypt_nothing(
    api: httpx.Client,
    keys: dict[str, dict[str, str]],
    ledger: Ledger,
    smtp_server: SmtpServer,  # noqa: F811
    sms_provider: ProviderHandle,  # noqa: F811
) -> None:
    """API-2 is mandated to agency-x, API-3 is not."""
    debtors = [claim_of_debtor(ledger, "API-2"), claim_of_debtor(ledger, "API-3", mandate=False)]
    for org, ref, body, status, field in REFUSALS:
        reply = post(api, keys[org], ref, body)
        assert reply.status_code == status, (org, ref, body, reply.text)
        assert reply.headers["content-type"] == "application/problem+json"
        assert reply.json().get("field") == field, (org, ref, body)
        assert_no_pii(reply)
    assert smtp_server.mailbox.envelopes == [] and sms_provider.messages() == []
    assert all(ledger.rt.vault.trail.list(debtor=d) == [] for d in debtors)


def test_a_delivery_failure_is_a_502_without_the_address_and_is_listed(
    api: httpx.Client,
    keys: dict[str, dict[str, str]],
    ledger: Ledger,
    smtp_server: SmtpServer,  # noqa: F811
) -> None:
    claim_of_debtor(ledger, "API-4")
    smtp_server.mailbox.refuse_recipients = True  # its 550 reply quotes the address
    reply = post(api, keys["agency-x"], "API-4", {"channel": "email", "template": "reminder-1"})
    assert reply.status_code == 502, reply.text
    assert reply.json()["title"] == "DeliveryFailed"
    assert_no_pii(reply)
    listed = api.get("/claims/API-4/contacts", headers=keys["agency-x"])
    assert [(r["status"], r["message_id"]) for r in listed.json()] == [("failed", None)]
    assert_no_pii(listed)
