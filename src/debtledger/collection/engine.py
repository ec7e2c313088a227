"""The collection engine's service: policies, enrolment, where a claim stands and which
contact it allows next, contacts made outside the gateway and their outcomes, strategies.

CollectionPolicy decides and this service asks it. Its views are read at the pending block,
whose time is the chain's "now" (the local node mines only when written to, so the latest
block can be hours old): what they say is what a write sent now would meet.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select

from debtledger.chain.abi import ContractABI, Event
from debtledger.chain.events import LOG_SPAN
from debtledger.chain.rpc import node_error
from debtledger.chain.writer import Write
from debtledger.domain.claims import from_timestamp
from debtledger.domain.policies import (
    MAX_OFFSET_MINUTES,
    MIN_OFFSET_MINUTES,
    PARAM_FIELDS,
    PRESETS,
    Channel,
    Kind,
    Outcome,
    PolicyRules,
    from_params,
    policy_id,
    to_params,
)
from debtledger.domain.strategies import strategy_for
from debtledger.errors import (
    ClaimNotFound,
    ContractRefused,
    InvalidInput,
    NotFound,
    PolicyRefused,
)
from debtledger.orgs.service import OrgService
from debtledger.runtime import Runtime
from debtledger.store.db import take_turns
from debtledger.store.models import claims_table, collection_policies_table
from debtledger.store.outbox import Entry

POLICY = "CollectionPolicy"
PLANS = "RepaymentPlan"
CHANNELS = tuple(c.name.lower() for c in Channel)  # sms, email, voice, letter, visit
KINDS = tuple(k.name.lower().replace("_", "-") for k in Kind)  # reminder ... legal
OUTCOMES = tuple(o.name.lower() for o in Outcome)  # answered ... promise_to_pay
STAGE_NAMES = ("current", "1-7", "8-30", "31-90", "91+")
READERS = ("COURT", "REGULATOR", "GATEWAY")  # who reads every claim's collection state
ZERO_ADDRESS = "0x" + "00" * 20
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_HEX32 = re.compile(r"^0x[0-9a-fA-F]{64}$")
_RULE_PREFIX = "policy: "
_MOVED = "BlockOutOfRange"  # the node's word for a call's block gone under it
_RETRIES = 3


def channel_of(name: str | int | Channel) -> Channel:
    """A channel by name (sms, email, voice, letter, visit) or number."""
    try:
        if isinstance(name, str):
            return Channel(CHANNELS.index(name.lower()))
        return Channel(name)
    except ValueError:
        raise InvalidInput(f"must be one of {', '.join(CHANNELS)}", field="channel") from None


def kind_of(name: str | int | Kind) -> Kind:
    """A kind of contact by name (reminder, collection, third-party, credit-report, legal)."""
    try:
        if isinstance(name, str):
            return Kind(KINDS.index(name.lower().replace("_", "-")))
        return Kind(name)
    except ValueError:
        raise InvalidInput(f"must be one of {', '.join(KINDS)}", field="kind") from None


def outcome_of(name: str | int | Outcome) -> Outcome:
    """A contact's outcome by name (answered, unanswered, conversation, promise_to_pay)."""
    try:
        if isinstance(name, str):
            return Outcome(OUTCOMES.index(name.lower().replace("-", "_")) + 1)
        return Outcome(name)
    except ValueError:
        raise InvalidInput(f"must be one of {', '.join(OUTCOMES)}", field="outcome") from None


def rule_name(error: PolicyRefused) -> str:
    """The bare rule name of a refusal ("contact-hours" for "policy: contact-hours")."""
    return error.rule.removeprefix(_RULE_PREFIX)


def check_tz_offset(minutes: object) -> int:
    """A UTC offset in minutes, -720 to +840 (+480: China Standard Time)."""
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise InvalidInput("must be a whole number of minutes", field="tz_offset_minutes")
    if not MIN_OFFSET_MINUTES <= minutes <= MAX_OFFSET_MINUTES:
        raise InvalidInput("must be between -720 and +840 minutes", field="tz_offset_minutes")
    return minutes


