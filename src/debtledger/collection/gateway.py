"""The masked contact gateway: an agency (or the claim's owner) asks for the debtor of a claim
to be contacted by a channel with a template; the gateway checks the chain, decrypts the
contact detail itself, sends, and keeps the contact as an evidence item.

The requester gets a redacted record (template, channel, time, status, message id) and never
the address, number or name. Every decryption is in the vault's access trail; every attempt,
sent or failed, is an evidence item of kind "contact" submitted by the gateway organisation,
anchored with the next evidence batch. The same idempotency key never sends twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cached_property
from typing import Any

from debtledger.access.service import AccessService, Principal
from debtledger.collection.channels import (
    CallOutcome,
    Channel,
    Delivery,
    DeliveryStatus,
    SmsChannel,
    VoiceChannel,
    channel_for,
)
from debtledger.collection.engine import POLICY, CollectionService
from debtledger.collection.templates import (
    CHANNELS,
    LANGS,
    RenderedMessage,
    get_template,
    redacted,
    render,
)
from debtledger.coordination.complaints import Complaints
from debtledger.coordination.monitor import Monitor
from debtledger.domain.claims import ClaimStatus, check_ref, from_timestamp
from debtledger.domain.claims import claim_id as claim_id_of
from debtledger.errors import (
    ClaimNotFound,
    ConfigError,
    Conflict,
    DebtLedgerError,
    DeliveryFailed,
    Forbidden,
    InvalidInput,
    NotFound,
    PolicyRefused,
)
from debtledger.evidence.service import EvidenceService, NewItem
from debtledger.orgs.service import ROLES, OrgService, role_id
from debtledger.privacy.trail import Accessor
from debtledger.runtime import Runtime

log = logging.getLogger(__name__)

RECORD_TYPE = "debtledger-contact/1"
GATEWAY_ROLE = "GATEWAY"
# The vault field each channel reaches the debtor at.
CONTACT_FIELDS = {"email": "email", "sms": "phone", "voice": "phone"}
# Where the debtor's name may be kept, in order of preference (the privacy records' name
# first). A debtor with none is addressed neutrally.
NAME_FIELDS = ("debtor_name", "name")
NEUTRAL_NAME = {"zh": "客户", "en": "customer"}
# What each template is for, in CollectionPolicy's words (a new template counts as
# collection until it is listed here).
TEMPLATE_KINDS = {
    "reminder-1": "reminder",
    "overdue-notice": "collection",
    "payment-plan-offer": "collection",
    "legal-notice": "legal",
    "call-script-1": "collection",
}
DEFAULT_KIND = "collection"
# Variables a requester may give; everything else comes from the chain and the vault, so
# the amount, the due date and the parties' names in a message are never the requester's.
CALLER_VARIABLES = frozenset({"pay_url", "claim_ref"})
_FILLED = {
    "debtor_name": "filled by the gateway from the vault",
    "amount_due": "taken from the claim on chain",
    "due_date": "taken from the claim on chain",
    "creditor_name": "the claim's owner on chain",
    "agency_name": "the requesting organisation",
}
DEFAULT_PAY_URL = "https://pay.debtledger.invalid/claims/{claim_ref}"
READERS = ("COURT", "REGULATOR", GATEWAY_ROLE)
MAX_IDEM_KEY = 200
ZERO_ADDRESS = "0x" + "00" * 20

Requester = Principal | tuple[str, str]


@dataclass(frozen=True)
class Party:
    """Who asks: an organisation acting in one role, and its chain address."""

    org: str
    role: str
    address: str


@dataclass(frozen=True)
class ClaimFacts:
    """What the gateway reads of a claim on chain to write the message."""

    claim_id: bytes
    owner: str
    status: ClaimStatus
    due_date: date
    currency: str
    outstanding: int


# Requests with one idempotency key take turns in this process, so a retry that arrives
# while the first attempt is still sending waits for it and then replays its record.
_turns_guard = threading.Lock()
_turns: dict[str, tuple[threading.Lock, int]] = {}


@contextmanager
def _one_at_a_time(key: str | None) -> Iterator[None]:
    if key is None:
        yield
        return
    with _turns_guard:
        lock, users = _turns.get(key, (threading.Lock(), 0))
        _turns[key] = (lock, users + 1)
    try:
        with lock:
            yield
    finally:
        with _turns_guard:
            lock, users = _turns[key]
            if users == 1:
                del _turns[key]
            else:
                _turns[key] = (lock, users - 1)


def _hex(claim_id: bytes) -> str:
    return "0x" + claim_id.hex()


def _same(a: str, b: str) -> bool:
    return a.lower() == b.lower()


def idempotency_digest(org: str, idem_key: str) -> str:
    """What an evidence record keeps of a requester's idempotency key: a digest scoped to
    the requesting organisation (two organisations' keys never collide)."""
    if not isinstance(idem_key, str) or not 1 <= len(idem_key) <= MAX_IDEM_KEY:
        raise InvalidInput(f"must be 1-{MAX_IDEM_KEY} characters", field="idempotency_key")
    return hashlib.sha256(f"{org}\x1f{idem_key}".encode()).hexdigest()


def check_request(template_id: str, channel: str, lang: str, outcome: str | None) -> None:
    """The template exists and goes by `channel`; the language is known; a call (and only a
    call) has an outcome. Raises InvalidInput naming the field."""
    template = get_template(template_id)
    if channel not in CHANNELS or channel not in template.channels:
        raise InvalidInput(
            f"template {template_id!r} goes by {', '.join(sorted(template.channels))}",
            field="channel",
        )
    if lang not in LANGS:
        raise InvalidInput(f"must be one of {', '.join(LANGS)}", field="lang")
    if channel == "voice":
        if outcome is None:
            raise InvalidInput("a call needs its outcome", field="outcome")
        if outcome not in {o.value for o in CallOutcome}:
            raise InvalidInput(
                f"must be one of {', '.join(o.value for o in CallOutcome)}", field="outcome"
            )
    elif outcome is not None:
        raise InvalidInput("only a call has an outcome", field="outcome")


def check_caller_variables(variables: Mapping[str, Any] | None, claim_id: bytes) -> dict[str, str]:
    """The variables a requester gave, checked: only `pay_url` and `claim_ref` (which must
    be the claim's own reference or its 0x id); the rest is the gateway's to fill."""
    given = dict(variables or {})
    for name in sorted(given, key=str):
        if name in _FILLED:
            raise InvalidInput(f"may not be given: {_FILLED[name]}", field=name)
        if name not in CALLER_VARIABLES:
            raise InvalidInput(
                f"unknown variable; a requester may give {', '.join(sorted(CALLER_VARIABLES))}",
                field=str(name)[:64],
            )
        if not isinstance(given[name], str):
            raise InvalidInput("must be text", field=name)
    ref = given.get("claim_ref")
    if ref is not None and ref != _hex(claim_id) and claim_id_of(check_ref(ref)) != claim_id:
        raise InvalidInput("is not the reference of this claim", field="claim_ref")
    return given


def _canonical(data: Mapping[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class ContactService:
    """Contacts with debtors through the gateway, and their records.

    The gateway organisation (the one that decrypts and submits the evidence) is
    `gateway`, or else the one organisation hosted here that holds the GATEWAY role, or
    else the one this service holds a key of that holds it on chain.
    """

    def __init__(self, rt: Runtime, *, gateway: str | None = None, timeout: float = 10.0) -> None:
        self.rt = rt
        self.orgs = OrgService(rt)
        self.evidence = EvidenceService(rt)
        self.timeout = timeout
        self._gateway = gateway

    # ------------------------------------------------------------------ contact

    def contact(
        self,
        requester: Requester,
        claim_id: bytes,
        channel: str,
        template_id: str,
        *,
        variables: Mapping[str, Any] | None = None,
        outcome: str | None = None,
        lang: str = "zh",
        idem_key: str | None = None,
    ) -> dict[str, Any]:
        """Contact the debtor of `claim_id` by `channel` with template `template_id` for
        `requester` (a mandated agency or the claim's owner); returns the requester's record:
        the redacted delivery, `evidence_item_id` and `contact_id`.

        `outcome` is the call outcome, for voice only. A call with an `idem_key` already
        sent returns the first record and sends nothing. Raises InvalidInput before anything
        is read, Forbidden when the requester may not ask, PolicyRefused when the chain does
        not authorise the contact (nothing is decrypted in either case), DeliveryFailed when
        the channel could not hand the message over (the attempt is recorded)."""
        check_request(template_id, channel, lang, outcome)
        extras = check_caller_variables(variables, claim_id)
        party = self._party(requester)
        idem = idempotency_digest(party.org, idem_key) if idem_key is not None else None
        with _one_at_a_time(idem):
            facts = self._check_requester(party, claim_id)
            if idem is not None:
                done = self._replay(claim_id, idem, channel, template_id)
                if done is not None:
                    return done
            kind = TEMPLATE_KINDS.get(template_id, DEFAULT_KIND)
            try:
                # An open complaint pauses the claim's contacts until it is resolved.
                Complaints(self.rt).check_no_open_complaint(claim_id)
                authorization = self._authorise(claim_id, party.address, channel, kind)
            except PolicyRefused as refused:
                # Every refused attempt is kept for the regulator's monitor.
                Monitor(self.rt).record_refused_attempt(
                    party.org, claim_id, channel, kind, refused.rule
                )
                raise
            debtor = self.debtor_of(claim_id)
            fields = self._on_file(debtor, claim_id, channel, template_id)
            sender = channel_for(channel, self.rt.settings, timeout=self.timeout)
            gateway = self.gateway
            claim_ref = extras.get("claim_ref", _hex(claim_id))
            fill = {
                "debtor_name": NEUTRAL_NAME[lang],
                "creditor_name": self.orgs.name_of(facts.owner),
                "claim_ref": claim_ref,
                "amount_due": facts.outstanding,
                "due_date": facts.due_date,
                "pay_url": extras.get("pay_url", DEFAULT_PAY_URL.format(claim_ref=claim_ref)),
                "agency_name": party.org,
            }
            # Rendered once without the name: a bad variable is refused before any read.
            message = render(
                template_id, channel=channel, lang=lang, currency=facts.currency, variables=fill
            )
            detail, name = self._decrypt(debtor, claim_id, fields, template_id, gateway)
            if name is not None:
                message = render(
                    template_id,
                    channel=channel,
                    lang=lang,
                    currency=facts.currency,
                    variables={**fill, "debtor_name": name},
                )
            contact_id = f"ct_{uuid.uuid4().hex}"
            base = {
                "type": RECORD_TYPE,
                "contact_id": contact_id,
                "claim_id": _hex(claim_id),
                "claim_ref": message.claim_ref,
                "requester": party.org,
                "requester_role": party.role,
                "gateway": gateway,
                "channel": channel,
                "template_id": template_id,
                "kind": kind,
                "lang": lang,
                "message_sha256": message.digest().hex(),
                "idempotency": idem,
                "authorization": authorization,
            }
            client_ref = f"ct-{idem[:40]}" if idem is not None else contact_id
            delivery, item = self._deliver(sender, detail, message, outcome, client_ref, base)
            if channel == "voice" and authorization is not None:
                self._record_outcome(authorization, delivery.outcome, contact_id)
            return {
                **redacted(message, delivery).as_dict(),
                "evidence_item_id": item,
                "contact_id": contact_id,
            }

    # ------------------------------------------------------------------ records

    def contacts(self, requester: Requester, claim_id: bytes) -> list[dict[str, Any]]:
        """The contact records of a claim, oldest first, for its owner, its mandate holder,
        courts, regulators and the gateway; anyone else gets NotFound. Agencies do not get
        the message digest (they know every part of the message but the debtor's name)."""
        party = self._party(requester)
        self._check_reader(party, claim_id)
        out: list[dict[str, Any]] = []
        for item, record in self._records(claim_id):
            row = {
                "contact_id": record["contact_id"],
                "evidence_item_id": item["id"],
                "batch_id": item["batch_id"],
                "claim_id": record["claim_id"],
                "claim_ref": record["claim_ref"],
                "requester": record["requester"],
                "channel": record["channel"],
                "template_id": record["template_id"],
                "kind": record["kind"],
                "lang": record["lang"],
                "at": record["at"],
                "status": record["status"],
                "outcome": record["outcome"],
                "message_id": record["message_id"],
                "reason": record["reason"],
            }
            if party.role != "AGENCY":
                row["message_sha256"] = record["message_sha256"]
            out.append(row)
        return out

    # ------------------------------------------------------------------ the gateway org

    @cached_property
    def gateway(self) -> str:
        """The organisation that decrypts, sends and submits the evidence."""
        if self._gateway is not None:
            if not self._holds(self._gateway_address(self._gateway), GATEWAY_ROLE):
                raise ConfigError(f"{self._gateway} does not hold the GATEWAY role on chain")
            return self._gateway
        found = [
            str(o["name"])
            for o in AccessService(self.rt).orgs()
            if GATEWAY_ROLE in o["roles"]  # type: ignore[operator]
        ]
        if not found:
            found = [
                name
                for name in self.rt.keys.names()
                if name != "admin" and self._holds(self.rt.keys.address_of(name), GATEWAY_ROLE)
            ]
        if len(found) != 1:
            which = ", ".join(sorted(found)) if found else "none"
            raise ConfigError(
                f"the gateway organisation is ambiguous or missing (GATEWAY holders here: "
                f"{which}); name it explicitly"
            )
        return found[0]

    def _gateway_address(self, name: str) -> str:
        try:
            return self.rt.keys.address_of(name)
        except NotFound:
            raise ConfigError(f"this service holds no key of the gateway {name}") from None

    # ------------------------------------------------------------------ chain

    def _registry(self, fn: str, *args: Any) -> Any:
        return self.rt.writer.call(
            self.rt.abi("ClaimRegistry"), self.rt.address("ClaimRegistry"), fn, *args
        )

    def _holds(self, address: str, role: str) -> bool:
        return bool(
            self.rt.writer.call(
                self.rt.abi("Consortium"),
                self.rt.address("Consortium"),
                "has_role",
                address,
                role_id(role),
            )
        )

    def claim(self, claim_id: bytes) -> ClaimFacts:
        """The claim's state on chain; ClaimNotFound for an unknown claim."""
        owner, status, due, currency, _principal, outstanding = self._registry("claims", claim_id)
        return ClaimFacts(
            claim_id=claim_id,
            owner=owner,
            status=ClaimStatus(status),
            due_date=from_timestamp(due),
            currency=currency.decode(),
            outstanding=outstanding,
        )

    def debtor_of(self, claim_id: bytes) -> bytes:
        """The debtor pseudonym the claim was registered with (from its ClaimRegistered
        event: the registry keeps it in the event, not in storage)."""
        for ev in self.rt.events.events(
            self.rt.deployment.block,
            claim_ids=[claim_id],
            names=["ClaimRegistered"],
            address=self.rt.address("ClaimRegistry"),
        ):
            return bytes(ev.args["debtor"])
        raise ClaimNotFound(f"registry: unknown claim {_hex(claim_id)}")

    def _party(self, requester: Requester) -> Party:
        if isinstance(requester, Principal):
            return Party(requester.org, requester.role.upper(), requester.address)
        org, role = requester
        role = role.upper()
        if role not in ROLES:
            raise InvalidInput(f"unknown role; one of {', '.join(ROLES)}", field="role")
        address = self.orgs.address(org)
        if not self._holds(address, role):
            raise Forbidden(f"{org} does not hold the role {role}")
        return Party(org, role, address)

    def _check_requester(self, party: Party, claim_id: bytes) -> ClaimFacts:
        """Step one: only an agency with a live mandate on the claim, or the creditor that
        owns it, may ask for a contact."""
        if party.role == "AGENCY":
            if not self._registry("is_mandated", claim_id, party.address):
                raise Forbidden(f"{party.org} holds no live mandate for claim {_hex(claim_id)}")
            return self.claim(claim_id)
        if party.role == "CREDITOR":
            facts = self.claim(claim_id)
            if not _same(facts.owner, party.address):
                raise Forbidden(f"{party.org} does not own claim {_hex(claim_id)}")
            return facts
        raise Forbidden(
            f"a {party.role} may not ask for contacts: a mandated agency or the claim's owner may"
        )

    def _authorise(
        self, claim_id: bytes, requester_address: str, channel: str, kind: str
    ) -> int | None:
        """The chain's authorisation of this contact: the one place it is asked.

        The gateway organisation calls CollectionPolicy.authorize_contact(claim, channel,
        kind, requester) for the requester (a mandated agency or the owner): the mandate, the
        claim's state and enrolment, the stage's channels and kinds, the debtor's local
        contact hours, the caps shared by every creditor and agency of the debtor, the
        cooling-off and the legal rules. A refusal is PolicyRefused naming the rule, and
        nothing is authorised, decrypted or sent. Returns the contact id the contract gave.

        A deployment made before CollectionPolicy existed only has the mandate to go by:
        the requester holds a live mandate, or owns the claim and the claim is active (the
        refusals read as the contract's own); it returns None then.
        """
        if POLICY in self.rt.deployment.addresses:
            return CollectionService(self.rt).authorize(
                self.gateway,
                claim_id,
                channel,
                kind,
                agency=requester_address,
                # One authorisation per attempt: a retry is a new contact, checked again.
                idem_key=f"gateway-contact:{uuid.uuid4().hex}",
            )
        if self._registry("is_mandated", claim_id, requester_address):
            return None
        facts = self.claim(claim_id)
        if not _same(facts.owner, requester_address):
            raise PolicyRefused("policy: not-mandated")
        if facts.status is not ClaimStatus.ACTIVE:
            raise PolicyRefused("policy: claim-inactive")
        return None

    def _record_outcome(self, authorization: int, outcome: str | None, contact_id: str) -> None:
        """Record a call's outcome with CollectionPolicy, as the gateway: an unanswered call
        counts towards third-party contact, a conversation starts the cooling-off. The call
        was made and recorded already, so a failure here is logged, not raised."""
        if outcome is None:
            return
        try:
            CollectionService(self.rt).record_outcome(
                self.gateway,
                authorization,
                outcome,
                idem_key=f"gateway-outcome:{self.rt.address(POLICY)}:{authorization}",
            )
        except DebtLedgerError as exc:
            log.warning("outcome of contact %s not recorded on chain: %s", contact_id, exc)

    def _check_reader(self, party: Party, claim_id: bytes) -> None:
        hidden = NotFound(f"no claim {_hex(claim_id)} visible to {party.org}")
        if party.role in READERS:
            self.claim(claim_id)
            return
        if party.role == "CREDITOR":
            if not _same(self.claim(claim_id).owner, party.address):
                raise hidden
            return
        if party.role == "AGENCY":
            agency, _expiry = self._registry("mandate_of", claim_id)
            if agency == ZERO_ADDRESS or not _same(agency, party.address):
                raise hidden
            return
        raise hidden

    # ------------------------------------------------------------------ vault, channel

    def _on_file(
        self, debtor: bytes, claim_id: bytes, channel: str, template_id: str
    ) -> tuple[str, str | None]:
        """The vault fields this contact reads: the channel's contact detail (NotFound when
        the debtor has none on file, found out without decrypting anything) and, when the
        template uses it and one is kept, the debtor's name."""
        field = CONTACT_FIELDS[channel]
        try:
            stored = set(self.rt.vault.fields(debtor))
        except NotFound:
            stored = set()
        if field not in stored:
            raise NotFound(f"no {field} is on file for the debtor of claim {_hex(claim_id)}")
        name_field = None
        if "debtor_name" in get_template(template_id).variables:
            name_field = next((f for f in NAME_FIELDS if f in stored), None)
        return field, name_field

    def _decrypt(
        self,
        debtor: bytes,
        claim_id: bytes,
        fields: tuple[str, str | None],
        template_id: str,
        gateway: str,
    ) -> tuple[str, str | None]:
        """The contact detail and the name (if asked for), each read recorded in the access
        trail as the gateway's, for this contact's purpose and claim."""
        field, name_field = fields
        accessor = Accessor(
            org=gateway, role=GATEWAY_ROLE, purpose=f"contact:{template_id}", claim_id=claim_id
        )
        wanted = [field] if name_field is None else [field, name_field]
        values = self.rt.vault.get_many(debtor, wanted, accessor=accessor)
        return values[field], values[name_field] if name_field is not None else None

    def _deliver(
        self,
        sender: Channel,
        to: str,
        message: RenderedMessage,
        outcome: str | None,
        client_ref: str,
        base: Mapping[str, Any],
    ) -> tuple[Delivery, int]:
        """Send, and record the attempt as evidence whatever happens; returns the delivery
        and the evidence item's id, or raises DeliveryFailed once the failure is recorded."""
        gateway, claim_id = base["gateway"], bytes.fromhex(base["claim_id"][2:])
        about = f"contact {base['contact_id']} of claim {base['claim_id']} for {base['requester']}"
        try:
            if isinstance(sender, SmsChannel):
                delivery = sender.send(to, message, client_ref=client_ref)
            elif isinstance(sender, VoiceChannel):
                delivery = sender.send(to, message, outcome=outcome)
            else:
                delivery = sender.send(to, message)
        except DeliveryFailed as exc:
            item = self._record(gateway, claim_id, base, None, exc)
            log.warning("%s failed (evidence item %s): %s", about, item, exc)
            raise
        if delivery.status is DeliveryStatus.FAILED:
            failure = DeliveryFailed(
                message.channel,
                "the provider could not deliver the message",
                status=delivery.outcome,
            )
            item = self._record(gateway, claim_id, base, delivery, failure)
            log.warning("%s not delivered (evidence item %s): %s", about, item, failure)
            raise failure
        item = self._record(gateway, claim_id, base, delivery, None)
        log.info(
            "%s by %s with %s: %s (evidence item %s)",
            about,
            message.channel,
            message.template_id,
            delivery.outcome,
            item,
        )
        return delivery, item

    # ------------------------------------------------------------------ evidence

    def _record(
        self,
        gateway: str,
        claim_id: bytes,
        base: Mapping[str, Any],
        delivery: Delivery | None,
        failure: DeliveryFailed | None,
    ) -> int:
        """Submit the attempt as an evidence item of the gateway; returns the item's id."""
        record = {
            **base,
            "at": (delivery.at if delivery is not None else datetime.now(UTC)).isoformat(),
            "status": (
                DeliveryStatus.FAILED.value if failure is not None else DeliveryStatus.SENT.value
            ),
            "outcome": delivery.outcome if delivery is not None else None,
            "message_id": delivery.message_id if delivery is not None else None,
            "reason": failure.reason if failure is not None else None,
            "provider_status": (
                str(failure.status) if failure is not None and failure.status is not None else None
            ),
        }
        item = self.evidence.add(
            gateway, NewItem(_canonical(record), "contact", "application/json", claim_id)
        )
        return int(item["id"])

    def _records(self, claim_id: bytes) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """The claim's contact evidence items of the gateway, with their records."""
        gateway = self.gateway
        for item in self.evidence.items_of_claim(claim_id):
            if item["kind"] != "contact" or item["organisation"] != gateway:
                continue
            try:
                record = json.loads(self.evidence.content_path(item["id"]).read_bytes())
            except (NotFound, ValueError):
                continue  # not a record of ours (or its file is gone): nothing to show
            if isinstance(record, dict) and record.get("type") == RECORD_TYPE:
                yield item, record

    def _replay(
        self, claim_id: bytes, idem: str, channel: str, template_id: str
    ) -> dict[str, Any] | None:
        """The record of the contact already sent under this idempotency digest, if any; a
        failed attempt does not count (nothing reached the debtor), so it is tried again."""
        for item, record in self._records(claim_id):
            if record.get("idempotency") != idem or record["status"] != "sent":
                continue
            if (record["channel"], record["template_id"]) != (channel, template_id):
                raise Conflict("the idempotency key was used for another contact")
            return {
                "template_id": record["template_id"],
                "channel": record["channel"],
                "lang": record["lang"],
                "claim_ref": record["claim_ref"],
                "at": record["at"],
                "status": record["status"],
                "outcome": record["outcome"],
                "message_id": record["message_id"],
                "evidence_item_id": item["id"],
                "contact_id": record["contact_id"],
            }
        return None
