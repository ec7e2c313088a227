"""Delivery channels of the masked contact gateway: e-mail over SMTP, SMS through a
provider's HTTP API, and recorded voice calls.

A channel gets the contact detail already decrypted and only ever shows it masked: errors
and `repr`s carry the last four digits of a number at most, and nothing of an address.
"""

from __future__ import annotations

import re
import smtplib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

import requests

from debtledger.collection.templates import CHANNELS, RenderedMessage
from debtledger.config import Settings
from debtledger.errors import ConfigError, DeliveryFailed, InvalidInput

_CN_MOBILE = re.compile(r"^\+861[3-9][0-9]{9}$")
_E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
_PHONE_SEPARATORS = re.compile(r"[\s\-().]")
_EMAIL = re.compile(
    r"^(?!\.)(?!.*\.\.)[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}(?<!\.)"
    r"@(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
_CLIENT_REF = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_PROVIDER_WORD = re.compile(r"^[a-z_-]{1,32}$")
# Provider statuses that mean the message will not reach the phone.
_PROVIDER_FAILED = frozenset({"failed", "rejected", "undeliverable", "expired"})


class DeliveryStatus(StrEnum):
    """Whether the channel handed the message over (for a call: whether it was placed)."""

    SENT = "sent"
    FAILED = "failed"


class CallOutcome(StrEnum):
    """How a call went, as the caller reports it."""

    ANSWERED = "answered"
    UNANSWERED = "unanswered"
    CONVERSATION = "conversation"
    PROMISE_TO_PAY = "promise_to_pay"


def check_phone(value: str) -> str:
    """A phone number in E.164 form (+ country code, 8-15 digits; a Chinese number is +86
    and an 11-digit mobile), normalised without spaces or dashes. Never echoes the value."""
    number = _PHONE_SEPARATORS.sub("", value) if isinstance(value, str) else ""
    if number.startswith("+86"):
        if not _CN_MOBILE.match(number):
            raise InvalidInput(
                "must be a Chinese mobile number: +86 and 11 digits starting with 1",
                field="phone",
            )
        return number
    if not _E164.match(number):
        raise InvalidInput(
            "must be a phone number in E.164 form: + country code and 8-15 digits",
            field="phone",
        )
    return number


def check_email(value: str) -> str:
    """An e-mail address (ASCII, one @, a dotted domain), trimmed. Never echoes the value."""
    address = value.strip() if isinstance(value, str) else ""
    if not _EMAIL.match(address):
        raise InvalidInput("must be an e-mail address such as name@example.com", field="email")
    return address


def check_contact(channel: str, value: str) -> str:
    """The contact detail `value` checked and normalised for `channel`."""
    if channel == "email":
        return check_email(value)
    if channel in ("sms", "voice"):
        return check_phone(value)
    raise InvalidInput(f"channel must be one of {', '.join(CHANNELS)}", field="channel")


def mask_contact(value: str) -> str:
    """What a log or `repr` may show of a contact detail: `***` and the last four digits of a
    phone number; `***` alone for an e-mail address or anything else."""
    if "@" not in value:
        digits = re.sub(r"\D", "", value)
        if len(digits) >= 8 and re.fullmatch(r"\+?[0-9\s\-().*]+", value):
            return "***" + digits[-4:]
    return "***"


@dataclass(frozen=True, repr=False)
class Delivery:
    """The result of one send: the channel's message id, status, time and outcome.

    `to` is the only personal data here; `repr` masks it, and the gateway must neither log
    nor return it. `outcome` is "sent" for e-mail, the provider's status for SMS and the
    call outcome for voice; `client_ref` is the SMS idempotency key.
    """

    channel: str
    to: str
    message_id: str
    status: DeliveryStatus
    at: datetime
    outcome: str
    client_ref: str | None = None

    def __repr__(self) -> str:
        return (
            f"Delivery(channel={self.channel!r}, to={mask_contact(self.to)!r}, "
            f"message_id={self.message_id!r}, status={self.status.value!r}, "
            f"at={self.at.isoformat()!r}, outcome={self.outcome!r}, "
            f"client_ref={self.client_ref!r})"
        )


@runtime_checkable
class Channel(Protocol):
    """What every delivery channel does: send a rendered message to a contact detail."""

    @property
    def name(self) -> str: ...

    def send(self, to: str, message: RenderedMessage) -> Delivery:
        """Send `message` to `to` (an address or number); raises InvalidInput for a malformed
        contact detail or a message for another channel, DeliveryFailed when it cannot."""
        ...


def _check_message(channel: str, message: RenderedMessage) -> None:
    if message.channel != channel:
        raise InvalidInput(
            f"message was rendered for {message.channel!r}, not {channel!r}", field="channel"
        )


def _now() -> datetime:
    return datetime.now(UTC)


class EmailChannel:
    """E-mail over SMTP. The Message-ID is ours, so a bounce or a reply can be matched to
    the contact it answers."""

    name = "email"

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        timeout: float = 10.0,
        *,
        local_hostname: str | None = None,
    ) -> None:
        self.host = host
        self.port = port
        try:
            self.sender = check_email(sender)
        except InvalidInput:
            raise InvalidInput("must be an e-mail address", field="smtp_sender") from None
        self.domain = self.sender.rpartition("@")[2]
        self.timeout = timeout
        # The EHLO name; left unset, smtplib looks up this machine's FQDN, which can stall
        # on DNS and tells the server the host name.
        self.local_hostname = local_hostname or self.domain

    def __repr__(self) -> str:
        return f"EmailChannel(host={self.host!r}, port={self.port}, sender={self.sender!r})"

    def send(self, to: str, message: RenderedMessage) -> Delivery:
        """Hand the message to the SMTP server; DeliveryFailed when it is down or refuses."""
        address = check_email(to)
        _check_message(self.name, message)
        if message.subject is None:
            raise InvalidInput("an e-mail needs a subject", field="subject")
        message_id = f"<{uuid.uuid4().hex}@{self.domain}>"
        at = _now()
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = address
        mail["Subject"] = message.subject
        mail["Date"] = format_datetime(at)
        mail["Message-ID"] = message_id
        mail["Content-Language"] = "zh-CN" if message.lang == "zh" else message.lang
        mail.set_content(message.body, charset="utf-8")
        # Server replies to a refused recipient usually quote the address: keep only the
        # code, and drop the smtplib exception (its args hold the address) from the chain.
        try:
            with smtplib.SMTP(
                self.host, self.port, local_hostname=self.local_hostname, timeout=self.timeout
            ) as smtp:
                refused = smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            status = codes[0] if codes else None
            raise DeliveryFailed(
                "email", "the server refused the recipient", status=status
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryFailed(
                "email", "the server refused the message", status=exc.smtp_code
            ) from None
        except smtplib.SMTPServerDisconnected as exc:
            # smtplib turns a read timeout into a disconnection; tell the two apart.
            if isinstance(exc.__context__, TimeoutError):
                raise DeliveryFailed(
                    "email", "the mail server did not answer in time", status="timeout"
                ) from None
            raise DeliveryFailed(
                "email", "the mail server closed the connection", status="disconnected"
            ) from None
        except smtplib.SMTPException:
            raise DeliveryFailed("email", "the SMTP conversation failed", status="smtp") from None
        except TimeoutError:
            raise DeliveryFailed(
                "email", "the mail server did not answer in time", status="timeout"
            ) from None
        except OSError as exc:
            raise DeliveryFailed(
                "email",
                f"the mail server at {self.host}:{self.port} cannot be reached",
                status="unreachable",
            ) from exc
        if refused:
            raise DeliveryFailed("email", "the server refused the recipient", status="refused")
        return Delivery(
            channel=self.name,
            to=address,
            message_id=message_id,
            status=DeliveryStatus.SENT,
            at=at,
            outcome=DeliveryStatus.SENT.value,
        )


class SmsChannel:
    """SMS through a provider's HTTP API: POST {to, text, client_ref} with a bearer token;
    the provider answers {id, status}.

    `dedup` says the provider drops a second message with the same client_ref; only then is
    a send retried (once) after a connection error, since the first attempt may have
    reached the provider before the connection broke.
    """

    name = "sms"

    def __init__(self, url: str, token: str, timeout: float = 10.0, *, dedup: bool = True) -> None:
        if not token:
            raise ConfigError("the SMS provider needs a token (DEBTLEDGER_SMS_PROVIDER_TOKEN)")
        self.url = url
        self._token = token
        self.timeout = timeout
        self.dedup = dedup

    def __repr__(self) -> str:
        return f"SmsChannel(url={self.url!r}, dedup={self.dedup})"

    def send(self, to: str, message: RenderedMessage, *, client_ref: str | None = None) -> Delivery:
        """Send the message; `client_ref` (default: a new random one) is the idempotency key:
        pass the same one to resend without risk of a second SMS."""
        number = check_phone(to)
        _check_message(self.name, message)
        ref = client_ref if client_ref is not None else uuid.uuid4().hex
        if not _CLIENT_REF.match(ref):
            raise InvalidInput("must be 1-128 letters, digits or . _ : -", field="client_ref")
        payload = {"to": number, "text": message.body, "client_ref": ref}
        return self._delivery(self._post(payload), number, ref)

    def _post(self, payload: dict[str, str]) -> Any:
        headers = {"Authorization": f"Bearer {self._token}"}
        retries = 1 if self.dedup else 0
        while True:
            try:
                return requests.post(self.url, json=payload, headers=headers, timeout=self.timeout)
            except requests.ConnectionError as exc:  # ConnectTimeout included
                if retries:
                    retries -= 1
                    continue
                raise DeliveryFailed(
                    "sms", "the provider cannot be reached", status="unreachable"
                ) from exc
            except requests.Timeout as exc:
                raise DeliveryFailed(
                    "sms", "the provider did not answer in time", status="timeout"
                ) from exc
            except requests.RequestException as exc:
                raise DeliveryFailed("sms", "the request failed", status="error") from exc

    def _delivery(self, resp: Any, number: str, ref: str) -> Delivery:
        # The provider's body is not quoted in errors: it may repeat the number.
        if not 200 <= resp.status_code < 300:
            raise DeliveryFailed("sms", "the provider refused the message", status=resp.status_code)
        try:
            reply = resp.json()
        except ValueError:
            reply = None
        if not (
            isinstance(reply, dict)
            and isinstance(reply.get("id"), str)
            and reply["id"]
            and isinstance(reply.get("status"), str)
        ):
            raise DeliveryFailed("sms", "the provider's reply is not {id, status}", status="reply")
        word = reply["status"].lower()
        outcome = word if _PROVIDER_WORD.match(word) else "unknown"
        failed = outcome in _PROVIDER_FAILED
        return Delivery(
            channel=self.name,
            to=number,
            message_id=reply["id"][:128],
            status=DeliveryStatus.FAILED if failed else DeliveryStatus.SENT,
            at=_now(),
            outcome=outcome,
            client_ref=ref,
        )


class VoiceChannel:
    """A call made by a person reading the rendered call script: nothing is sent, the call
    is recorded. The caller reports the outcome; the gateway keeps it as evidence."""

    name = "voice"

    def __repr__(self) -> str:
        return "VoiceChannel()"

    def send(
        self,
        to: str,
        message: RenderedMessage,
        *,
        outcome: CallOutcome | str | None = None,
        at: datetime | None = None,
    ) -> Delivery:
        """Record a call to `to` whose script is `message`. `outcome` is required (a call is
        never assumed answered); `at` (timezone-aware) defaults to now."""
        number = check_phone(to)
        _check_message(self.name, message)
        if outcome is None:
            raise InvalidInput("a call needs its outcome", field="outcome")
        try:
            result = CallOutcome(outcome)
        except ValueError:
            raise InvalidInput(
                f"must be one of {', '.join(o.value for o in CallOutcome)}", field="outcome"
            ) from None
        if at is not None and (at.tzinfo is None or at.utcoffset() is None):
            raise InvalidInput("must be timezone-aware", field="at")
        return Delivery(
            channel=self.name,
            to=number,
            message_id=f"call-{uuid.uuid4().hex}",
            status=DeliveryStatus.SENT,
            at=at if at is not None else _now(),
            outcome=result.value,
        )


def channel_for(name: str, settings: Settings, *, timeout: float = 10.0) -> Channel:
    """The channel called `name` ("email", "sms" or "voice"), configured from `settings`."""
    if name == "email":
        return EmailChannel(
            settings.smtp_host, settings.smtp_port, settings.smtp_sender, timeout=timeout
        )
    if name == "sms":
        if not settings.sms_token:
            raise ConfigError("set DEBTLEDGER_SMS_PROVIDER_TOKEN to send SMS")
        return SmsChannel(settings.sms_provider_url, settings.sms_token, timeout=timeout)
    if name == "voice":
        return VoiceChannel()
    raise InvalidInput(f"channel must be one of {', '.join(CHANNELS)}", field="channel")
