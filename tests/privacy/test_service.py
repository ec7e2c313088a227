"""The privacy service on a real node and store: records registered with personal fields in
the vault only, disclosures by role that verify against the chain, courts only on a legal
request, erasure, the access trail anchored once, and exposure shares. Personal data is
looked for everywhere it must not be: every transaction and log on the node, the logs, the
views of agencies and regulators, error messages."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from debtledger.access.service import Principal
from debtledger.chain.rpc import Rpc
from debtledger.domain.claims import claim_id
from debtledger.errors import (
    Conflict,
    Erased,
    Forbidden,
    InvalidInput,
    InvalidProof,
    NotFound,
    TooFewParties,
)
from debtledger.evidence.service import EvidenceService, NewItem
from debtledger.privacy.records import (
    NON_PERSONAL_FIELDS,
    Disclosure,
    Opening,
    verify_disclosure,
)
from debtledger.privacy.service import PrivacyService, normalise_record
from debtledger.privacy.trail import Accessor
from debtledger.store.models import (
    claim_records_table,
    evidence_items_table,
    outbox_table,
    pii_access_evidence_table,
    vault_fields_table,
)
from tests.conftest import Ledger
from tests.privacy.conftest import EXAMPLES

pytestmark = pytest.mark.xdist_group("privacy")

NAME = "张三丰"
NATIONAL_ID = "11010519491231002X"
PHONE = "13800138000"
EMAIL = "zhang.sanfeng@example.cn"
ADDRESS = "北京市朝阳区建国路88号1201室"
OTHER_ID = "440306198506123319"
THIRD_ID = "310115199001011232"
# What must never leave the vault (the phone also as the service stores it).
CANARIES = (NAME, NATIONAL_ID, PHONE, "+86" + PHONE, EMAIL, ADDRESS)


def record(**changes: Any) -> dict[str, Any]:
    """A claim record of the canary debtor."""
    base: dict[str, Any] = {
        "debtor_name": NAME,
        "national_id": NATIONAL_ID,
        "phone": PHONE,
        "email": EMAIL,
        "address": ADDRESS,
        "contract_no": "HT-2026-0001",
        "principal_fen": 100_000,
        "outstanding_fen": 80_000,
        "currency": "CNY",
        "due_date": "2026-03-31",
        "contract_doc_hash": "0x" + "ab" * 32,
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def leak_forms(text: str) -> tuple[str, ...]:
    """A canary as text, as JSON escapes it, and as the hex of its UTF-8 bytes."""
    return (text, json.dumps(text)[1:-1], text.encode().hex())


def assert_no_canary(text: str, where: str) -> None:
    for canary in CANARIES:
        for form in leak_forms(canary):
            assert form not in text, f"personal data in {where}"


def chain_data(rpc: Rpc) -> list[str]:
    """The input of every transaction and the topics and data of every log on the node,
    as lower-case hex."""
    head = int(rpc.call("eth_blockNumber"), 16)
    out = []
    for n in range(head + 1):
        block = rpc.call("eth_getBlockByNumber", [hex(n), True])
        out += [tx["input"].lower() for tx in block["transactions"]]
    logs = rpc.call("eth_getLogs", [{"fromBlock": "0x0", "toBlock": hex(head)}])
    out += ["".join(log["topics"]).lower() + log["data"].lower() for log in logs]
    return out


def assert_not_on_chain(rpc: Rpc, must_see: bytes) -> None:
    """No canary in any form in chain data, which does hold `must_see` (so the scan saw
    the registration)."""
    data = chain_data(rpc)
    assert any(must_see.hex() in d for d in data)
    for canary in CANARIES:
        raw = canary.encode().hex()
        assert not any(raw in d for d in data), "personal data on chain"


def who(ledger: Ledger, org: str, role: str) -> Principal:
    return Principal(org, "tester", role, ledger.orgs.address(org), "test")


@pytest.fixture
def svc(ledger: Ledger) -> PrivacyService:
    ledger.orgs.add("regulator", ["REGULATOR"], idem_key="org:regulator")
    return PrivacyService(ledger.rt, key_bits=1024)


def count(ledger: Ledger, table: Any, *where: Any) -> int:
    with ledger.rt.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar())


def mandate(ledger: Ledger, ref: str) -> None:
    until = datetime.now(UTC) + timedelta(days=30)
    ledger.claims.mandate(claim_id(ref), "bank-a", "agency-x", until, idem_key=f"m:{ref}")


# ---------------------------------------------------------------------------- intake


def test_record_is_registered_once_with_only_a_commitment_on_chain(
    ledger: Ledger, svc: PrivacyService, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    done = svc.register_record("bank-a", "R-1", record(), idem_key="k-1")
    again = svc.register_record("bank-a", "R-1", record(), idem_key="k-1")
    assert again == done and done.status == "mined"
    debtor = ledger.rt.linkage.pseudonym(NATIONAL_ID)
    assert done.debtor == debtor
    # Nothing twice: one stored record, one chain write, one registration event, and the
    # vault's fields as after the first request.
    assert count(ledger, claim_records_table) == 1
    assert count(ledger, outbox_table, outbox_table.c.idem_key == "record:k-1") == 1
    events = list(ledger.claims.history(claim_id("R-1")))
    assert [e["event"] for e in events] == ["ClaimRegistered"]
    args = events[0]["args"]
    assert (args["record_hash"], args["debtor"]) == (
        "0x" + done.record_hash.hex(),
        "0x" + debtor.hex(),
    )
    # The vault holds the contact details where the gateway reads them, plus per record
    # the openings; five personal fields each.
    assert count(ledger, vault_fields_table) == 10
    gateway = Accessor("gateway", "GATEWAY", "sms-reminder", done.claim_id)
    assert ledger.rt.vault.get_many(debtor, ["phone", "email"], accessor=gateway) == {
        "phone": "+86" + PHONE,
        "email": EMAIL,
    }
    # The same key for another claim, or the same claim under another key, is refused.
    with pytest.raises(InvalidInput) as exc:
        svc.register_record("bank-a", "R-2", record(), idem_key="k-1")
    assert exc.value.field == "idem_key"
    with pytest.raises(Conflict):
        svc.register_record("bank-a", "R-1", record(), idem_key="k-2")
    # Not a creditor: the contract's refusal, and nothing stored.
    with pytest.raises(Forbidden):
        svc.register_record("agency-x", "R-3", record(), idem_key="k-3")
    assert count(ledger, claim_records_table) == 1

    assert_not_on_chain(ledger.rt.writer.rpc, done.record_hash)
    assert "claim record stored" in caplog.text  # the capture works ...
    assert_no_canary(caplog.text, "logs")  # ... and holds no personal data
    for rec in caplog.records:
        assert_no_canary(rec.getMessage() + repr(rec.args), "logs")


BAD = [
    ({"national_id": "11010519491231002Y"}, "national_id"),
    ({"national_id": "110105194912310021"}, "national_id"),  # wrong check digit
    ({"national_id": "11010519491331002X"}, "national_id"),  # month 13
    ({"phone": "12345"}, "phone"),
    ({"email": "not-an-address"}, "email"),
    ({"debtor_name": "   "}, "debtor_name"),
    ({"address": "a\x00b"}, "address"),
    ({"principal_fen": "1.5"}, "principal_fen"),
    ({"principal_fen": 0}, "principal_fen"),
    ({"outstanding_fen": 100_001}, "outstanding_fen"),
    ({"due_date": "31/03/2026"}, "due_date"),
    ({"currency": "yuan"}, "currency"),
    ({"contract_doc_hash": "abc"}, "contract_doc_hash"),
    ({"contract_no": None}, "contract_no"),
    ({"nickname": NAME}, "fields"),
]


@pytest.mark.parametrize(("change", "field"), BAD)
def test_a_bad_field_is_named_and_its_value_never_repeated(
    change: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as exc:
        normalise_record(record(**change))
    assert exc.value.field == field
    for value in change.values():
        if isinstance(value, str) and len(value.strip()) > 3:
            assert value not in str(exc.value)
    if field == "fields":  # an unknown name is not repeated either
        assert not set(change) & set(str(exc.value).split())
    assert_no_canary(str(exc.value), "an error message")


@settings(max_examples=EXAMPLES, deadline=None)
@given(nid=st.text(min_size=5, max_size=30), phone=st.text(min_size=5, max_size=30))
def test_no_national_id_or_phone_is_echoed_by_a_refusal(nid: str, phone: str) -> None:
    for change in ({"national_id": nid}, {"phone": phone}):
        try:
            normalise_record(record(**change))
        except InvalidInput as exc:
            value = next(iter(change.values())).strip()
            assert exc.field in change
            assert len(value) < 5 or value not in str(exc)


def test_normalised_records_are_canonical() -> None:
    once = normalise_record(record(phone="138-0013-8000", national_id=" 11010519491231002x "))
    assert once["phone"] == "+8613800138000" and once["national_id"] == NATIONAL_ID
    assert normalise_record(once) == once
    assert set(once) - NON_PERSONAL_FIELDS == {
        "debtor_name",
        "national_id",
        "phone",
        "email",
        "address",
    }
    minimal = normalise_record(record(email=None, outstanding_fen=None, contract_doc_hash=None))
    assert minimal["outstanding_fen"] == "100000" and "email" not in minimal


# ---------------------------------------------------------------------------- disclosure


def test_each_role_sees_what_it_may_and_every_view_verifies_against_the_chain(
    ledger: Ledger, svc: PrivacyService, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    done = svc.register_record("bank-a", "D-1", record(), idem_key="d-1")
    cid = done.claim_id
    owner, agency = who(ledger, "bank-a", "CREDITOR"), who(ledger, "agency-x", "AGENCY")
    court, regulator = who(ledger, "court", "COURT"), who(ledger, "regulator", "REGULATOR")

    full = svc.disclosure(owner, cid)
    assert full.view == "full" and full.fields["debtor_name"] == NAME
    assert full.fields["national_id"] == NATIONAL_ID and len(full.fields) == 11
    assert verify_disclosure(full.disclosure, done.record_hash, cid) == full.fields
    assert svc.disclosure(owner, cid, personal=False).view == "non-personal"

    # Others see nothing until allowed; an agency once mandated, and only non-personal.
    for stranger in (agency, who(ledger, "bank-b", "CREDITOR"), who(ledger, "gateway", "GATEWAY")):
        with pytest.raises(NotFound):
            svc.disclosure(stranger, cid)
    mandate(ledger, "D-1")
    for role in (agency, regulator):
        assert svc.disclosure(role, cid).view == "non-personal"
    assert svc.disclosure(court, cid, personal=False).view == "non-personal"
    with pytest.raises(Forbidden):
        svc.disclosure(court, cid)  # no legal request yet
    seen = svc.disclosure(agency, cid)
    assert set(seen.fields) == NON_PERSONAL_FIELDS
    assert len(seen.disclosure.undisclosed) == 5
    checked = svc.verify(seen.disclosure, seen.signature)
    assert checked["fields"] == seen.fields and checked["signature_verified"]
    assert checked["creditor_address"] == ledger.orgs.address("bank-a")
    for view in (seen, svc.disclosure(regulator, cid)):
        assert_no_canary(json.dumps(view.to_json()), f"the {view.view} view")

    # Tampering: a changed value, another claim's id, a signature by someone else.
    forged = Disclosure(
        cid,
        tuple(
            Opening(o.name, "1", o.salt) if o.name == "outstanding_fen" else o
            for o in seen.disclosure.disclosed
        ),
        seen.disclosure.undisclosed,
    )
    other = svc.register_record("bank-b", "D-2", record(national_id=OTHER_ID), idem_key="d-2")
    for bad, signature in (
        (forged, None),
        (replace(seen.disclosure, undisclosed=seen.disclosure.undisclosed[1:]), None),
        (seen.disclosure, other.signature),
    ):
        with pytest.raises(InvalidProof):
            svc.verify(bad, signature)
    with pytest.raises(InvalidProof):
        verify_disclosure(seen.disclosure, other.record_hash, other.claim_id)

    # A court: full view only under a recorded, anchored legal request.
    request = svc.legal_request(court, cid, "(2026)京0105民初123号", "enforcement of judgment")
    assert svc.legal_request(court, cid, "(2026)京0105民初123号", "again") == request
    item = EvidenceService(ledger.rt).item(request.evidence_item or 0)
    assert (item["kind"], item["organisation"]) == ("legal-notice", "court")
    assert EvidenceService(ledger.rt).batch(item["batch_id"]).block_number is not None
    assert item["content_sha256"] == hashlib.sha256(request.content()).hexdigest()
    with pytest.raises(Forbidden):
        svc.legal_request(regulator, cid, "X-1", "curious")
    opened = svc.disclosure(court, cid)
    assert opened.view == "full" and opened.fields == full.fields
    trail = ledger.rt.vault.trail.list(debtor=done.debtor)
    assert {r.purpose for r in trail} == {
        "owner-disclosure",
        "legal-request:(2026)京0105民初123号",
    }
    assert all(r.claim_id == cid for r in trail) and len(trail) == 10

    # Lists name records, never a value; each caller those it may know of.
    ledger.rt.indexer.run_once()

    def refs(p: Principal) -> list[str]:
        rows = svc.records(p)
        assert_no_canary(json.dumps(rows), "a list of records")
        return [r["claim_ref"] for r in rows]

    bank_b = who(ledger, "bank-b", "CREDITOR")
    assert (refs(owner), refs(bank_b), refs(agency)) == (["D-1"], ["D-2"], ["D-1"])
    assert sorted(refs(regulator)) == sorted(refs(court)) == ["D-1", "D-2"]
    assert refs(who(ledger, "gateway", "GATEWAY")) == []
    # A sold claim's record is its new owner's to see.
    ledger.claims.propose_transfer(cid, "bank-a", "bank-b", 1, "CNY", idem_key="sell")
    ledger.claims.accept(cid, "bank-b", idem_key="buy")
    assert svc.disclosure(bank_b, cid).fields == full.fields
    with pytest.raises(NotFound):
        svc.disclosure(owner, cid)
    with pytest.raises(NotFound):  # the sale ended the mandate
        svc.disclosure(agency, cid)

    assert_not_on_chain(ledger.rt.writer.rpc, done.record_hash)
    assert_no_canary(caplog.text, "logs")


# ---------------------------------------------------------------------------- erasure


def test_erasure_destroys_personal_data_and_the_record_still_verifies(
    ledger: Ledger, svc: PrivacyService
) -> None:
    a = svc.register_record("bank-a", "E-1", record(), idem_key="e-1")
    svc.register_record("bank-a", "E-2", record(contract_no="HT-2"), idem_key="e-2")
    b = svc.register_record("bank-b", "E-3", record(national_id=OTHER_ID), idem_key="e-3")
    mandate(ledger, "E-1")
    owner = who(ledger, "bank-a", "CREDITOR")
    for refused in (who(ledger, "bank-b", "CREDITOR"), who(ledger, "regulator", "REGULATOR")):
        with pytest.raises(Forbidden):
            svc.erase(refused, a.debtor)

    erased = svc.erase(owner, a.debtor)
    assert erased.record.fields == 15  # five plain fields and five openings of each record
    assert svc.erase(owner, a.debtor) == erased  # asked again: the same erasure
    evidence = EvidenceService(ledger.rt)
    item = evidence.item(erased.evidence_item or 0)
    assert item["kind"] == "erasure" and item["claim_id"] is None
    assert evidence.content_path(item["id"]).read_bytes() == erased.record.leaf_bytes()
    assert evidence.batch(item["batch_id"]).block_number is not None
    assert_no_canary(erased.record.leaf_bytes().decode(), "the erasure record")

    gateway = Accessor("gateway", "GATEWAY", "sms-reminder")
    with pytest.raises(Erased):
        ledger.rt.vault.get(a.debtor, "phone", accessor=gateway)
    with pytest.raises(Erased):
        svc.disclosure(owner, a.claim_id)
    for principal in (owner, who(ledger, "agency-x", "AGENCY")):
        kept = svc.disclosure(principal, a.claim_id, personal=False)
        assert svc.verify(kept.disclosure, kept.signature)["fields"] == kept.fields
    with pytest.raises(Erased):  # a new record of an erased debtor cannot be stored
        svc.register_record("bank-a", "E-4", record(), idem_key="e-4")
    # bank-b's debtor is untouched, and the admin may erase it too, with the evidence
    # anchored by an organisation that may anchor (checked before anything is erased).
    with pytest.raises(InvalidInput) as exc:
        svc.erase_as_admin(b.debtor, anchor_as="regulator")
    assert exc.value.field == "anchor_as"
    assert svc.disclosure(who(ledger, "bank-b", "CREDITOR"), b.claim_id).view == "full"
    by_admin = svc.erase_as_admin(b.debtor, anchor_as="bank-b")
    assert by_admin.requested_by == "admin" and by_admin.evidence_item is not None
    assert count(ledger, evidence_items_table, evidence_items_table.c.kind == "erasure") == 2


# ---------------------------------------------------------------------------- access trail


def test_access_records_are_anchored_exactly_once_and_listed_for_the_regulator(
    ledger: Ledger, svc: PrivacyService
) -> None:
    done = svc.register_record("bank-a", "T-1", record(), idem_key="t-1")
    owner = who(ledger, "bank-a", "CREDITOR")
    svc.disclosure(owner, done.claim_id)  # five reads
    gateway = Accessor("gateway", "GATEWAY", "sms-reminder", done.claim_id)
    ledger.rt.vault.get(done.debtor, "phone", accessor=gateway)
    # A record whose anchoring was interrupted after the evidence store took it.
    first = ledger.rt.vault.trail.list()[0]
    evidence = EvidenceService(ledger.rt)
    early = evidence.add("bank-a", NewItem(first.leaf_bytes(), "access-record", "application/json"))
    # A read by an organisation whose key this service does not hold waits.
    ledger.rt.vault.trail.record("elsewhere", "GATEWAY", done.debtor, "phone", "sms")

    regulator = who(ledger, "regulator", "REGULATOR")
    waiting = svc.access_log(regulator)
    assert len(waiting) == 7 and not any(r["anchored"] for r in waiting)
    run = svc.anchor_access_trail(chunk=4)
    assert (run.anchored, run.waiting) == (6, 1)
    assert all(b.block_number is not None for b in run.batches)
    again = svc.anchor_access_trail()
    assert (again.anchored, again.waiting, again.batches) == (0, 1, [])

    listed = svc.access_log(regulator, debtor=done.debtor, limit=100)
    anchored = [r for r in listed if r["anchored"]]
    assert len(anchored) == 6 and listed[-1]["actor_org"] == "elsewhere"
    assert not listed[-1]["anchored"] and listed[-1]["evidence_item"] is None
    assert listed[0]["evidence_item"] == early["id"]  # found again, not added twice
    assert len({r["evidence_item"] for r in anchored}) == 6
    assert count(ledger, pii_access_evidence_table) == 6
    kind = evidence_items_table.c.kind == "access-record"
    assert count(ledger, evidence_items_table, kind) == 6
    for row, rec in zip(anchored, ledger.rt.vault.trail.list(), strict=False):
        assert row["id"] == rec.id
        content = evidence.content_path(row["evidence_item"]).read_bytes()
        assert content == rec.leaf_bytes()
        assert row["tx_hash"] is not None and row["block"] is not None
    assert {r["actor_org"] for r in anchored} == {"bank-a", "gateway"}
    assert_no_canary(json.dumps(listed), "the access log")
    # Paging and filters.
    page = svc.access_log(regulator, limit=2, after=listed[1]["id"])
    assert [r["id"] for r in page] == [listed[2]["id"], listed[3]["id"]]
    assert svc.access_log(regulator, since=datetime.now(UTC) + timedelta(hours=1)) == []
    for other in (owner, who(ledger, "agency-x", "AGENCY"), who(ledger, "court", "COURT")):
        with pytest.raises(Forbidden):
            svc.access_log(other)


# ---------------------------------------------------------------------------- exposure


def test_exposure_gives_each_creditor_its_share_and_nothing_of_the_others(
    ledger: Ledger, svc: PrivacyService
) -> None:
    ledger.orgs.add("bank-c", ["CREDITOR"], idem_key="org:bank-c")
    amounts = {"X-A1": 100_000, "X-A2": 50_000, "X-B1": 30_000, "X-C1": 20_000}
    for ref, amount in amounts.items():
        org = {"A": "bank-a", "B": "bank-b", "C": "bank-c"}[ref[2]]
        fields = record(principal_fen=amount, outstanding_fen=amount)
        svc.register_record(org, ref, fields, idem_key=ref)
    # Claims that do not count: settled, in another currency, of another debtor.
    svc.register_record("bank-b", "X-B2", record(), idem_key="X-B2")
    ledger.claims.settle(claim_id("X-B2"), "bank-b", "paid", idem_key="s-X-B2")
    svc.register_record("bank-c", "X-C2", record(currency="USD"), idem_key="X-C2")
    svc.register_record("bank-a", "X-O1", record(national_id=THIRD_ID), idem_key="X-O1")
    ledger.rt.indexer.run_once()
    debtor = ledger.rt.linkage.pseudonym(NATIONAL_ID)

    mine = svc.exposure(who(ledger, "bank-a", "CREDITOR"), debtor)
    assert (mine.own_fen, mine.share_bps, mine.creditors) == (150_000, 7_500, 3)
    assert mine.key_bits == 1024
    text = json.dumps(mine.to_json())
    for theirs in ("30000", "20000", "200000"):
        assert theirs not in text
    b = svc.exposure(who(ledger, "bank-b", "CREDITOR"), debtor)
    assert (b.own_fen, b.share_bps) == (30_000, 1_500)
    assert svc.exposure(who(ledger, "bank-c", "CREDITOR"), debtor).share_bps == 1_000

    other = ledger.rt.linkage.pseudonym(THIRD_ID)
    with pytest.raises(TooFewParties):  # one creditor: its total is everyone's
        svc.exposure(who(ledger, "bank-a", "CREDITOR"), other)
    with pytest.raises(NotFound):
        svc.exposure(who(ledger, "bank-b", "CREDITOR"), other)
    with pytest.raises(Forbidden):
        svc.exposure(who(ledger, "agency-x", "AGENCY"), debtor)
    with pytest.raises(TooFewParties):  # in USD only bank-c has a claim
        svc.exposure(who(ledger, "bank-c", "CREDITOR"), debtor, currency="USD")
