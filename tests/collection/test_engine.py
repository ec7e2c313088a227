"""The collection engine's service against a real node: policies (presets and a creditor's
own), enrolment, where a claim stands and what it allows next (the chain's answer, checked
against the pure reference rules), contacts outside the gateway and their outcomes, the
gateway's on-chain authorisation, grade strategies and the commands.

The module's helpers (one node per module, claims at a chosen number of days past due,
time travel on the chain) are shared with the other collection tests."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import update
from typer.testing import CliRunner

from debtledger.chain.node import LocalNode
from debtledger.claims.service import ClaimService
from debtledger.cli.main import app as cli_app
from debtledger.collection.engine import (
    CHANNELS,
    KINDS,
    CollectionService,
    chain_now,
    derive_policy,
    parse_tz_offset,
    rule_name,
)
from debtledger.collection.gateway import ContactService
from debtledger.collection.plans import PlanService
from debtledger.collection.sms_provider import ProviderHandle, start_provider
from debtledger.config import Settings
from debtledger.domain.claims import parse_claim
from debtledger.domain.policies import (
    CN_CBA_2026,
    PRESETS,
    US_REG_F,
    Channel,
    ContactState,
    Kind,
    check_contact,
    days_past_due,
    due_stage,
)
from debtledger.errors import Conflict, Forbidden, InvalidInput, PolicyRefused, Rejected
from debtledger.evidence.service import EvidenceService
from debtledger.orgs.service import OrgService
from debtledger.runtime import Runtime
from debtledger.store.models import claims_table
from tests.collection.conftest import TOKEN, Mailbox
from tests.conftest import ORGS, free_port, make_settings

pytestmark = pytest.mark.xdist_group("collection")

DAY = 86_400
CN, US = "cn-cba-2026", "us-reg-f"
NAME = "李雷"
EMAIL = "li.lei@example.com"
PHONE = "+8613812345678"
FIELDS = {"phone": PHONE, "email": EMAIL, "debtor_name": NAME}
ALL_ORGS = {**ORGS, "agency-y": ["AGENCY"], "keeper": ["KEEPER"], "regulator": ["REGULATOR"]}
AGENCY_X = ("agency-x", "AGENCY")
AGENCY_Y = ("agency-y", "AGENCY")
BANK_A = ("bank-a", "CREDITOR")
BANK_B = ("bank-b", "CREDITOR")
CBA_TZ = 480  # UTC+8


# ---------------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class Case:
    """A registered claim: its reference, id, debtor pseudonym and due date (unix time of
    the due date's UTC midnight, as the registry keeps it)."""

    ref: str
    claim_id: bytes
    debtor: bytes
    due: int
    tz: int

    @property
    def hex(self) -> str:
        return "0x" + self.claim_id.hex()


@dataclass
class Env:
    """One node with the contracts, every organisation, an SMTP server and the local SMS
    provider; claims are made per test, so tests do not see each other's."""

    settings: Settings
    rt: Runtime
    claims: ClaimService
    mailbox: Mailbox
    sms: ProviderHandle
    numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def engine(self) -> CollectionService:
        return CollectionService(self.rt)

    @property
    def plans(self) -> PlanService:
        return PlanService(self.rt)

    @property
    def contacts(self) -> ContactService:
        return ContactService(self.rt)

    @property
    def evidence(self) -> EvidenceService:
        return EvidenceService(self.rt)

    # -------------------------------------------------------------- time on the chain

    def latest(self) -> int:
        block = self.rt.writer.rpc.call("eth_getBlockByNumber", ["latest", False])
        return int(block["timestamp"], 16)

    def now(self) -> int:
        """The chain's time now (what the next block would get)."""
        return chain_now(self.rt)

    def at(self, t: int) -> int:
        """The next block (the next write) is mined at `t`; returns it."""
        assert t >= self.latest(), "time on a chain only moves forward"
        self.rt.writer.rpc.call("anvil_setNextBlockTimestamp", [t])
        return t

    def local(self, hh: int, mm: int = 0, ss: int = 0, *, tz: int = CBA_TZ, days: int = 0) -> int:
        """The first moment after the chain's now at which the debtor's clock (UTC offset
        `tz` minutes) shows hh:mm:ss, `days` days later."""
        now = self.now() + 1
        local = now + tz * 60
        t = local - local % DAY + hh * 3600 + mm * 60 + ss
        if t < local:
            t += DAY
        return t - tz * 60 + days * DAY

    # -------------------------------------------------------------- claims

    def new_claim(
        self,
        *,
        dpd: int = 3,
        at: int | None = None,
        owner: str = "bank-a",
        policy: str | None = CN,
        tz: int = CBA_TZ,
        agency: str | None = "agency-x",
        debtor: bytes | None = None,
        fields: dict[str, str] | None = FIELDS,
        outstanding: int = 100_000,
    ) -> Case:
        """A claim `dpd` days past due at time `at` (default: now), registered by `owner`,
        its debtor's details in the vault, mandated to `agency` and enrolled under `policy`
        for a debtor at UTC offset `tz` (None: not mandated, not enrolled)."""
        n = next(self.numbers)
        ref = f"COL-{os.getpid()}-{n}"
        debtor = debtor or hashlib.sha256(f"collection debtor {ref}".encode()).digest()
        when = at if at is not None else self.now()
        due_day = datetime.fromtimestamp(when, UTC).date() - timedelta(days=dpd)
        claim = parse_claim(
            {
                "claim_ref": ref,
                "debtor_pseudonym": "0x" + debtor.hex(),
                "principal_fen": str(max(outstanding, 1)),
                "outstanding_fen": str(outstanding),
                "currency": "CNY",
                "due_date": due_day.isoformat(),
            }
        )
        self.claims.register(owner, claim, idem_key=f"reg:{ref}")
        if fields:
            self.rt.vault.put(debtor, fields)
        if agency is not None:
            until = datetime.fromtimestamp(max(when, self.now()) + 400 * DAY, UTC)
            self.claims.mandate(claim.claim_id, owner, agency, until, idem_key=f"m:{ref}")
        if policy is not None:
            self.engine.enrol(
                claim.claim_id, owner, policy=policy, tz_offset_minutes=tz, idem_key=f"e:{ref}"
            )
        due = int(datetime(due_day.year, due_day.month, due_day.day, tzinfo=UTC).timestamp())
        return Case(ref, claim.claim_id, debtor, due, tz)

    # -------------------------------------------------------------- contacts

    def send(
        self,
        who: tuple[str, str],
        case: Case,
        channel: str,
        template: str,
        *,
        at: int | None = None,
        outcome: str | None = None,
    ) -> dict[str, Any]:
        """A contact through the gateway, its authorisation mined at `at`."""
        if at is not None:
            self.at(at)
        return self.contacts.contact(who, case.claim_id, channel, template, outcome=outcome)

    def seen(self, case: Case) -> tuple[int, int, int, int]:
        """What a contact leaves behind: mails, SMS, decryptions of the debtor's data and
        contact evidence items of the claim."""
        items = [i for i in self.evidence.items_of_claim(case.claim_id) if i["kind"] == "contact"]
        trail = self.rt.vault.trail.list(debtor=case.debtor, limit=1000)
        return len(self.mailbox.envelopes), len(self.sms.messages()), len(trail), len(items)

    def refused(self, rule: str, case: Case, attempt: Callable[[], object]) -> None:
        """`attempt` is refused by the rule `rule`, and nothing was sent or decrypted."""
        before = self.seen(case)
        with pytest.raises(PolicyRefused) as info:
            attempt()
        assert info.value.rule == f"policy: {rule}"
        assert rule_name(info.value) == rule
        assert self.seen(case) == before, "a refused contact left something behind"

    def enrolment(self, case: Case) -> Any:
        return self.engine.policy.call("enrolment", case.claim_id)


@contextlib.contextmanager
def running_env(tmp: Path) -> Iterator[Env]:
    """Start everything an Env needs in `tmp`; stop it afterwards."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    sms = start_provider("127.0.0.1", free_port(), TOKEN, tmp / "sms.jsonl")
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
        for name, roles in ALL_ORGS.items():
            orgs.add(name, roles, idem_key=f"org:{name}")
        yield Env(settings, rt, ClaimService(rt), mailbox, sms)
    finally:
        node.stop(snapshot=False)
        sms.stop()
        controller.stop()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    with running_env(tmp_path_factory.mktemp("collection")) as e:
        yield e


def cli(env: Env, *args: str) -> tuple[int, str, str]:
    """Run `debtledger ARGS` on the env's data folder and node."""
    result = CliRunner().invoke(
        cli_app,
        list(args),
        env={
            "DEBTLEDGER_DATA_DIR": str(env.settings.data_dir),
            "DEBTLEDGER_NODE_PORT": str(env.settings.node_port),
        },
    )
    return result.exit_code, result.stdout, result.stderr


def reference_state(env: Env, case: Case, *, mandated: bool = True) -> ContactState:
    """What the contract knows of the claim, as the pure reference rules take it."""
    e = env.enrolment(case)
    recent, conversation = env.engine.policy.call("debtor_contacts", case.debtor)
    return ContactState(
        due_date=e[3],
        tz_offset_minutes=e[2],
        mandated=mandated,
        paused_since=e[5],
        paused_seconds=e[6],
        failed_attempts=e[7],
        first_contact=e[8],
        recent=tuple(t for t in recent if t),
        last_conversation=conversation,
    )


# ---------------------------------------------------------------------------- no node


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("+08:00", 480),
        ("-05:00", -300),
        ("+0530", 330),
        ("+8:00", 480),
        ("480", 480),
        ("-720", -720),
        ("+14:00", 840),
    ],
)
def test_time_zone_offsets_are_read_as_minutes_east_of_utc(text: str, minutes: int) -> None:
    assert parse_tz_offset(text) == minutes


