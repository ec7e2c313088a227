"""The masked contact gateway against a real node, a real SMTP server (aiosmtpd) and the
local SMS provider: the debtor gets the message, the requester gets a record without the
address, number or name; refusals happen before anything is decrypted; every attempt is in
the access trail and an evidence item that gets anchored."""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
import shlex
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as email_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from debtledger.access.service import AccessService
from debtledger.chain.node import LocalNode
from debtledger.chain.rpc import Rpc
from debtledger.claims.service import ClaimService
from debtledger.cli.main import app as cli_app
from debtledger.collection.gateway import (
    RECORD_TYPE,
    ContactService,
    check_caller_variables,
)
from debtledger.collection.sms_provider import ProviderHandle, SentSms, start_provider
from debtledger.config import Settings
from debtledger.domain.claims import parse_claim
from debtledger.errors import (
    ClaimNotFound,
    ConfigError,
    Conflict,
    DeliveryFailed,
    Forbidden,
    InvalidInput,
    NotFound,
    PolicyRefused,
)
from debtledger.evidence.receipts import verify_receipt
from debtledger.evidence.service import EvidenceService
from debtledger.orgs.service import OrgService
from debtledger.privacy.trail import AccessRecord
from debtledger.runtime import Runtime
from tests.collection.conftest import TOKEN, Mailbox
from tests.conftest import ORGS, Ledger, enrol_at_midday, free_port, make_settings

pytestmark = pytest.mark.xdist_group("gateway")

