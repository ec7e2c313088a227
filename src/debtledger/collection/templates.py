"""Message templates the masked contact gateway sends, and the agency's redacted record of a
sent message.

A template fills a fixed allow-list of variables, so no caller can slip other data into a
message; a rendered message keeps its text out of `repr` because it names the debtor.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from debtledger.domain.claims import check_ref
from debtledger.errors import InvalidInput

if TYPE_CHECKING:
    from debtledger.collection.channels import Delivery

CHANNELS = ("email", "sms", "voice")
LANGS = ("zh", "en")
VARIABLES = frozenset(
    {
        "debtor_name",
        "creditor_name",
        "claim_ref",
        "amount_due",
        "due_date",
        "pay_url",
        "agency_name",
    }
)
MAX_VALUE_LENGTH = 500

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_URL = re.compile(r"^https?://[^\s/?#]+[^\s]*$")
# Currencies whose minor unit is not a hundredth; every other one has two decimals.
_MINOR_DIGITS = {"JPY": 0, "KRW": 0}
_SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "HKD": "HK$"}
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True)
class Text:
    """One language's wording of a template; `subject` is for e-mail only."""

    subject: str | None
    body: str


@dataclass(frozen=True)
class Template:
    """A message the gateway may send: the channels it may go by and its text per language."""

    id: str
    channels: frozenset[str]
    texts: Mapping[str, Text]

    def __post_init__(self) -> None:
        # A template is code: a wrong one is a programming error, caught at import.
        if not self.channels or not self.channels <= set(CHANNELS):
            raise ValueError(f"template {self.id}: channels must be among {CHANNELS}")
        if set(self.texts) != set(LANGS):
            raise ValueError(f"template {self.id}: needs a text in each of {LANGS}")
        for lang, text in self.texts.items():
            if ("email" in self.channels) != (text.subject is not None):
                raise ValueError(f"template {self.id}/{lang}: a subject exactly when e-mail")
            unknown = placeholders(text) - VARIABLES
            if unknown:
                raise ValueError(f"template {self.id}/{lang}: unknown variables {unknown}")

    @property
    def variables(self) -> frozenset[str]:
        """The variables this template needs (in any language; `claim_ref` always)."""
        used = frozenset().union(*(placeholders(t) for t in self.texts.values()))
        return used | {"claim_ref"}


def placeholders(text: Text) -> frozenset[str]:
    """The `{name}` placeholders in a text's subject and body."""
    return frozenset(_PLACEHOLDER.findall(f"{text.subject or ''}\n{text.body}"))


@dataclass(frozen=True)
class RenderedMessage:
    """A template filled in for one debtor, ready for its channel. Subject and body name the
    debtor, so they stay out of `repr`; the rest is what the agency may know."""

    template_id: str
    channel: str
    lang: str
    claim_ref: str
    subject: str | None = field(repr=False)
    body: str = field(repr=False)

    def digest(self) -> bytes:
        """SHA-256 of exactly what was sent (template, channel, language, subject, body), for
        evidence: it proves the content later without storing it in the clear."""
        parts = (self.template_id, self.channel, self.lang, self.subject or "", self.body)
        return hashlib.sha256("\x1f".join(parts).encode()).digest()


@dataclass(frozen=True)
class AgencyRecord:
    """What the agency may see of a contact: which template by which channel for which
    claim, when, how it went and the message id; never the address, number or name."""

    template_id: str
    channel: str
    lang: str
    claim_ref: str
    at: datetime
    status: str
    outcome: str
    message_id: str

    def as_dict(self) -> dict[str, str]:
        return {
            "template_id": self.template_id,
            "channel": self.channel,
            "lang": self.lang,
            "claim_ref": self.claim_ref,
            "at": self.at.isoformat(),
            "status": self.status,
            "outcome": self.outcome,
            "message_id": self.message_id,
        }


def redacted(message: RenderedMessage, delivery: Delivery) -> AgencyRecord:
    """The agency-facing record of `message` as delivered by `delivery`."""
    if message.channel != delivery.channel:
        raise InvalidInput(
            "the delivery went by another channel than the message's", field="channel"
        )
    return AgencyRecord(
        template_id=message.template_id,
        channel=message.channel,
        lang=message.lang,
        claim_ref=message.claim_ref,
        at=delivery.at,
        status=str(delivery.status),
        outcome=delivery.outcome,
        message_id=delivery.message_id,
    )


