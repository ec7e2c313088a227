"""The PII-canary acceptance test: debtors with recognisable canary names, national ids,
phones, addresses and e-mail addresses go through a whole flow (records, a transfer, a
mandate, contacts by e-mail, SMS and voice, repayments, evidence anchored); then none of the
canaries may appear, as text, hex or escaped, in the chain (every transaction and log), in
the service's logs, in the data folder, or in any answer to an agency's or a regulator's
API key. The scanner is checked to find a canary put deliberately where it looks.

Where the canaries are meant to be: the vault (encrypted), the mail server and the SMS
provider standing in for the debtor's own (they run in this process and are not scanned).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import re
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from eth_account import Account
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.routing import Route

from debtledger.api.app import create_app
from debtledger.chain.node import LocalNode
from debtledger.chain.rpc import Rpc
from debtledger.claims.service import ClaimService
from debtledger.collection.sms_provider import ProviderHandle, start_provider
from debtledger.config import Settings
from debtledger.domain.claims import claim_id as claim_id_of
from debtledger.evidence.service import EvidenceService
from debtledger.orgs.service import OrgService
from debtledger.privacy.pseudonym import check_digit
from debtledger.privacy.service import PrivacyService
from debtledger.runtime import Runtime
from debtledger.store.models import evidence_items_table, outbox_table
from tests.api.flows import host_with_keys
from tests.collection.conftest import TOKEN, Mailbox
from tests.conftest import enrol_at_midday, free_port, make_settings

pytestmark = pytest.mark.xdist_group("gateway")

# The stand-ins for the debtors' own mail server log what they receive: theirs, not ours.
FOREIGN_LOGGERS = ("mail.log", "mail.debug")
ROLES = {
    "bank-a": "CREDITOR",
    "bank-b": "CREDITOR",
    "agency-x": "AGENCY",
    "court": "COURT",
    "regulator": "REGULATOR",
    "gateway": "GATEWAY",
}
SCANNED_KEYS = ("agency-x", "regulator")


def national_id(first17: str) -> str:
    """A GB 11643 resident id: 17 digits and their check character."""
    return first17 + check_digit(first17)


@dataclass(frozen=True)
class Debtor:
    name: str
    national_id: str
    phone: str
    email: str
    address: str

    def canaries(self) -> dict[str, str]:
        """Every form in which this debtor's data must never show up."""
        return {
            "name": self.name,
            "national id": self.national_id,
            "phone": self.phone,
            "phone digits": self.phone.removeprefix("+"),
            "mobile number": self.phone.removeprefix("+86"),
            "e-mail": self.email,
            "e-mail user": self.email.partition("@")[0],
            "address": self.address,
        }


DEBTORS = (
    Debtor(
        "金丝雀甲",
        national_id("11010519900307123"),
        "+8613799110001",
        "canary.alpha.7q3x@example.com",
        "北京市朝阳区金丝雀大街1号院",
    ),
    Debtor(
        "金丝雀乙",
        national_id("31010419851122456"),
        "+8615899220002",
        "canary.bravo.k8m2@example.org",
        "上海市徐汇区金丝雀路22弄",
    ),
    Debtor(
        "金丝雀丙",
        national_id("44030519770615789"),
        "+8618699330003",
        "canary.charlie.p5w9@example.net",
        "深圳市南山区金丝雀道333号",
    ),
)
CANARIES = {
    f"debtor {i} {kind}": value
    for i, debtor in enumerate(DEBTORS, start=1)
    for kind, value in debtor.canaries().items()
} | {"the canary word": "金丝雀"}


def forms(value: str) -> dict[str, bytes]:
    """A canary as UTF-8, as hex (either case), JSON-escaped and URL-encoded."""
    raw = value.encode()
    return {
        "utf-8": raw,
        "hex": raw.hex().upper().encode(),
        "lowercase hex": raw.hex().encode(),
        "json-escaped": json.dumps(value)[1:-1].encode(),
        "url-encoded": urllib.parse.quote(value).encode(),
        "url-encoded (form)": urllib.parse.quote_plus(value).encode(),
    }


NEEDLES = {
    (label, form): needle.lower()
    for label, value in CANARIES.items()
    for form, needle in forms(value).items()
}


def find_canaries(haystack: bytes | str) -> set[str]:
    """Which canaries (label and form) `haystack` holds; case-insensitive, so hex in either
    case is found."""
    data = (haystack.encode() if isinstance(haystack, str) else haystack).lower()
    return {f"{label} as {form}" for (label, form), needle in NEEDLES.items() if needle in data}


# ---------------------------------------------------------------------------- the flow