def parse_tz_offset(text: str) -> int:
    """Minutes east of UTC from an offset ("+08:00", "+8:00", "-0530") or a number of
    minutes ("480"; "-720" is minutes too, not 7:20)."""
    value = text.strip()
    match = re.fullmatch(r"([+-])(\d{1,2}):(\d{2})", value) or re.fullmatch(
        r"([+-])(\d{2})(\d{2})", value
    )
    if match:
        sign = -1 if match.group(1) == "-" else 1
        return check_tz_offset(sign * (int(match.group(2)) * 60 + int(match.group(3))))
    if re.fullmatch(r"[+-]?\d{1,4}", value):
        return check_tz_offset(int(value))
    raise InvalidInput("give an offset like +08:00 or minutes like 480", field="tz_offset_minutes")


def resolve_policy_id(name_or_id: str | bytes) -> bytes:
    """The on-chain id of a policy given by name (keccak-256 of it) or as 0x + 64 hex."""
    if isinstance(name_or_id, bytes):
        if len(name_or_id) != 32:
            raise InvalidInput("a policy id is 32 bytes", field="policy")
        return name_or_id
    if _HEX32.match(name_or_id):
        return bytes.fromhex(name_or_id[2:])
    return policy_id(check_policy_name(name_or_id))


def check_policy_name(name: str) -> str:
    """A policy name: 1-64 of a-z 0-9 . _ -, starting with a letter or digit."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInput(
            "1-64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit",
            field="name",
        )
    return name


def local_time(at: int, tz_offset_minutes: int) -> datetime:
    """Unix time `at` on the debtor's wall clock."""
    return datetime.fromtimestamp(at, timezone(timedelta(minutes=tz_offset_minutes)))


def rules_public(rules: PolicyRules) -> dict[str, Any]:
    """A policy's rules as plain data (channel and kind masks spelled out per stage)."""
    data = asdict(rules)
    data["channels"] = [[c for c in CHANNELS if m >> CHANNELS.index(c) & 1] for m in rules.channels]
    data["kinds"] = [[k for k in KINDS if m >> KINDS.index(k) & 1] for m in rules.kinds]
    data["capped_channels"] = [
        c for c in CHANNELS if rules.capped_channels >> CHANNELS.index(c) & 1
    ]
    data["stage_days"] = list(rules.stage_days)
    data["notes"] = list(rules.notes)
    return data


POLICY_FIELDS = PARAM_FIELDS


def _mask(value: object, names: Sequence[str], field: str) -> object:
    """A mask given as a number, or as names (["sms", "voice"])."""
    if isinstance(value, list | tuple):
        out = 0
        for name in value:
            if name not in names:
                raise InvalidInput(f"must be among {', '.join(names)}", field=field)
            out |= 1 << names.index(name)
        return out
    return value


def derive_policy(name: str, *, based_on: str = "cn-cba-2026", **changes: Any) -> PolicyRules:
    """A creditor's own policy: a preset's rules with `changes` (PolicyRules fields; channel
    and kind masks also as names per stage, e.g. channels=[["sms"], ["sms", "voice"], ...])."""
    unknown = sorted(set(changes) - set(POLICY_FIELDS))
    if unknown:
        raise InvalidInput(
            f"not a policy field (one of {', '.join(POLICY_FIELDS)})", field=unknown[0]
        )
    if based_on not in PRESETS:
        raise InvalidInput(f"must be one of {', '.join(PRESETS)}", field="based_on")
    values = dict(changes)
    for key, names in (("channels", CHANNELS), ("kinds", KINDS)):
        if key in values:
            given = values[key]
            if not isinstance(given, list | tuple):
                raise InvalidInput("give one mask per stage (five)", field=key)
            values[key] = tuple(_mask(v, names, key) for v in given)
    if "capped_channels" in values:
        values["capped_channels"] = _mask(values["capped_channels"], CHANNELS, "capped_channels")
    if "stage_days" in values and isinstance(values["stage_days"], list | tuple):
        values["stage_days"] = tuple(values["stage_days"])
    return replace(PRESETS[based_on], name=check_policy_name(name), notes=(), **values)


def chain_now(rt: Runtime) -> int:
    """The chain's time now: the pending block's timestamp (a node that does not give one
    answers with its latest block's)."""
    for tag in ("pending", "latest"):
        block = rt.writer.rpc.call("eth_getBlockByNumber", [tag, False])
        if block and block.get("timestamp"):
            return int(block["timestamp"], 16)
    raise NotFound("the node gave no block")  # pragma: no cover - every node has a head