def format_amount(amount: int, currency: str = "CNY") -> str:
    """An amount in minor units as people read it: 123456 CNY → ¥1,234.56."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise InvalidInput("must be a non-negative whole number of minor units", field="amount_due")
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise InvalidInput("must be a three-letter ISO 4217 code such as CNY", field="currency")
    digits = _MINOR_DIGITS.get(currency, 2)
    whole, minor = divmod(amount, 10**digits)
    number = f"{whole:,}" + (f".{minor:0{digits}d}" if digits else "")
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{number}" if symbol else f"{currency} {number}"


def format_date(day: date, lang: str) -> str:
    """A date in the debtor's language: 2026年1月15日 or 15 January 2026."""
    if lang == "zh":
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


TEMPLATES: Mapping[str, Template] = MappingProxyType(
    {
        t.id: t
        for t in (
            Template(
                id="reminder-1",
                channels=frozenset({"email", "sms"}),
                texts={
                    "zh": Text(
                        subject="还款提醒：{claim_ref}",
                        body=(
                            "{debtor_name}您好：您在{creditor_name}的账单（编号{claim_ref}）"
                            "应还金额{amount_due}，到期日为{due_date}。请通过 {pay_url} "
                            "按时还款。如已还款，请忽略本消息。"
                        ),
                    ),
                    "en": Text(
                        subject="Payment reminder: {claim_ref}",
                        body=(
                            "Dear {debtor_name}, your account {claim_ref} with {creditor_name} "
                            "has {amount_due} due on {due_date}. Please pay at {pay_url}. "
                            "If you have already paid, please ignore this message."
                        ),
                    ),
                },
            ),
            Template(
                id="overdue-notice",
                channels=frozenset({"email", "sms"}),
                texts={
                    "zh": Text(
                        subject="逾期通知：{claim_ref}",
                        body=(
                            "{debtor_name}您好：您在{creditor_name}的账单（编号{claim_ref}）"
                            "已于{due_date}到期，尚欠{amount_due}。{agency_name}受"
                            "{creditor_name}委托与您联系。请通过 {pay_url} 还款或申请还款安排。"
                        ),
                    ),
                    "en": Text(
                        subject="Overdue notice: {claim_ref}",
                        body=(
                            "Dear {debtor_name}, your account {claim_ref} with {creditor_name} "
                            "fell due on {due_date} and {amount_due} is outstanding. "
                            "{agency_name} contacts you on behalf of {creditor_name}. "
                            "Please pay or ask for a repayment arrangement at {pay_url}."
                        ),
                    ),
                },
            ),
            Template(
                id="payment-plan-offer",
                channels=frozenset({"email", "sms"}),
                texts={
                    "zh": Text(
                        subject="分期还款方案：{claim_ref}",
                        body=(
                            "{debtor_name}您好：{creditor_name}可为您的账单（编号{claim_ref}，"
                            "待还{amount_due}）提供分期还款方案。请于{due_date}前通过 "
                            "{pay_url} 查看并确认。本方案由{agency_name}受托告知。"
                        ),
                    ),
                    "en": Text(
                        subject="Instalment offer: {claim_ref}",
                        body=(
                            "Dear {debtor_name}, {creditor_name} offers to let you repay "
                            "account {claim_ref} ({amount_due} outstanding) in instalments. "
                            "Please review and accept the plan at {pay_url} by {due_date}. "
                            "Sent by {agency_name} on behalf of {creditor_name}."
                        ),
                    ),
                },
            ),
            Template(
                id="legal-notice",
                channels=frozenset({"email"}),
                texts={
                    "zh": Text(
                        subject="法律程序告知：{claim_ref}",
                        body=(
                            "{debtor_name}您好：\n\n您在{creditor_name}的账单（编号{claim_ref}）"
                            "尚欠{amount_due}，原到期日为{due_date}。如您收到本通知后仍未还款"
                            "或与我们协商，{creditor_name}可能依法向人民法院提起诉讼。\n\n"
                            "还款或提出异议：{pay_url}\n\n{agency_name}（受{creditor_name}委托）"
                        ),
                    ),
                    "en": Text(
                        subject="Notice of legal proceedings: {claim_ref}",
                        body=(
                            "Dear {debtor_name},\n\nAccount {claim_ref} with {creditor_name} has "
                            "{amount_due} outstanding, originally due on {due_date}. If it is "
                            "neither paid nor discussed with us after this notice, "
                            "{creditor_name} may bring proceedings before a court.\n\n"
                            "To pay or dispute: {pay_url}\n\n"
                            "{agency_name}, on behalf of {creditor_name}"
                        ),
                    ),
                },
            ),
            Template(
                id="call-script-1",
                channels=frozenset({"voice"}),
                # The caller reads this; it leaves the debtor's name out because the agency
                # must not learn it: the callee confirms who they are instead.
                texts={
                    "zh": Text(
                        subject=None,
                        body=(
                            "您好，我是{agency_name}的工作人员，受{creditor_name}委托来电，"
                            "本次通话将被录音。请问您是账户持有人本人吗？（确认本人后）"
                            "您的账单编号{claim_ref}尚欠{amount_due}，到期日为{due_date}。"
                            "请问您计划何时还款？还款方式可通过 {pay_url} 查看。"
                        ),
                    ),
                    "en": Text(
                        subject=None,
                        body=(
                            "Hello, I am calling from {agency_name} on behalf of "
                            "{creditor_name}; this call is recorded. Am I speaking to the "
                            "account holder? (Once confirmed) Account {claim_ref} has "
                            "{amount_due} outstanding, due on {due_date}. When do you plan to "
                            "pay? Ways to pay are listed at {pay_url}."
                        ),
                    ),
                },
            ),
        )
    }
)