class Collect(logging.Handler):
    """Every log record of the flow, at every level, formatted with its traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def log_text(records: list[logging.LogRecord], formatter: logging.Formatter) -> list[str]:
    """The records as they would be written, tracebacks included, the stand-in debtor
    servers' own loggers left out."""
    return [formatter.format(r) for r in records if r.name not in FOREIGN_LOGGERS]


def scan_chain(rpc: Rpc, last: int) -> tuple[set[str], int]:
    """Canaries in blocks 0..`last` (every transaction in full, its input included) and in
    every log of that range; and how many transactions were looked at."""
    found: set[str] = set()
    txs = 0
    for n in range(last + 1):
        block = rpc.call("eth_getBlockByNumber", [hex(n), True])
        txs += len(block["transactions"])
        found |= find_canaries(json.dumps(block))
    logs = rpc.call("eth_getLogs", [{"fromBlock": "0x0", "toBlock": hex(last)}])
    assert logs, "the flow wrote events"
    found |= find_canaries(json.dumps(logs))
    return found, txs


@dataclass
class Answer:
    """One answer to a scanned API key."""

    who: str
    method: str
    route: str
    url: str
    status: int
    body: bytes


@dataclass
class Flow:
    settings: Settings
    rt: Runtime
    head: int
    answers: list[Answer]
    logs: list[str]
    mailbox: Mailbox
    sms: ProviderHandle
    refs: dict[str, bytes] = field(default_factory=dict)


def register(rt: Runtime, creditor: str, ref: str, debtor: Debtor, principal: int) -> bytes:
    """A claim of `creditor` on `debtor` through the privacy service's record intake: the
    personal fields into the vault, the pseudonym and record hash on chain."""
    record = {
        "debtor_name": debtor.name,
        "national_id": debtor.national_id,
        "phone": debtor.phone,
        "email": debtor.email,
        "address": debtor.address,
        "contract_no": f"HT-{ref}",
        "principal_fen": principal,
        "due_date": "2026-01-15",
    }
    PrivacyService(rt).register_record(creditor, ref, record, idem_key=f"record:{ref}")
    return claim_id_of(ref)


def wait_mined(api: TestClient, reply: Any, headers: dict[str, str]) -> None:
    assert reply.status_code == 202, reply.text
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        op = api.get(reply.headers["location"], headers=headers).json()
        if op["status"] != "pending":
            assert op["status"] == "mined", op
            return
        time.sleep(0.05)
    raise AssertionError("the write was not mined")


def get_routes(app: Any) -> dict[str, tuple[list[str], list[str]]]:
    """Every GET route of the app, whatever routers it holds by now: its path template, path
    parameters and query parameters. From the OpenAPI description (which every included
    router feeds), plus the plain routes of the app itself (docs, schema)."""
    out: dict[str, tuple[list[str], list[str]]] = {}
    for path, operations in app.openapi()["paths"].items():
        get = operations.get("get")
        if get is not None:
            params = get.get("parameters", [])
            out[path] = (
                [p["name"] for p in params if p["in"] == "path"],
                [p["name"] for p in params if p["in"] == "query"],
            )
    for route in app.routes:
        if isinstance(route, Route) and "GET" in (route.methods or ()):
            out.setdefault(route.path, (re.findall(r"{(\w+)", route.path), []))
    return out


