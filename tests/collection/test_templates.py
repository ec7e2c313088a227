"""Templates: every one renders in both languages from the allow-listed variables only; bad
input names the variable and never repeats its value; the agency's record names nobody."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from debtledger.collection.channels import Delivery, DeliveryStatus
from debtledger.collection.templates import (
    LANGS,
    TEMPLATES,
    VARIABLES,
    Template,
    Text,
    format_amount,
    redacted,
    render,
)
from debtledger.errors import InvalidInput
from tests.collection.conftest import DEBTOR_NAME, EMAIL, EXAMPLES, message
from tests.collection.conftest import VARIABLES as GOOD


@pytest.mark.parametrize(
    ("template_id", "channel", "lang"),
    [(t.id, c, lang) for t in TEMPLATES.values() for c in sorted(t.channels) for lang in LANGS],
)
def test_every_template_renders_all_its_placeholders(
    template_id: str, channel: str, lang: str
) -> None:
    m = render(template_id, channel=channel, variables=GOOD, lang=lang)
    text = f"{m.subject or ''}{m.body}"
    assert "{" not in text and "}" not in text
    assert "¥1,234.56" in text
    assert ("2026年1月15日" if lang == "zh" else "15 January 2026") in text
    assert "BANK-A-0001" in text
    assert (m.template_id, m.channel, m.lang, m.claim_ref) == (
        template_id,
        channel,
        lang,
        "BANK-A-0001",
    )
    assert (m.subject is not None) == (channel == "email")
    fixed = m.body
    for value in GOOD.values():
        fixed = fixed.replace(str(value), "")
    has_cjk = re.search(r"[\u4e00-\u9fff]", fixed.replace("年", "").replace("月", "")) is not None
    assert has_cjk == (lang == "zh")


def test_the_expected_templates_exist() -> None:
    assert {"reminder-1", "overdue-notice", "payment-plan-offer", "legal-notice"} <= set(TEMPLATES)
    assert TEMPLATES["call-script-1"].channels == {"voice"}
    assert TEMPLATES["legal-notice"].channels == {"email"}


def test_call_script_leaves_the_debtors_name_out() -> None:
    # The agency's caller reads the script; the agency must not learn the name.
    assert "debtor_name" not in TEMPLATES["call-script-1"].variables
    script = render("call-script-1", channel="voice", variables=GOOD)
    assert DEBTOR_NAME not in script.body


def test_rendered_message_repr_hides_subject_and_body() -> None:
    m = message("reminder-1", "email")
    assert DEBTOR_NAME in m.body
    assert DEBTOR_NAME not in repr(m)
    assert "BANK-A-0001" in repr(m)


def test_unknown_template_is_named() -> None:
    with pytest.raises(InvalidInput) as info:
        render("reminder-9", channel="sms", variables=GOOD)
    assert info.value.field == "template_id"
    assert "'reminder-9'" in str(info.value)


def test_missing_variable_is_named() -> None:
    variables = {k: v for k, v in GOOD.items() if k != "pay_url"}
    with pytest.raises(InvalidInput) as info:
        render("reminder-1", channel="sms", variables=variables)
    assert info.value.field == "pay_url"
    assert "missing" in str(info.value)


def test_claim_ref_is_always_required() -> None:
    variables = {k: v for k, v in GOOD.items() if k != "claim_ref"}
    with pytest.raises(InvalidInput) as info:
        render("reminder-1", channel="sms", variables=variables)
    assert info.value.field == "claim_ref"


def test_unknown_variable_is_named_and_its_value_not_repeated() -> None:
    with pytest.raises(InvalidInput) as info:
        render("reminder-1", channel="sms", variables={**GOOD, "phone": "+8613812345678"})
    assert info.value.field == "phone"
    assert "unknown" in str(info.value)
    assert "13812345678" not in str(info.value)


def test_allowed_variable_the_template_does_not_use_is_ignored() -> None:
    m = render("call-script-1", channel="voice", variables=GOOD)
    assert DEBTOR_NAME not in m.body


@pytest.mark.parametrize(
    ("template_id", "channel", "lang", "field"),
    [
        ("legal-notice", "sms", "zh", "channel"),
        ("call-script-1", "email", "zh", "channel"),
        ("reminder-1", "fax", "zh", "channel"),
        ("reminder-1", "sms", "fr", "lang"),
    ],
)
def test_wrong_channel_or_language_is_refused(
    template_id: str, channel: str, lang: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as info:
        render(template_id, channel=channel, variables=GOOD, lang=lang)
    assert info.value.field == field


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("amount_due", 1234.5),
        ("amount_due", "123456"),
        ("amount_due", True),
        ("amount_due", -1),
        ("due_date", "15/01/2026"),
        ("due_date", datetime(2026, 1, 15, tzinfo=UTC)),
        ("pay_url", "javascript:alert(1)"),
        ("pay_url", "https://pay.example.com/a b"),
        ("debtor_name", "王五\r\nBcc: someone@example.com"),
        ("debtor_name", "   "),
        ("debtor_name", "x" * 501),
        ("creditor_name", 42),
        ("claim_ref", "has space"),
    ],
)
def test_bad_value_names_the_variable_without_echoing_it(name: str, value: object) -> None:
    with pytest.raises(InvalidInput) as info:
        render("reminder-1", channel="email", variables={**GOOD, name: value})
    assert info.value.field == name
    if isinstance(value, str) and value.strip():
        assert value.strip() not in str(info.value)


def test_due_date_accepts_a_date() -> None:
    m = render("reminder-1", channel="sms", variables={**GOOD, "due_date": date(2027, 3, 9)})
    assert "2027年3月9日" in m.body
    en = render(
        "reminder-1", channel="sms", lang="en", variables={**GOOD, "due_date": date(2027, 3, 9)}
    )
    assert "9 March 2027" in en.body


@pytest.mark.parametrize(
    ("fen", "currency", "text"),
    [
        (123_456, "CNY", "¥1,234.56"),
        (0, "CNY", "¥0.00"),
        (5, "CNY", "¥0.05"),
        (100_000_000, "CNY", "¥1,000,000.00"),
        (199, "USD", "$1.99"),
        (1500, "JPY", "JPY 1,500"),
        (100, "SGD", "SGD 1.00"),
    ],
)
def test_format_amount(fen: int, currency: str, text: str) -> None:
    assert format_amount(fen, currency) == text


def test_amount_in_another_currency_renders_with_its_symbol() -> None:
    m = render("reminder-1", channel="sms", variables=GOOD, currency="USD")
    assert "$1,234.56" in m.body and "¥" not in m.body
    with pytest.raises(InvalidInput) as info:
        render("reminder-1", channel="sms", variables=GOOD, currency="yuan")
    assert info.value.field == "currency"


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.integers(min_value=0, max_value=10**30))
def test_amount_reads_back_as_the_same_number_of_fen(fen: int) -> None:
    text = format_amount(fen, "CNY")
    assert re.fullmatch(r"¥\d{1,3}(,\d{3})*\.\d{2}", text)
    assert Decimal(text[1:].replace(",", "")) * 100 == fen


_NAME = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip() == s and s != "")


@settings(max_examples=EXAMPLES, deadline=None)
@given(name=_NAME, creditor=_NAME)
def test_values_are_inserted_verbatim_and_never_expanded(name: str, creditor: str) -> None:
    m = render(
        "overdue-notice",
        channel="email",
        variables={**GOOD, "debtor_name": name, "creditor_name": creditor},
    )
    expected = (
        TEMPLATES["overdue-notice"]
        .texts["zh"]
        .body.replace("{debtor_name}", "\0")
        .replace("{creditor_name}", "\1")
    )
    for key in ("claim_ref", "amount_due", "due_date", "pay_url", "agency_name"):
        value = {"amount_due": "¥1,234.56", "due_date": "2026年1月15日"}.get(key, GOOD[key])
        expected = expected.replace("{" + key + "}", value)
    assert m.body == expected.replace("\0", name).replace("\1", creditor)


def test_a_value_that_looks_like_a_placeholder_stays_as_it_is() -> None:
    m = render("reminder-1", channel="sms", variables={**GOOD, "debtor_name": "{pay_url}"})
    assert m.body.startswith("{pay_url}您好")


def test_template_definitions_are_checked() -> None:
    both = {"zh": Text(None, "{claim_ref}"), "en": Text(None, "{claim_ref}")}
    Template("ok", frozenset({"sms"}), both)
    with pytest.raises(ValueError, match="unknown variables"):
        Template("x", frozenset({"sms"}), {**both, "en": Text(None, "{national_id}")})
    with pytest.raises(ValueError, match="subject"):
        Template("x", frozenset({"email"}), both)
    with pytest.raises(ValueError, match="each of"):
        Template("x", frozenset({"sms"}), {"zh": both["zh"]})
    with pytest.raises(ValueError, match="channels"):
        Template("x", frozenset({"fax"}), both)
    assert {v for t in TEMPLATES.values() for v in t.variables} == VARIABLES


def test_digest_changes_with_the_content() -> None:
    a = message("reminder-1", "sms")
    b = render("reminder-1", channel="sms", variables={**GOOD, "amount_due": 123_457})
    assert a.digest() == message("reminder-1", "sms").digest()
    assert a.digest() != b.digest()
    assert a.digest() != message("reminder-1", "email").digest()


def _delivery(channel: str, to: str) -> Delivery:
    return Delivery(
        channel=channel,
        to=to,
        message_id="<abc@debtledger.invalid>",
        status=DeliveryStatus.SENT,
        at=datetime(2026, 2, 1, 9, 30, tzinfo=UTC),
        outcome="sent",
    )


def test_agency_record_names_nobody() -> None:
    m = message("reminder-1", "email")
    record = redacted(m, _delivery("email", EMAIL))
    assert record.as_dict() == {
        "template_id": "reminder-1",
        "channel": "email",
        "lang": "zh",
        "claim_ref": "BANK-A-0001",
        "at": "2026-02-01T09:30:00+00:00",
        "status": "sent",
        "outcome": "sent",
        "message_id": "<abc@debtledger.invalid>",
    }
    for shown in (repr(record), str(record.as_dict())):
        assert EMAIL not in shown and "zhang" not in shown
        assert DEBTOR_NAME not in shown


def test_agency_record_refuses_a_delivery_of_another_channel() -> None:
    with pytest.raises(InvalidInput) as info:
        redacted(message("reminder-1", "email"), _delivery("sms", "+8613812345678"))
    assert info.value.field == "channel"