def get_template(template_id: str) -> Template:
    try:
        return TEMPLATES[template_id]
    except KeyError:
        raise InvalidInput(
            f"no template {template_id[:64]!r}; known: {', '.join(sorted(TEMPLATES))}",
            field="template_id",
        ) from None


def render(
    template_id: str,
    *,
    channel: str,
    variables: Mapping[str, Any],
    lang: str = "zh",
    currency: str = "CNY",
) -> RenderedMessage:
    """Fill template `template_id` for `channel` in `lang`. `variables` must hold every
    variable the template uses (and `claim_ref`) and nothing outside the allow-list;
    `amount_due` is in minor units of `currency`, `due_date` a date or YYYY-MM-DD."""
    template = get_template(template_id)
    if lang not in LANGS:
        raise InvalidInput(f"language must be one of {', '.join(LANGS)}", field="lang")
    if channel not in template.channels:
        raise InvalidInput(
            f"template {template_id!r} is not sent by {channel[:16]!r}; "
            f"it goes by {', '.join(sorted(template.channels))}",
            field="channel",
        )
    for name in sorted(variables):
        if name not in VARIABLES:
            raise InvalidInput(
                f"unknown template variable; allowed: {', '.join(sorted(VARIABLES))}",
                field=str(name)[:64],
            )
    for name in sorted(template.variables):
        if name not in variables:
            raise InvalidInput(f"variable is missing for template {template_id!r}", field=name)
    values = {
        name: _value(name, value, lang, currency)
        for name, value in variables.items()
        if name in template.variables
    }
    text = template.texts[lang]

    def fill(s: str) -> str:
        # One pass: a value that itself looks like "{name}" is never expanded again.
        return _PLACEHOLDER.sub(lambda m: values[m.group(1)], s)

    return RenderedMessage(
        template_id=template.id,
        channel=channel,
        lang=lang,
        claim_ref=values["claim_ref"],
        subject=fill(text.subject) if channel == "email" and text.subject is not None else None,
        body=fill(text.body),
    )


def _value(name: str, value: object, lang: str, currency: str) -> str:
    """One variable as text; errors name the variable and never repeat its value."""
    if name == "amount_due":
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput("must be a whole number of minor units (fen)", field=name)
        return format_amount(value, currency)
    if name == "due_date":
        if isinstance(value, datetime) or not isinstance(value, date | str):
            raise InvalidInput("must be a date or YYYY-MM-DD", field=name)
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value.strip())
            except ValueError:
                raise InvalidInput("must be a date as YYYY-MM-DD", field=name) from None
        return format_date(value, lang)
    if not isinstance(value, str):
        raise InvalidInput("must be text", field=name)
    text = value.strip()
    if not text:
        raise InvalidInput("must not be empty", field=name)
    if len(text) > MAX_VALUE_LENGTH:
        raise InvalidInput(f"must be at most {MAX_VALUE_LENGTH} characters", field=name)
    if _CONTROL.search(text):
        raise InvalidInput("must not contain control characters or line breaks", field=name)
    if name == "claim_ref":
        return check_ref(text)
    if name == "pay_url" and not _URL.match(text):
        raise InvalidInput("must be an http(s) URL", field=name)
    return text