def get_everything(
    api: TestClient, keys: dict[str, dict[str, str]], candidates: dict[str, list[str]]
) -> list[Answer]:
    """Every GET route as each scanned key, its path parameters filled with every claim,
    item, operation and debtor of the flow, and its query parameters that name one of those
    with each of them."""
    anything = sorted({v for values in candidates.values() for v in values})
    answers = []
    for template, (names, query_names) in get_routes(api.app).items():
        options = [candidates.get(name, anything) for name in names]
        queries: list[dict[str, str]] = [{}]
        for name in query_names:
            queries += [{name: v} for v in candidates.get(name, [])]
        for values in itertools.product(*options):
            path = template
            for name, value in zip(names, values, strict=True):
                path = re.sub(r"\{" + name + r"(?::\w+)?\}", lambda _, v=value: v, path)
            for query in queries:
                for who in SCANNED_KEYS:
                    reply = api.get(path, params=query, headers=keys[who])
                    answer = Answer(
                        who, "GET", template, str(reply.url), reply.status_code, reply.content
                    )
                    answers.append(answer)
    return answers


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flow]:
    tmp = tmp_path_factory.mktemp("flow")
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    # The provider's own message file is the debtor side's: outside the data folder.
    (tmp / "provider").mkdir()
    sms = start_provider("127.0.0.1", free_port(), TOKEN, tmp / "provider" / "sms.jsonl")
    settings = make_settings(
        tmp / "data",
        smtp_host="127.0.0.1",
        smtp_port=controller.port,
        sms_provider_url=sms.url,
        sms_provider_token=TOKEN,
    )
    collect = Collect()
    root = logging.getLogger()
    level = root.level
    root.addHandler(collect)
    root.setLevel(logging.DEBUG)
    node = LocalNode(settings)
    node.start()
    try:
        rt = Runtime(settings)
        OrgService(rt).deploy()
        keys = host_with_keys(rt, ROLES)
        claims = ClaimService(rt)
        d1, d2, d3 = DEBTORS
        refs = {
            "CN-1": register(rt, "bank-a", "CN-1", d1, 120_000),
            "CN-2": register(rt, "bank-a", "CN-2", d2, 80_000),
            "CN-3": register(rt, "bank-b", "CN-3", d3, 300_000),
            "CN-4": register(rt, "bank-b", "CN-4", d1, 50_000),
        }
        # CN-2 is sold to bank-b; agency-x collects CN-1 for bank-a, CN-2 and CN-3 for bank-b.
        claims.propose_transfer(refs["CN-2"], "bank-a", "bank-b", 60_000, "CNY", idem_key="t2")
        claims.accept(refs["CN-2"], "bank-b", idem_key="a2")
        until = datetime.now(UTC) + timedelta(days=60)
        claims.mandate(refs["CN-1"], "bank-a", "agency-x", until, idem_key="m1")
        claims.mandate(refs["CN-2"], "bank-b", "agency-x", until, idem_key="m2")
        claims.mandate(refs["CN-3"], "bank-b", "agency-x", until, idem_key="m3")
        for ref, owner in (
            ("CN-1", "bank-a"),
            ("CN-2", "bank-b"),
            ("CN-3", "bank-b"),
            ("CN-4", "bank-b"),
        ):
            enrol_at_midday(rt, refs[ref], owner)
        answers: list[Answer] = []
        with TestClient(create_app(Runtime(settings))) as api:

            def contact(who: str, ref: str, body: dict[str, Any], key: str | None = None) -> Any:
                headers = {**keys[who], **({"Idempotency-Key": key} if key else {})}
                reply = api.post(f"/claims/{ref}/contacts", json=body, headers=headers)
                route = "/claims/{claim}/contacts"
                answers.append(Answer(who, "POST", route, ref, reply.status_code, reply.content))
                return reply

            email = {"channel": "email", "template": "reminder-1"}
            assert contact("agency-x", "CN-1", email, key="c1").status_code == 201
            assert contact("agency-x", "CN-1", email, key="c1").status_code == 201
            sms_body = {"channel": "sms", "template": "overdue-notice"}
            assert contact("agency-x", "CN-1", sms_body).status_code == 201
            en = {"channel": "sms", "template": "reminder-1", "lang": "en"}
            assert contact("agency-x", "CN-2", en).status_code == 201
            call = {"channel": "voice", "template": "call-script-1", "outcome": "promise_to_pay"}
            assert contact("agency-x", "CN-3", call).status_code == 201
            legal = {"channel": "email", "template": "legal-notice"}
            assert contact("agency-x", "CN-3", legal).status_code == 201
            assert contact("agency-x", "CN-4", sms_body).status_code == 403  # not mandated
            assert contact("regulator", "CN-1", sms_body).status_code == 403
            assert contact("bank-b", "CN-4", sms_body).status_code == 201  # the owner
            mailbox.refuse_recipients = True  # the refusal quotes the address
            assert contact("agency-x", "CN-2", email).status_code == 502
            mailbox.refuse_recipients = False

            repay = {"amount_fen": 10_000, "receipt": "PAY-0001"}
            reply = api.post("/claims/CN-1/repayments", json=repay, headers=keys["bank-a"])
            wait_mined(api, reply, keys["bank-a"])
            claims.repay(refs["CN-3"], "gateway", 30_000, "PAY-0002", idem_key="r3")

            rt.indexer.run_once()  # the agency's right to add evidence is read from it
            recording = b"RIFF call recording of claim CN-3, no names"
            reply = api.post(
                "/evidence",
                params={"kind": "call-recording", "claim": "CN-3"},
                content=recording,
                headers={**keys["agency-x"], "content-type": "audio/wav"},
            )
            assert reply.status_code == 201, reply.text
            answers.append(Answer("agency-x", "POST", "/evidence", "", 201, reply.content))
            PrivacyService(rt).anchor_access_trail()
            EvidenceService(rt).run()
            rt.indexer.run_once()

            with rt.engine.connect() as conn:
                operations = [str(i) for i in conn.execute(select(outbox_table.c.id)).scalars()]
                items = [str(i) for i in conn.execute(select(evidence_items_table.c.id)).scalars()]
            candidates = {
                "claim": [*refs, *("0x" + cid.hex() for cid in refs.values())],
                "item": items,
                "op_id": operations,
                "debtor": ["0x" + rt.linkage.pseudonym(d.national_id).hex() for d in DEBTORS],
            }
            answers += get_everything(api, keys, candidates)
        head = rt.writer.head()
        root.removeHandler(collect)
        logs = log_text(collect.records, collect.formatter or logging.Formatter())
        yield Flow(settings, rt, head, answers, logs, mailbox, sms, refs)
    finally:
        root.removeHandler(collect)
        root.setLevel(level)
        node.stop(snapshot=False)
        sms.stop()
        controller.stop()