class ChainContract:
    """One deployed contract: views read at the pending block (alone or many in one
    JSON-RPC batch) and writes for the outbox."""

    def __init__(self, rt: Runtime, name: str) -> None:
        self.rt = rt
        self.name = name

    @property
    def abi(self) -> ContractABI:
        return self.rt.abi(self.name)

    @property
    def address(self) -> str:
        try:
            return self.rt.address(self.name)
        except KeyError:
            raise NotFound(f"this deployment has no {self.name} contract") from None

    def call(self, fn: str, *args: Any) -> Any:
        (out,) = self.calls([(fn, args)])
        return out

    def calls(
        self, items: Sequence[tuple[str, tuple[Any, ...]]], block: str = "pending"
    ) -> list[Any]:
        """Several views in one batch, at `block` (the pending one: the chain's now); the
        first refusal is raised.

        A local node that keeps no old states can lose the block a call was resolved to
        when another writer mines meanwhile ("BlockOutOfRange"): the batch is asked again.
        """
        abi, at = self.abi, self.address
        calls = [
            ("eth_call", [{"to": at, "data": "0x" + abi.encode_call(fn, args).hex()}, block])
            for fn, args in items
        ]
        for attempt in range(_RETRIES):
            replies = self.rt.writer.rpc.batch(calls)
            errors = [r["error"] for r in replies if "error" in r]
            if not any(_MOVED in str(e.get("message", "")) for e in errors):
                break
            if attempt == _RETRIES - 1:
                raise node_error("eth_call", errors[0])
        out = []
        for (fn, _), reply in zip(items, replies, strict=True):
            if "error" in reply:
                raise node_error("eth_call", reply["error"])
            out.append(abi.decode_output(fn, bytes.fromhex(reply["result"].removeprefix("0x"))))
        return out

    def write(self, fn: str, args: tuple[Any, ...], idem_key: str, gas: int | None = None) -> Write:
        return Write(self.abi, self.address, fn, args, idem_key, gas=gas)

    def events_of(self, tx_hash: str, name: str) -> list[Event]:
        """The events called `name` this contract logged in a mined transaction."""
        receipt = self.rt.writer.rpc.call("eth_getTransactionReceipt", [tx_hash]) or {}
        found = []
        for raw in receipt.get("logs", []):
            if raw["address"].lower() != self.address.lower():
                continue
            event = self.abi.decode_log(raw)
            if event is not None and event.name == name:
                found.append(event)
        return found