EXAMPLES = max(3, int(os.environ.get("DEBTLEDGER_HYPOTHESIS_EXAMPLES", "200")) // 20)
NAME = "王芳"
EMAIL = "wang.fang@example.com"
PHONE = "+8613812345678"
UNREACHABLE = "+8613900000000"
PII = (NAME, EMAIL, PHONE, PHONE.removeprefix("+86"), "wang.fang")
FIELDS = {"phone": PHONE, "email": EMAIL, "debtor_name": NAME}
AGENCY = ("agency-x", "AGENCY")
OWNER = ("bank-a", "CREDITOR")
RECORD_KEYS = {
    "template_id",
    "channel",
    "lang",
    "claim_ref",
    "at",
    "status",
    "outcome",
    "message_id",
    "evidence_item_id",
    "contact_id",
}
PAY = {"pay_url": "https://pay.example.com/c/1"}


@dataclass
class Env:
    settings: Settings
    rt: Runtime
    claims: ClaimService
    mailbox: Mailbox
    sms: ProviderHandle

    @property
    def service(self) -> ContactService:
        return ContactService(self.rt)

    @property
    def evidence(self) -> EvidenceService:
        return EvidenceService(self.rt)

    def trail(self, debtor: bytes) -> list[AccessRecord]:
        return self.rt.vault.trail.list(debtor=debtor, limit=1000)

    def contact_items(self, claim_id: bytes) -> list[dict[str, Any]]:
        return [i for i in self.evidence.items_of_claim(claim_id) if i["kind"] == "contact"]

    def content(self, item_id: int) -> bytes:
        return self.evidence.content_path(item_id).read_bytes()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    """One node, mail server and SMS provider for the module: each test uses claims and
    debtors of its own."""
    tmp = tmp_path_factory.mktemp("gateway")
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    sms = start_provider(
        "127.0.0.1", free_port(), TOKEN, tmp / "sms.jsonl", unreachable={UNREACHABLE}
    )
    settings = make_settings(
        tmp / "data",
        smtp_host="127.0.0.1",
        smtp_port=controller.port,
        sms_provider_url=sms.url,
        sms_provider_token=TOKEN,
    )
    node = LocalNode(settings)
    node.start()
    try:
        rt = Runtime(settings)
        orgs = OrgService(rt)
        orgs.deploy()
        for name, roles in {**ORGS, "regulator": ["REGULATOR"]}.items():
            orgs.add(name, roles, idem_key=f"org:{name}")
        yield Env(settings, rt, ClaimService(rt), mailbox, sms)
    finally:
        node.stop(snapshot=False)
        sms.stop()
        controller.stop()


_numbers = itertools.count(1)


def new_debtor_claim(
    env: Env,
    *,
    mandate: bool = True,
    fields: dict[str, str] | None = None,
    outstanding: int = 100_000,
) -> tuple[str, bytes, bytes]:
    """A claim of bank-a on a debtor of its own (contact details in the vault), mandated to
    agency-x unless told otherwise; returns (reference, claim id, debtor pseudonym)."""
    n = next(_numbers)
    ref = f"GW-{n}"
    debtor = hashlib.sha256(f"debtor {n}".encode()).digest()
    claim = parse_claim(
        {
            "claim_ref": ref,
            "debtor_pseudonym": "0x" + debtor.hex(),
            "principal_fen": "100000",
            "outstanding_fen": str(outstanding),
            "currency": "CNY",
            "due_date": "2026-01-15",
        }
    )
    env.claims.register("bank-a", claim, idem_key=f"reg:{ref}")
    env.rt.vault.put(debtor, FIELDS if fields is None else fields)
    if mandate:
        until = datetime.now(UTC) + timedelta(days=30)
        env.claims.mandate(claim.claim_id, "bank-a", "agency-x", until, idem_key=f"m:{ref}")
    enrol_at_midday(env.rt, claim.claim_id, "bank-a")
    return ref, claim.claim_id, debtor


def mail_of(envelope: Any) -> EmailMessage:
    message = message_from_bytes(envelope.content, policy=email_policy)
    assert isinstance(message, EmailMessage)
    return message


def sent_sms(env: Env, to: str) -> list[SentSms]:
    return [m for m in env.sms.messages() if m.to == to]


def assert_no_pii(text: str, *extra: str) -> None:
    for value in (*PII, *extra):
        assert value not in text, f"personal data in what the requester sees: {value!r}"


# ---------------------------------------------------------------------------- sending


def test_email_reaches_the_debtor_and_the_agency_sees_none_of_it(env: Env) -> None:
    ref, cid, debtor = new_debtor_claim(env)
    before = len(env.mailbox.envelopes)
    record = env.service.contact(
        AGENCY, cid, "email", "reminder-1", variables={**PAY, "claim_ref": ref}, idem_key="e"
    )

    (envelope,) = env.mailbox.envelopes[before:]
    assert envelope.rcpt_tos == [EMAIL]
    mail = mail_of(envelope)
    body = mail.get_content()
    assert mail["To"] == EMAIL and mail["Message-ID"] == record["message_id"]
    assert NAME in body and "¥1,000.00" in body and "bank-a" in body and ref in body

    assert set(record) == RECORD_KEYS
    assert (record["channel"], record["template_id"], record["claim_ref"]) == (
        "email",
        "reminder-1",
        ref,
    )
    assert (record["status"], record["outcome"]) == ("sent", "sent")
    assert_no_pii(json.dumps(record, ensure_ascii=False))

    reads = {(r.actor_org, r.actor_role, r.field, r.purpose, r.claim_id) for r in env.trail(debtor)}
    assert reads == {
        ("gateway", "GATEWAY", "email", "contact:reminder-1", cid),
        ("gateway", "GATEWAY", "debtor_name", "contact:reminder-1", cid),
    }

    item = env.evidence.item(record["evidence_item_id"])
    assert (item["kind"], item["organisation"], item["claim_id"]) == (
        "contact",
        "gateway",
        "0x" + cid.hex(),
    )
    content = env.content(item["id"])
    assert_no_pii(content.decode())
    stored = json.loads(content)
    assert stored["type"] == RECORD_TYPE and stored["requester"] == "agency-x"
    assert stored["message_id"] == record["message_id"] and stored["status"] == "sent"
    # The digest proves what was sent: it is the digest of the mail the debtor received.
    sent = "\x1f".join(("reminder-1", "email", "zh", mail["Subject"], body.removesuffix("\n")))
    assert stored["message_sha256"] == hashlib.sha256(sent.encode()).hexdigest()


def test_sms_goes_through_the_provider_and_the_number_stays_with_the_gateway(env: Env) -> None:
    _, cid, debtor = new_debtor_claim(env)
    before = len(sent_sms(env, PHONE))
    record = env.service.contact(AGENCY, cid, "sms", "overdue-notice", variables=PAY, lang="en")

    sms = sent_sms(env, PHONE)[before:]
    assert len(sms) == 1
    assert f"Dear {NAME}" in sms[0].text and "agency-x" in sms[0].text
    assert record["message_id"] == sms[0].id and record["outcome"] == "delivered"
    assert record["lang"] == "en" and record["claim_ref"] == "0x" + cid.hex()
    assert_no_pii(json.dumps(record, ensure_ascii=False))
    assert {r.field for r in env.trail(debtor)} == {"phone", "debtor_name"}


def test_a_call_is_recorded_with_its_outcome_and_the_name_is_not_read(env: Env) -> None:
    _, cid, debtor = new_debtor_claim(env)
    record = env.service.contact(AGENCY, cid, "voice", "call-script-1", outcome="promise_to_pay")
    assert (record["channel"], record["status"], record["outcome"]) == (
        "voice",
        "sent",
        "promise_to_pay",
    )
    assert record["message_id"].startswith("call-")
    stored = json.loads(env.content(record["evidence_item_id"]))
    assert stored["outcome"] == "promise_to_pay" and stored["kind"] == "collection"
    # The call script has no name in it: only the number is decrypted.
    assert [(r.field, r.purpose) for r in env.trail(debtor)] == [("phone", "contact:call-script-1")]
    assert_no_pii(json.dumps(record, ensure_ascii=False))


@pytest.mark.parametrize(
    ("channel", "template", "kwargs", "field"),
    [
        ("voice", "call-script-1", {}, "outcome"),
        ("voice", "call-script-1", {"outcome": "picked-up"}, "outcome"),
        ("sms", "reminder-1", {"outcome": "answered"}, "outcome"),
        ("sms", "legal-notice", {}, "channel"),
        ("fax", "reminder-1", {}, "channel"),
        ("sms", "no-such-template", {}, "template_id"),
        ("sms", "reminder-1", {"lang": "fr"}, "lang"),
        ("sms", "reminder-1", {"variables": {"debtor_name": "someone"}}, "debtor_name"),
        ("sms", "reminder-1", {"variables": {"amount_due": "1"}}, "amount_due"),
        ("sms", "reminder-1", {"variables": {"phone": "+8613800000000"}}, "phone"),
        ("sms", "reminder-1", {"variables": {"claim_ref": "OTHER-1"}}, "claim_ref"),
        ("sms", "reminder-1", {"idem_key": ""}, "idempotency_key"),
        ("sms", "reminder-1", {"variables": {"pay_url": "javascript:alert(1)"}}, "pay_url"),
    ],
)
def test_bad_requests_are_refused_before_anything_is_read(
    env: Env, channel: str, template: str, kwargs: dict[str, Any], field: str
) -> None:
    _, cid, debtor = new_debtor_claim(env)
    before = (len(env.mailbox.envelopes), len(env.sms.messages()))
    with pytest.raises(InvalidInput) as info:
        env.service.contact(AGENCY, cid, channel, template, **kwargs)
    assert info.value.field == field
    assert env.trail(debtor) == [] and env.contact_items(cid) == []
    assert (len(env.mailbox.envelopes), len(env.sms.messages())) == before


def test_caller_variables_accept_the_claims_own_reference_or_id() -> None:
    cid = parse_claim(
        {
            "claim_ref": "REF-9",
            "debtor_pseudonym": "0x" + "11" * 32,
            "principal_fen": "1",
            "outstanding_fen": "1",
            "currency": "CNY",
            "due_date": "2026-01-01",
        }
    ).claim_id
    assert check_caller_variables({"claim_ref": "REF-9"}, cid) == {"claim_ref": "REF-9"}
    assert check_caller_variables({"claim_ref": "0x" + cid.hex()}, cid)["claim_ref"]
    assert check_caller_variables(None, cid) == {}
    with pytest.raises(InvalidInput) as info:
        check_caller_variables({"claim_ref": "REF-10"}, cid)
    assert info.value.field == "claim_ref"
    with pytest.raises(InvalidInput) as info:
        check_caller_variables({"pay_url": 5}, cid)
    assert info.value.field == "pay_url"


def test_the_owner_may_contact_its_debtor_but_not_on_a_closed_claim(env: Env) -> None:
    _, cid, debtor = new_debtor_claim(env, mandate=False)
    record = env.service.contact(OWNER, cid, "sms", "reminder-1", variables=PAY)
    assert record["status"] == "sent"
    assert json.loads(env.content(record["evidence_item_id"]))["requester"] == "bank-a"

    env.claims.settle(cid, "bank-a", "paid in full", idem_key=f"settle:{cid.hex()}")
    reads = len(env.trail(debtor))
    with pytest.raises(PolicyRefused) as info:
        env.service.contact(OWNER, cid, "sms", "reminder-1", variables=PAY)
    assert info.value.rule == "policy: claim-inactive"
    assert len(env.trail(debtor)) == reads


@pytest.mark.parametrize(
    ("requester", "mandated"),
    [
        (AGENCY, False),  # an agency without a mandate on this claim
        (("bank-b", "CREDITOR"), True),  # a creditor that does not own it
        (("court", "COURT"), True),
        (("regulator", "REGULATOR"), True),
        (("gateway", "GATEWAY"), True),
        (("bank-a", "AGENCY"), True),  # a role the organisation does not hold
    ],
)
def test_who_may_not_ask_is_refused_with_nothing_sent_or_decrypted(
    env: Env, requester: tuple[str, str], mandated: bool
) -> None:
    _, cid, debtor = new_debtor_claim(env, mandate=mandated)
    before = (len(env.mailbox.envelopes), len(env.sms.messages()))
    with pytest.raises(Forbidden):
        env.service.contact(requester, cid, "email", "reminder-1", variables=PAY)
    assert (len(env.mailbox.envelopes), len(env.sms.messages())) == before
    assert env.trail(debtor) == []
    assert env.contact_items(cid) == []


def test_revoked_and_expired_mandates_are_refused(env: Env) -> None:
    _, revoked, revoked_debtor = new_debtor_claim(env)
    env.claims.revoke_mandate(revoked, "bank-a", idem_key=f"revoke:{revoked.hex()}")
    with pytest.raises(Forbidden):
        env.service.contact(AGENCY, revoked, "sms", "reminder-1", variables=PAY)
    assert env.trail(revoked_debtor) == []

    _, expiring, expiring_debtor = new_debtor_claim(env, mandate=False)
    rpc = Rpc(env.settings.node_url)
    now = int(rpc.call("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    until = datetime.fromtimestamp(now + 60, UTC)
    env.claims.mandate(expiring, "bank-a", "agency-x", until, idem_key=f"m:{expiring.hex()}")
    assert env.service.contact(AGENCY, expiring, "sms", "reminder-1", variables=PAY)
    reads = len(env.trail(expiring_debtor))
    rpc.call("evm_increaseTime", [120])
    rpc.call("evm_mine")
    with pytest.raises(Forbidden):
        env.service.contact(AGENCY, expiring, "sms", "reminder-1", variables=PAY)
    assert len(env.trail(expiring_debtor)) == reads


# ---------------------------------------------------------------------------- idempotency


def test_the_same_idempotency_key_sends_once(env: Env) -> None:
    _, cid, _ = new_debtor_claim(env)
    before = len(env.mailbox.envelopes)
    first = env.service.contact(AGENCY, cid, "email", "reminder-1", variables=PAY, idem_key="k1")
    again = env.service.contact(AGENCY, cid, "email", "reminder-1", variables=PAY, idem_key="k1")
    assert again == first
    assert len(env.mailbox.envelopes) == before + 1
    assert len(env.contact_items(cid)) == 1

    with pytest.raises(Conflict):
        env.service.contact(AGENCY, cid, "sms", "reminder-1", variables=PAY, idem_key="k1")
    # The key is the requester's: the owner's "k1" is another contact.
    other = env.service.contact(OWNER, cid, "email", "reminder-1", variables=PAY, idem_key="k1")
    assert other["contact_id"] != first["contact_id"]
    assert len(env.mailbox.envelopes) == before + 2


def test_concurrent_retries_with_one_key_send_once(env: Env) -> None:
    _, cid, _ = new_debtor_claim(env)
    before = len(sent_sms(env, PHONE))
    results: list[dict[str, Any]] = []

    def send() -> None:
        results.append(
            ContactService(env.rt).contact(
                AGENCY, cid, "sms", "reminder-1", variables=PAY, idem_key="race"
            )
        )

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and all(r == results[0] for r in results)
    assert len(sent_sms(env, PHONE)) == before + 1
    assert len(env.contact_items(cid)) == 1


# ---------------------------------------------------------------------------- failures


def test_smtp_down_is_recorded_and_reported_without_the_address(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    _, cid, debtor = new_debtor_claim(env)
    down = Runtime(env.settings.model_copy(update={"smtp_port": free_port()}))
    caplog.set_level(logging.DEBUG)
    with pytest.raises(DeliveryFailed) as info:
        ContactService(down).contact(
            AGENCY, cid, "email", "reminder-1", variables=PAY, idem_key="down"
        )
    error: BaseException | None = info.value
    while error is not None:  # nor anywhere in the chain of causes
        assert_no_pii(f"{error} {error!r} {error.args!r}")
        error = error.__cause__ or error.__context__
    assert info.value.status == "unreachable"
    assert_no_pii(caplog.text)
    assert any("failed" in r.getMessage() for r in caplog.records if r.levelname == "WARNING")

    (item,) = env.contact_items(cid)
    stored = json.loads(env.content(item["id"]))
    assert (stored["status"], stored["message_id"], stored["provider_status"]) == (
        "failed",
        None,
        "unreachable",
    )
    assert "cannot be reached" in stored["reason"]
    assert [r.field for r in env.trail(debtor) if r.field == "email"] == ["email"]

    # Nothing reached the debtor, so the same key tries again once the server is back.
    before = len(env.mailbox.envelopes)
    record = env.service.contact(AGENCY, cid, "email", "reminder-1", variables=PAY, idem_key="down")
    assert record["status"] == "sent" and len(env.mailbox.envelopes) == before + 1
    listed = env.service.contacts(OWNER, cid)
    assert [c["status"] for c in listed] == ["failed", "sent"]


def test_a_refused_recipient_and_an_unreachable_phone_are_failures_without_the_detail(
    env: Env,
) -> None:
    _, cid, _ = new_debtor_claim(env)
    env.mailbox.refuse_recipients = True
    try:
        with pytest.raises(DeliveryFailed) as info:
            env.service.contact(AGENCY, cid, "email", "reminder-1", variables=PAY)
    finally:
        env.mailbox.refuse_recipients = False
    assert info.value.status == 550
    assert_no_pii(f"{info.value} {info.value!r}")

    off = {**FIELDS, "phone": UNREACHABLE}
    _, cid2, _ = new_debtor_claim(env, fields=off)
    with pytest.raises(DeliveryFailed) as info:
        env.service.contact(AGENCY, cid2, "sms", "reminder-1", variables=PAY)
    assert info.value.status == "failed"
    assert_no_pii(f"{info.value} {info.value!r}", UNREACHABLE, UNREACHABLE.removeprefix("+86"))
    (item,) = env.contact_items(cid2)
    stored = json.loads(env.content(item["id"]))
    assert stored["status"] == "failed" and stored["message_id"].startswith("sms-")
    assert UNREACHABLE.removeprefix("+86") not in env.content(item["id"]).decode()


def test_a_debtor_without_the_detail_on_file_is_not_found(env: Env) -> None:
    _, cid, debtor = new_debtor_claim(env, fields={"phone": PHONE})
    with pytest.raises(NotFound) as info:
        env.service.contact(AGENCY, cid, "email", "reminder-1", variables=PAY)
    assert "no email is on file" in str(info.value)
    assert env.trail(debtor) == []  # found out without decrypting
    # Without a name on file the debtor is addressed neutrally.
    before = len(sent_sms(env, PHONE))
    env.service.contact(AGENCY, cid, "sms", "reminder-1", variables=PAY)
    (sms,) = sent_sms(env, PHONE)[before:]
    assert sms.text.startswith("客户您好")


# ---------------------------------------------------------------------------- evidence


def test_every_send_is_in_the_trail_and_anchored_as_evidence(env: Env) -> None:
    _, cid, debtor = new_debtor_claim(env)
    records = [
        env.service.contact(AGENCY, cid, "email", "overdue-notice", variables=PAY),
        env.service.contact(AGENCY, cid, "sms", "payment-plan-offer", variables=PAY),
        env.service.contact(AGENCY, cid, "voice", "call-script-1", outcome="unanswered"),
    ]
    purposes = [r.purpose for r in env.trail(debtor) if r.field in ("email", "phone")]
    assert purposes == [
        "contact:overdue-notice",
        "contact:payment-plan-offer",
        "contact:call-script-1",
    ]
    env.evidence.run()
    for record in records:
        item = env.evidence.item(record["evidence_item_id"])
        assert item["batch_id"] is not None
        assert env.evidence.batch(item["batch_id"]).block_number is not None
        receipt = json.loads(env.evidence.receipt(item["id"]))
        steps = verify_receipt(receipt, env.content(item["id"]), rpc_url=env.settings.node_url)
        assert steps
    listed = env.service.contacts(("court", "COURT"), cid)
    assert [c["contact_id"] for c in listed] == [r["contact_id"] for r in records]
    assert all(c["batch_id"] is not None for c in listed)


def test_contact_records_are_listed_to_whom_may_see_the_claim(env: Env) -> None:
    _, cid, _ = new_debtor_claim(env)
    sent = env.service.contact(AGENCY, cid, "sms", "reminder-1", variables=PAY)
    for who in (OWNER, AGENCY, ("court", "COURT"), ("regulator", "REGULATOR")):
        (row,) = env.service.contacts(who, cid)
        assert row["contact_id"] == sent["contact_id"] and row["requester"] == "agency-x"
        assert ("message_sha256" in row) == (who != AGENCY)
        assert_no_pii(json.dumps(row, ensure_ascii=False))
    with pytest.raises(NotFound):
        env.service.contacts(("bank-b", "CREDITOR"), cid)
    env.claims.revoke_mandate(cid, "bank-a", idem_key=f"revoke:{cid.hex()}")
    with pytest.raises(NotFound):
        env.service.contacts(AGENCY, cid)
    with pytest.raises(ClaimNotFound):
        env.service.contacts(("court", "COURT"), b"\x42" * 32)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    name=st.text(
        alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=2, max_size=4
    ),
    user=st.from_regex(r"[a-z][a-z0-9]{5,15}", fullmatch=True),
    digits=st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
    channel=st.sampled_from(["email", "sms"]),
)
def test_whatever_the_details_they_reach_the_debtor_and_never_the_agency(
    env: Env, name: str, user: str, digits: str, channel: str
) -> None:
    email, phone = f"{user}@example.org", f"+86{digits}"
    _, cid, _ = new_debtor_claim(env, fields={"debtor_name": name, "email": email, "phone": phone})
    record = env.service.contact(AGENCY, cid, channel, "reminder-1", variables=PAY)
    if channel == "email":
        envelope = env.mailbox.envelopes[-1]
        assert envelope.rcpt_tos == [email] and name in mail_of(envelope).get_content()
    else:
        assert sent_sms(env, phone)[-1].text.startswith(name)
    seen = json.dumps(record, ensure_ascii=False) + json.dumps(
        env.service.contacts(AGENCY, cid), ensure_ascii=False
    )
    for value in (name, email, phone, digits):
        assert value not in seen


# ---------------------------------------------------------------------------- the CLI


def test_cli_send_and_list_print_no_personal_data(env: Env) -> None:
    ref, cid, _ = new_debtor_claim(env)
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEBTLEDGER_DATA_DIR", str(env.settings.data_dir))
        mp.setenv("DEBTLEDGER_NODE_PORT", str(env.settings.node_port))
        mp.setenv("DEBTLEDGER_SMTP_PORT", str(env.settings.smtp_port))
        mp.setenv("DEBTLEDGER_SMS_PROVIDER_URL", env.settings.sms_provider_url)
        mp.setenv("DEBTLEDGER_SMS_PROVIDER_TOKEN", TOKEN)

        def cli(command: str) -> tuple[int, str]:
            result = runner.invoke(cli_app, shlex.split(command))
            return result.exit_code, result.stdout + result.stderr

        before = len(env.mailbox.envelopes)
        send = f"contact send {ref} --as agency-x"
        code, out = cli(f"{send} --channel email --template reminder-1 --idempotency-key k --json")
        assert code == 0, out
        outputs = [out]
        sent = json.loads(out)
        assert sent["claim_ref"] == ref and sent["status"] == "sent"
        assert env.mailbox.envelopes[before].rcpt_tos == [EMAIL]
        code, out = cli(f"{send} --channel voice --template call-script-1 --outcome answered")
        assert code == 0 and "answered" in out
        outputs.append(out)
        for options in ("--json", "", "--as agency-x", "--as bank-a --json"):
            code, out = cli(f"contact list {ref} {options}")
            assert code == 0, out
            assert sent["contact_id"] in out
            outputs.append(out)
        code, out = cli(f"contact list {ref} --as bank-b")
        assert code == 1 and "no claim" in out
        code, out = cli(f"contact send {ref} --as bank-b --channel sms --template reminder-1")
        assert code == 1 and "does not own" in out
    assert_no_pii("\n".join(outputs))
    assert len(env.service.contacts(OWNER, cid)) == 2


# ---------------------------------------------------------------------------- the gateway


def test_the_gateway_organisation_is_found_without_settings(ledger: Ledger) -> None:
    """A ledger of its own: this test adds and hosts organisations."""
    rt = ledger.rt
    assert ContactService(rt).gateway == "gateway"  # the one key here holding GATEWAY
    assert ContactService(rt, gateway="gateway").gateway == "gateway"
    with pytest.raises(ConfigError):
        _ = ContactService(rt, gateway="bank-a").gateway  # holds no GATEWAY role
    ledger.orgs.add("gateway-2", ["GATEWAY"], idem_key="org:gateway-2")
    with pytest.raises(ConfigError, match="ambiguous"):
        _ = ContactService(rt).gateway
    AccessService(rt).host("gateway-2", ["GATEWAY"], idem_key="host:gateway-2")
    assert ContactService(rt).gateway == "gateway-2"  # the hosted one wins


def test_an_unconfigured_channel_is_refused_before_anything_is_decrypted(env: Env) -> None:
    _, cid, debtor = new_debtor_claim(env)
    bare = Runtime(
        env.settings.model_copy(update={"sms_provider_token": None, "mode": "consortium"})
    )
    with pytest.raises(ConfigError):
        ContactService(bare).contact(AGENCY, cid, "sms", "reminder-1", variables=PAY)
    assert env.trail(debtor) == [] and env.contact_items(cid) == []