# ---------------------------------------------------------------------------- the checks


def test_the_flow_carried_the_canaries_to_the_debtors(flow: Flow) -> None:
    """Without this, finding no canary would prove nothing."""
    d1, d2, d3 = DEBTORS
    mails = {e.rcpt_tos[0]: e.content.decode() for e in flow.mailbox.envelopes}
    assert set(mails) == {d1.email, d3.email}
    texts = {m.to: m.text for m in flow.sms.messages()}
    assert set(texts) == {d1.phone, d2.phone}
    assert texts[d2.phone].startswith(f"Dear {d2.name}")
    assert d1.name in texts[d1.phone]
    ok = {(a.who, a.route) for a in flow.answers if a.status == 200}
    for route in (
        "/claims",
        "/claims/{claim}",
        "/claims/{claim}/history",
        "/claims/{claim}/contacts",
    ):
        assert ("agency-x", route) in ok and ("regulator", route) in ok, route
    posted = [
        a.status
        for a in flow.answers
        if a.route == "/claims/{claim}/contacts" and a.method == "POST"
    ]
    assert posted == [201, 201, 201, 201, 201, 201, 403, 403, 201, 502]
    assert any("debtledger.collection.gateway" in line for line in flow.logs)


def test_no_canary_is_on_chain(flow: Flow) -> None:
    found, txs = scan_chain(Rpc(flow.settings.node_url), flow.head)
    assert txs >= 15, "the scan saw the flow's transactions"
    assert found == set()


def test_no_canary_is_in_the_service_logs(flow: Flow) -> None:
    assert len(flow.logs) > 10
    found = {hit for line in flow.logs for hit in find_canaries(line)}
    for path in flow.settings.data_dir.rglob("*.log"):
        found |= {f"{path.name}: {hit}" for hit in find_canaries(path.read_bytes())}
    assert found == set()


def test_no_canary_is_in_any_answer_to_an_agency_or_a_regulator(flow: Flow) -> None:
    assert len(flow.answers) > 50
    found: set[str] = set()
    for answer in flow.answers:
        hits = find_canaries(answer.body)
        # And once more as readable JSON, in case the body escaped what it holds.
        with contextlib.suppress(ValueError):
            hits |= find_canaries(json.dumps(json.loads(answer.body), ensure_ascii=False))
        found |= {f"{answer.who} {answer.method} {answer.url}: {hit}" for hit in hits}
    assert found == set()


def test_no_canary_is_at_rest_in_the_clear_in_the_data_folder(flow: Flow) -> None:
    files = [p for p in flow.settings.data_dir.rglob("*") if p.is_file()]
    assert any(p.suffix == ".sqlite" for p in files)
    found = {
        f"{p.relative_to(flow.settings.data_dir)}: {hit}"
        for p in files
        for hit in find_canaries(p.read_bytes())
    }
    assert found == set()


def test_the_scanner_finds_a_canary_wherever_it_is_put(flow: Flow) -> None:
    for label, value in CANARIES.items():
        for form, needle in forms(value).items():
            assert f"{label} as {form}" in find_canaries(b"<<" + needle + b">>"), (label, form)
    assert find_canaries("nothing personal: 0x" + "ab" * 32) == set()

    # A log line of the service holding a name is found.
    collect = Collect()
    sanity = logging.getLogger("debtledger.sanity")
    sanity.addHandler(collect)
    try:
        sanity.debug("contacted %s", DEBTORS[0].name)
    finally:
        sanity.removeHandler(collect)
    lines = log_text(collect.records, collect.formatter or logging.Formatter())
    assert "debtor 1 name as utf-8" in find_canaries("\n".join(lines))

    # A transaction carrying a name in its input is found by the whole-chain scan.
    rpc = Rpc(flow.settings.node_url)
    sender = Account.create()
    signed = sender.sign_transaction(
        {
            "nonce": 0,
            "gasPrice": 0,
            "gas": 100_000,
            "to": Account.create().address,
            "value": 0,
            "data": ("injected " + DEBTORS[1].name).encode(),
            "chainId": flow.rt.chain_id,
        }
    )
    rpc.call("eth_sendRawTransaction", ["0x" + bytes(signed.raw_transaction).hex()])
    rpc.call("evm_mine")
    found, _ = scan_chain(rpc, flow.rt.writer.head())
    assert "debtor 2 name as lowercase hex" in found