class CollectionService:
    """Collection operations. With `wait=False` a write returns once it is stored in the
    outbox (the contract's refusal, found by the gas estimate, is still raised at once)."""

    def __init__(self, rt: Runtime, *, wait: bool = True) -> None:
        self.rt = rt
        self.wait = wait
        self.orgs = OrgService(rt)
        self.policy = ChainContract(rt, POLICY)

    def _do(self, org: str, write: Write) -> Entry:
        signer = self.orgs.account(org)
        if self.wait:
            (entry,) = self.rt.writer.execute(signer, [write])
        else:
            (entry,) = self.rt.writer.submit(signer, [write])
            self.rt.committer.wake()
        return entry

    def _registry(self, fn: str, *args: Any) -> Any:
        return ChainContract(self.rt, "ClaimRegistry").calls([(fn, args)], "latest")[0]

    # ------------------------------------------------------------------ policies

    def policy_names(self) -> dict[str, str]:
        """Names of the policies known here by 0x id: the presets and those created here."""
        names = {"0x" + p.policy_id.hex(): p.name for p in PRESETS.values()}
        t = collection_policies_table
        with self.rt.engine.connect() as conn:
            for pid, name in conn.execute(
                select(t.c.policy_id, t.c.name).where(t.c.name.is_not(None))
            ):
                names.setdefault(pid, name)
        return names

    def rules_of(self, name_or_id: str | bytes) -> tuple[str | None, PolicyRules]:
        """A policy's owner (None: a consortium preset) and rules, as the chain holds them."""
        pid = resolve_policy_id(name_or_id)
        owner, params = self.policy.call("policy_of", pid)
        # A policy made elsewhere has no name here; PolicyRules needs one: its id's start.
        name = self.policy_names().get("0x" + pid.hex()) or "0x" + pid.hex()[:16]
        return (None if owner == ZERO_ADDRESS else owner), from_params(name, params)

    def show_policy(self, name_or_id: str | bytes) -> dict[str, Any]:
        """One policy as the chain holds it."""
        pid = resolve_policy_id(name_or_id)
        owner, rules = self.rules_of(pid)
        return self._policy_public(pid, owner, rules)

    def _policy_public(self, pid: bytes, owner: str | None, rules: PolicyRules) -> dict[str, Any]:
        known = self.policy_names().get("0x" + pid.hex())
        return {
            "policy_id": "0x" + pid.hex(),
            "name": known,
            "preset": owner is None,
            "owner": owner,
            "owner_name": self.orgs.name_of(owner) if owner else None,
            "rules": {**rules_public(rules), "name": known},
        }

    def policies(self, owner: str | None = None, *, every: bool = False) -> list[dict[str, Any]]:
        """The consortium's presets and the policies `owner` (an organisation or address)
        set; with `every`, every policy on chain."""
        address = self.orgs.address(owner) if owner else None
        presets = ["0x" + p.policy_id.hex() for p in PRESETS.values()]
        wanted = dict.fromkeys(presets)
        if every or address:
            for event in self._policy_events(None if every else address):
                wanted["0x" + bytes(event.args["policy_id"]).hex()] = None
        out = []
        for pid in wanted:
            try:
                out.append(self.show_policy(pid))
            except ContractRefused:
                continue  # a preset the consortium has not installed ("unknown policy")
        return out

    def _policy_events(self, owner: str | None) -> Iterator[Event]:
        """PolicySet events since the deployment, of one owner's policies when `owner` is
        given (the owner is the event's second indexed field), in the reader's spans."""
        abi, at = self.policy.abi, self.policy.address
        topics: list[Any] = ["0x" + abi.event_topics["PolicySet"].hex(), None]
        if owner is not None:
            topics.append("0x" + "00" * 12 + owner.lower().removeprefix("0x"))
        head = self.rt.writer.head()
        start = self.rt.deployment.block
        while start <= head:
            end = min(start + LOG_SPAN - 1, head)
            query = {
                "fromBlock": hex(start),
                "toBlock": hex(end),
                "address": [at],
                "topics": topics,
            }
            for raw in self.rt.writer.rpc.call("eth_getLogs", [query]):
                event = abi.decode_log(raw)
                if event is not None:
                    yield event
            start = end + 1

    def create_policy(self, creditor: str, rules: PolicyRules, *, idem_key: str) -> Entry:
        """Create (or change) the creditor's own policy named `rules.name`; its id is the
        keccak-256 of the name. The name is kept here: the chain holds only the id."""
        check_policy_name(rules.name)
        entry = self._do(
            creditor, self.policy.write("set_policy", (rules.policy_id, to_params(rules)), idem_key)
        )
        self.remember_name(rules)
        return entry

    def remember_name(self, rules: PolicyRules) -> None:
        """Keep the name of a policy id (the indexer fills in the rest from PolicySet)."""
        t = collection_policies_table
        pid = "0x" + rules.policy_id.hex()
        with self.rt.engine.begin() as conn:
            take_turns(conn, f"collection-policy:{pid}")
            found = conn.execute(select(t.c.policy_id).where(t.c.policy_id == pid)).first()
            if found is None:
                conn.execute(
                    t.insert().values(
                        policy_id=pid,
                        name=rules.name,
                        owner=None,
                        params=_jsonable_params(rules),
                        updated_block=-1,  # not seen on chain yet
                    )
                )
            else:
                conn.execute(t.update().where(t.c.policy_id == pid).values(name=rules.name))

    # ------------------------------------------------------------------ enrolment

    def debtor_of(self, claim_id: bytes) -> bytes:
        """The claim's debtor pseudonym: from the read model, else its ClaimRegistered
        event."""
        with self.rt.engine.connect() as conn:
            found = conn.execute(
                select(claims_table.c.debtor).where(
                    claims_table.c.claim_id == "0x" + claim_id.hex()
                )
            ).scalar()
        if found:
            return bytes.fromhex(str(found)[2:])
        for ev in self.rt.events.events(
            self.rt.deployment.block,
            claim_ids=[claim_id],
            names=["ClaimRegistered"],
            address=self.rt.address("ClaimRegistry"),
        ):
            return bytes(ev.args["debtor"])
        raise ClaimNotFound(f"registry: unknown claim 0x{claim_id.hex()}")

    def enrol(
        self,
        claim_id: bytes,
        owner: str,
        *,
        policy: str | bytes,
        tz_offset_minutes: int,
        idem_key: str,
    ) -> Entry:
        """Put the owner's claim under a policy (a preset or its own) for a debtor in the
        time zone `tz_offset_minutes` east of UTC; enrolling again changes policy or zone."""
        pid = resolve_policy_id(policy)
        tz = check_tz_offset(tz_offset_minutes)
        debtor = self.debtor_of(claim_id)
        return self._do(owner, self.policy.write("enrol", (claim_id, pid, debtor, tz), idem_key))

    def enrolled(self, claim_id: bytes) -> bool:
        return bool(self.policy.call("is_enrolled", claim_id))

    # ------------------------------------------------------------------ where a claim stands

    def default_requester(self, claim_id: bytes) -> str:
        """Who a claim's contacts are for by default: its mandated agency, else its owner."""
        agency, expiry = self._registry("mandate_of", claim_id)
        if agency != ZERO_ADDRESS and expiry > chain_now(self.rt):
            return str(agency)
        owner = self._registry("claims", claim_id)[0]
        return str(owner)

    def check_reader(self, role: str, address: str, claim_id: bytes) -> None:
        """The claim's owner, its mandated agency, courts, regulators and gateways may read
        its collection state and plan; for anyone else the claim does not exist (NotFound)."""
        owner = str(self._registry("claims", claim_id)[0])  # ClaimNotFound when unknown
        role = role.upper()
        if role in READERS:
            return
        if role == "CREDITOR" and owner.lower() == address.lower():
            return
        if role == "AGENCY":
            agency = str(self._registry("mandate_of", claim_id)[0])
            if agency != ZERO_ADDRESS and agency.lower() == address.lower():
                return
        raise NotFound(f"no claim 0x{claim_id.hex()} visible to {address}")

    def status(self, claim_id: bytes, *, requester: str | None = None) -> dict[str, Any]:
        """Where the claim stands now: its stage, days past due, pause, and for every channel
        and kind whether a contact for `requester` (an address or organisation; default: the
        mandated agency, else the owner) would be authorised, or the rule that refuses it."""
        self._registry("claims", claim_id)  # ClaimNotFound for an unknown claim
        agency = self.orgs.address(requester) if requester else self.default_requester(claim_id)
        checks = [
            ("check_contact", (claim_id, int(ch), int(kd), agency)) for ch in Channel for kd in Kind
        ]
        first = self.policy.calls([("is_enrolled", (claim_id,)), *checks])
        enrolled, verdicts = bool(first[0]), first[1:]
        now = chain_now(self.rt)
        actions = [
            {"channel": CHANNELS[ch], "kind": KINDS[kd], "allowed": v == "", "rule": v or None}
            for (_, (_, ch, kd, _)), v in zip(checks, verdicts, strict=True)
        ]
        out: dict[str, Any] = {
            "claim_id": "0x" + claim_id.hex(),
            "enrolled": enrolled,
            "as_of": datetime.fromtimestamp(now, UTC).isoformat(),
            "requester": agency,
            "requester_name": self.orgs.name_of(agency),
            "actions": actions,
        }
        if not enrolled:
            return out
        enrolment, (stored, due_stage, dpd) = self.policy.calls(
            [("enrolment", (claim_id,)), ("stage_of", (claim_id,))]
        )
        pid, debtor, tz, due, _stage, since, paused, failed, first_contact = enrolment
        names = self.policy_names()
        out.update(
            {
                "policy_id": "0x" + bytes(pid).hex(),
                "policy": names.get("0x" + bytes(pid).hex()),
                "debtor": "0x" + bytes(debtor).hex(),
                "tz_offset_minutes": tz,
                "local_time": local_time(now, tz).isoformat(),
                "due_date": from_timestamp(due).isoformat(),
                "stage": due_stage,
                "stage_name": STAGE_NAMES[due_stage],
                "stored_stage": stored,
                "days_past_due": dpd,
                "paused": since != 0,
                "paused_since": since or None,
                "paused_seconds": paused,
                "failed_attempts": failed,
                "first_contact": first_contact or None,
                "contacts": self.contacts(claim_id),
            }
        )
        return out

    def contacts(self, claim_id: bytes) -> list[dict[str, Any]]:
        """The claim's authorised contacts, oldest first, with their outcomes (from the
        chain's events): the ids an outcome is recorded under."""
        by_id: dict[int, dict[str, Any]] = {}
        for ev in self.rt.events.events(
            self.rt.deployment.block,
            claim_ids=[claim_id],
            names=["ContactAuthorized", "OutcomeRecorded"],
            address=self.policy.address,
        ):
            a = ev.args
            if ev.name == "ContactAuthorized":
                by_id[a["contact_id"]] = {
                    "contact_id": a["contact_id"],
                    "agency": a["agency"],
                    "channel": CHANNELS[a["channel"]],
                    "kind": KINDS[a["kind"]],
                    "at": datetime.fromtimestamp(a["at"], UTC).isoformat(),
                    "outcome": None,
                }
            elif a["contact_id"] in by_id:
                by_id[a["contact_id"]]["outcome"] = OUTCOMES[a["outcome"] - 1]
        return list(by_id.values())

    # ------------------------------------------------------------------ contacts

    def authorize(
        self,
        org: str,
        claim_id: bytes,
        channel: str | int | Channel,
        kind: str | int | Kind,
        *,
        agency: str | None = None,
        idem_key: str,
    ) -> int:
        """Have CollectionPolicy authorise one contact, signed by `org` for `agency` (default:
        `org` itself; a gateway signs for the agency or owner it acts for); returns the
        contact id. Raises PolicyRefused naming the rule that refuses it: nothing is
        authorised then. Waits for the block whatever `wait` says: the id is in its log."""
        ch, kd = channel_of(channel), kind_of(kind)
        for_whom = self.orgs.address(agency or org)
        write = self.policy.write(
            "authorize_contact", (claim_id, int(ch), int(kd), for_whom), idem_key
        )
        (entry,) = self.rt.writer.execute(self.orgs.account(org), [write])
        (event,) = self.policy.events_of(entry.tx_hash, "ContactAuthorized")
        return int(event.args["contact_id"])

    def record_outcome(
        self, org: str, contact_id: int, outcome: str | int | Outcome, *, idem_key: str
    ) -> Entry:
        """Record how an authorised contact went (its agency, or a gateway for it): an
        unanswered attempt counts towards third-party contact, a conversation or a promise to
        pay starts the debtor's cooling-off."""
        if isinstance(contact_id, bool) or not isinstance(contact_id, int) or contact_id < 1:
            raise InvalidInput("a contact id is a positive number", field="contact_id")
        result = outcome_of(outcome)
        return self._do(
            org, self.policy.write("record_outcome", (contact_id, int(result)), idem_key)
        )

    # ------------------------------------------------------------------ strategies

    def strategy(self, claim_id: bytes, grade: str) -> dict[str, Any]:
        """What the grade's strategy suggests for the claim at its stage now: the channels
        (those the claim's policy allows at that stage), contacts a week (within the
        policy's weekly cap) and the most generous instalment offer on what is owed."""
        enrolment, (_stored, stage, dpd) = self.policy.calls(
            [("enrolment", (claim_id,)), ("stage_of", (claim_id,))]
        )
        _owner, rules = self.rules_of(bytes(enrolment[0]))
        plan = strategy_for(grade.upper() if isinstance(grade, str) else grade, stage)
        allowed = rules.channels[stage]
        channels = [c for c in plan.channels if allowed >> CHANNELS.index(c) & 1]
        per_week = plan.max_contacts_per_week if channels else 0
        if rules.max_weekly and any(
            rules.capped_channels >> CHANNELS.index(c) & 1 for c in channels
        ):
            per_week = min(per_week, rules.max_weekly)
        outstanding = int(self._registry("claims", claim_id)[5])
        offer = None
        if plan.offer is not None:
            offer = {
                "max_instalments": plan.offer.max_instalments,
                "min_down_payment_pct": plan.offer.min_down_payment_pct,
                "min_down_payment_fen": plan.offer.min_down_payment(outstanding),
                "outstanding_fen": outstanding,
            }
        return {
            "claim_id": "0x" + claim_id.hex(),
            "grade": grade.upper(),
            "stage": stage,
            "days_past_due": dpd,
            "channels": channels,
            "left_out": [c for c in plan.channels if c not in channels],
            "max_contacts_per_week": per_week,
            "offer": offer,
        }


def _jsonable_params(rules: PolicyRules) -> list[Any]:
    return [list(v) if isinstance(v, tuple) else v for v in to_params(rules)]