@pytest.mark.parametrize("text", ["+15:00", "-12:01", "900", "UTC+8", "", "+08:60x"])
def test_bad_time_zone_offsets_name_the_field(text: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_tz_offset(text)
    assert info.value.field == "tz_offset_minutes"


def test_a_creditors_policy_is_a_preset_with_changes() -> None:
    rules = derive_policy(
        "bank-a-gentle",
        based_on=US,
        max_weekly=3,
        channels=[["email"], ["sms", "email"], ["sms", "email", "voice"], [], ["letter"]],
        capped_channels=["voice", "sms"],
    )
    assert rules.name == "bank-a-gentle" and rules.max_weekly == 3
    assert rules.channels == (0b00010, 0b00011, 0b00111, 0, 0b01000)
    assert rules.capped_channels == 0b00101
    assert rules.contact_end == US_REG_F.contact_end  # unchanged fields keep the preset's
    with pytest.raises(InvalidInput) as info:
        derive_policy("x", contact_start=600, contact_end=540)
    assert info.value.field == "contact_end"
    with pytest.raises(InvalidInput) as info:
        derive_policy("x", colour="red")
    assert info.value.field == "colour"
    with pytest.raises(InvalidInput) as info:
        derive_policy("Bad Name")
    assert info.value.field == "name"
    with pytest.raises(InvalidInput) as info:
        derive_policy("x", channels=[["fax"], [], [], [], []])
    assert info.value.field == "channels"


# ---------------------------------------------------------------------------- policies


def test_presets_are_installed_and_a_creditor_sets_its_own_policy(env: Env) -> None:
    engine = env.engine
    listed = engine.policies()
    assert [p["name"] for p in listed] == [CN, US]
    for p in listed:
        assert p["preset"] and p["owner"] is None
        assert engine.rules_of(p["name"])[1] == PRESETS[p["name"]]

    own = derive_policy("bank-a-gentle", max_daily=3, contact_end=20 * 60)
    engine.create_policy("bank-a", own, idem_key="policy:gentle")
    mine = engine.policies("bank-a")
    assert [p["name"] for p in mine] == [CN, US, "bank-a-gentle"]
    shown = engine.show_policy("bank-a-gentle")
    assert shown["owner_name"] == "bank-a" and not shown["preset"]
    assert shown["rules"]["max_daily"] == 3 and shown["rules"]["contact_end"] == 1200
    assert engine.rules_of("0x" + own.policy_id.hex())[1] == own
    assert [p["name"] for p in engine.policies("bank-b")] == [CN, US]
    assert "bank-a-gentle" in [p["name"] for p in engine.policies(every=True)]

    with pytest.raises(Forbidden) as info:
        engine.create_policy("bank-b", own, idem_key="policy:gentle:b")
    assert info.value.rule == "collection: policy belongs to another creditor"
    with pytest.raises(Forbidden):
        engine.create_policy("agency-x", derive_policy("agency-own"), idem_key="policy:agency")
    with pytest.raises(Forbidden):  # a preset belongs to the consortium
        engine.create_policy("bank-a", CN_CBA_2026, idem_key="policy:cn:a")

    case = env.new_claim(policy="bank-a-gentle")
    assert env.engine.status(case.claim_id)["policy"] == "bank-a-gentle"
    other = env.new_claim(owner="bank-b", policy=None)
    with pytest.raises(Forbidden) as info:
        engine.enrol(
            other.claim_id, "bank-b", policy="bank-a-gentle", tz_offset_minutes=0, idem_key="e:x"
        )
    assert info.value.rule == "collection: policy belongs to another creditor"


def test_enrolment_takes_the_pseudonym_from_the_read_model_and_only_the_owner_enrols(
    env: Env,
) -> None:
    case = env.new_claim(policy=None, agency=None)
    with pytest.raises(Forbidden):
        env.engine.enrol(case.claim_id, "bank-b", policy=CN, tz_offset_minutes=480, idem_key="b")
    with pytest.raises(InvalidInput) as info:
        env.engine.enrol(case.claim_id, "bank-a", policy=CN, tz_offset_minutes=900, idem_key="t")
    assert info.value.field == "tz_offset_minutes"
    with pytest.raises(Rejected) as refused:
        env.engine.enrol(case.claim_id, "bank-a", policy="nope", tz_offset_minutes=0, idem_key="p")
    assert refused.value.rule == "collection: unknown policy"
    assert not env.engine.enrolled(case.claim_id)

    # Not indexed yet: the pseudonym comes from the registry's event.
    env.engine.enrol(case.claim_id, "bank-a", policy=CN, tz_offset_minutes=480, idem_key="e1")
    assert bytes(env.enrolment(case)[1]) == case.debtor
    # Indexed: the read model's pseudonym is the one enrolled (here one made different).
    env.rt.indexer.run_once()
    other = hashlib.sha256(b"the read model's pseudonym").digest()
    with env.rt.engine.begin() as conn:
        conn.execute(
            update(claims_table)
            .where(claims_table.c.claim_id == case.hex)
            .values(debtor="0x" + other.hex())
        )
    env.engine.enrol(case.claim_id, "bank-a", policy=US, tz_offset_minutes=-300, idem_key="e2")
    enrolment = env.enrolment(case)
    assert (bytes(enrolment[1]), enrolment[2]) == (other, -300)
    assert bytes(enrolment[0]) == US_REG_F.policy_id


# ---------------------------------------------------------------------------- status


STATUS_CASES = [
    (0, CN, 480),
    (1, CN, -300),
    (8, CN, 840),
    (31, US, 0),
    (91, US, 480),
    (400, CN, 330),
    (1200, US, -720),
]


def test_what_the_status_allows_is_what_the_reference_rules_allow(env: Env) -> None:
    """For claims at every stage and in time zones round the world, the chain's verdict on
    each channel and kind is the pure reference's."""
    cases = [(env.new_claim(dpd=d, policy=p, tz=tz), p) for d, p, tz in STATUS_CASES]
    # A mix of contacts first, so caps and first contacts are not all zero.
    for case, _ in cases[2:5]:
        with contextlib.suppress(PolicyRefused):
            env.engine.authorize(
                "agency-x", case.claim_id, "voice", "collection", idem_key=f"a:{case.ref}"
            )
    for case, policy in cases:
        status = env.engine.status(case.claim_id, requester="agency-x")
        now = env.now()
        state = reference_state(env, case)
        for action in status["actions"]:
            expected = check_contact(
                PRESETS[policy],
                state,
                now,
                Channel(CHANNELS.index(action["channel"])),
                Kind(KINDS.index(action["kind"])),
            )
            assert action["rule"] == expected, (case.ref, action)
            assert action["allowed"] == (expected is None)
        assert status["days_past_due"] == days_past_due(state, now)
        assert status["stage"] == due_stage(PRESETS[policy], state, now)
        assert status["tz_offset_minutes"] == case.tz
        assert status["requester_name"] == "agency-x"
    # Someone without a mandate is refused everything, first by the mandate.
    case = cases[0][0]
    other = env.engine.status(case.claim_id, requester="agency-y")
    assert {a["rule"] for a in other["actions"]} == {"not-mandated"}


def test_status_of_a_claim_not_enrolled_says_so(env: Env) -> None:
    case = env.new_claim(policy=None)
    status = env.engine.status(case.claim_id)
    assert status["enrolled"] is False and "stage" not in status
    assert status["requester_name"] == "agency-x"  # the mandated agency by default
    assert {a["rule"] for a in status["actions"]} == {"not-enrolled"}


# ---------------------------------------------------------------------------- contacts


def test_contacts_outside_the_gateway_and_their_outcomes(env: Env) -> None:
    case = env.new_claim(dpd=10)  # stage 2 under cn-cba-2026: letters allowed
    env.at(env.local(10))
    first = env.engine.authorize("agency-x", case.claim_id, "letter", "collection", idem_key="l1")
    with pytest.raises(PolicyRefused) as info:  # visits only from stage 3
        env.engine.authorize("agency-x", case.claim_id, "visit", "collection", idem_key="v1")
    assert rule_name(info.value) == "channel-not-allowed"
    assert env.enrolment(case)[8] == env.latest()  # the claim's first contact

    env.engine.record_outcome("agency-x", first, "unanswered", idem_key="o1")
    assert env.enrolment(case)[7] == 1
    with pytest.raises(Conflict):
        env.engine.record_outcome("agency-x", first, "answered", idem_key="o2")
    with pytest.raises(Forbidden):
        env.engine.record_outcome("agency-y", first, "answered", idem_key="o3")
    with pytest.raises(InvalidInput) as bad:
        env.engine.record_outcome("agency-x", first, "maybe", idem_key="o4")
    assert bad.value.field == "outcome"
    with pytest.raises(Forbidden):  # an agency signs only for itself
        env.engine.authorize(
            "agency-y", case.claim_id, "letter", "collection", agency="agency-x", idem_key="y1"
        )
    (listed,) = env.engine.contacts(case.claim_id)
    assert (listed["contact_id"], listed["channel"], listed["kind"], listed["outcome"]) == (
        first,
        "letter",
        "collection",
        "unanswered",
    )


def test_the_gateway_authorises_on_chain_and_records_the_calls_outcome(env: Env) -> None:
    case = env.new_claim(dpd=10)
    record = env.send(
        AGENCY_X, case, "voice", "call-script-1", at=env.local(11), outcome="unanswered"
    )
    stored = json.loads(env.evidence.content_path(record["evidence_item_id"]).read_bytes())
    contact_id = stored["authorization"]
    assert isinstance(contact_id, int) and contact_id > 0
    claim, agency, outcome = env.engine.policy.call("contact_of", contact_id)
    assert (bytes(claim), agency, outcome) == (
        case.claim_id,
        env.rt.keys.address_of("agency-x"),
        2,
    )
    assert env.enrolment(case)[7] == 1  # one unanswered attempt
    # The call counts towards the debtor's capped contacts, at the block's time.
    recent, _ = env.engine.policy.call("debtor_contacts", case.debtor)
    (listed,) = env.engine.contacts(case.claim_id)
    assert recent[0] == int(datetime.fromisoformat(listed["at"]).timestamp())
    assert (listed["channel"], listed["kind"], listed["outcome"]) == (
        "voice",
        "collection",
        "unanswered",
    )


# ---------------------------------------------------------------------------- strategies


def test_strategies_keep_to_what_the_policy_allows(env: Env) -> None:
    cn = env.new_claim(dpd=10, outstanding=99_999)
    suggested = env.engine.strategy(cn.claim_id, "C")
    assert suggested["stage"] == 2
    assert suggested["channels"] == ["sms", "email", "voice"]
    assert suggested["max_contacts_per_week"] == 4
    assert suggested["offer"] == {
        "max_instalments": 12,
        "min_down_payment_pct": 15,
        "min_down_payment_fen": 15_000,  # 15 % of 99,999 fen, rounded up
        "outstanding_fen": 99_999,
    }
    us = env.new_claim(dpd=0, policy=US)
    current = env.engine.strategy(us.claim_id, "c")
    assert (current["stage"], current["channels"], current["left_out"]) == (0, [], ["sms"])
    assert current["max_contacts_per_week"] == 0 and current["offer"] is None
    late = env.new_claim(dpd=100, policy=US)
    worst = env.engine.strategy(late.claim_id, "E")
    assert worst["channels"] == ["voice", "letter", "visit"]
    assert worst["max_contacts_per_week"] == 7  # E plans 7; Reg F's weekly cap is 7 too
    with pytest.raises(InvalidInput) as info:
        env.engine.strategy(cn.claim_id, "F")
    assert info.value.field == "grade"


# ---------------------------------------------------------------------------- commands


def test_policy_and_collection_commands(env: Env) -> None:
    code, out, err = cli(env, "policy", "list", "--json")
    assert code == 0, err
    assert [p["name"] for p in json.loads(out)] == [CN, US]
    code, out, err = cli(
        env,
        "policy",
        "create",
        "bank-b-evenings",
        "--as",
        "bank-b",
        "--contact-start",
        "17:00",
        "--contact-end",
        "21:30",
        "--max-daily",
        "2",
        "--json",
    )
    assert code == 0, err
    assert json.loads(out)["status"] == "mined"
    code, out, err = cli(env, "policy", "show", "bank-b-evenings", "--json")
    rules = json.loads(out)["rules"]
    assert (rules["contact_start"], rules["contact_end"], rules["max_daily"]) == (1020, 1290, 2)
    code, out, err = cli(env, "policy", "list", "--as", "bank-b")
    assert "bank-b-evenings" in out and "own (bank-b)" in out
    code, out, err = cli(env, "policy", "create", "x", "--as", "bank-b", "--contact-start", "25:00")
    assert code == 1 and "contact_start" in err

    case = env.new_claim(owner="bank-b", policy=None, agency=None)
    code, out, err = cli(
        env,
        "collection",
        "enrol",
        case.ref,
        "--as",
        "bank-b",
        "--policy",
        "bank-b-evenings",
        "--tz",
        "-05:00",
        "--json",
    )
    assert code == 0, err
    code, out, err = cli(env, "collection", "status", case.ref, "--json")
    status = json.loads(out)
    assert status["policy"] == "bank-b-evenings" and status["tz_offset_minutes"] == -300
    assert status["requester_name"] == "bank-b"
    code, out, err = cli(env, "collection", "status", case.ref)
    assert code == 0 and "sms    reminder" in out
    code, out, err = cli(env, "collection", "strategy", case.ref, "--grade", "A", "--json")
    assert code == 0 and json.loads(out)["grade"] == "A"
    code, out, err = cli(env, "collection", "enrol", case.ref, "--as", "bank-a", "--policy", CN)
    assert code == 1 and "caller is not the owner" in err
