"""Voice calls are recorded with the outcome the caller reports; `channel_for` builds each
channel from the settings, and the built channels really deliver."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from debtledger.collection.channels import (
    CallOutcome,
    Channel,
    DeliveryStatus,
    EmailChannel,
    SmsChannel,
    VoiceChannel,
    channel_for,
)
from debtledger.collection.sms_provider import ProviderHandle
from debtledger.collection.templates import redacted
from debtledger.config import get_settings
from debtledger.errors import ConfigError, InvalidInput
from tests.collection.conftest import DEBTOR_NAME, EMAIL, PHONE, TOKEN, SmtpServer, message


@pytest.mark.parametrize("outcome", list(CallOutcome))
def test_call_is_recorded_with_the_callers_outcome(outcome: CallOutcome) -> None:
    script = message("call-script-1", "voice")
    delivery = VoiceChannel().send("+86 138 1234 5678", script, outcome=outcome.value)
    assert delivery.outcome == outcome.value
    assert delivery.status is DeliveryStatus.SENT
    assert (delivery.channel, delivery.to) == ("voice", PHONE)
    assert delivery.message_id.startswith("call-")
    assert "13812345678" not in repr(delivery)
    record = redacted(script, delivery)
    assert record.outcome == outcome.value
    assert "5678" not in repr(record)


def test_call_time_is_kept_and_must_be_timezone_aware() -> None:
    script = message("call-script-1", "voice")
    at = datetime(2026, 3, 2, 10, 15, tzinfo=timezone(timedelta(hours=8)))
    delivery = VoiceChannel().send(PHONE, script, outcome=CallOutcome.PROMISE_TO_PAY, at=at)
    assert delivery.at == at
    with pytest.raises(InvalidInput) as info:
        VoiceChannel().send(PHONE, script, outcome="answered", at=datetime(2026, 3, 2, 10, 15))
    assert info.value.field == "at"
    now = VoiceChannel().send(PHONE, script, outcome="answered").at
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=5)


@pytest.mark.parametrize("outcome", [None, "picked_up", ""])
def test_call_needs_a_known_outcome(outcome: str | None) -> None:
    with pytest.raises(InvalidInput) as info:
        VoiceChannel().send(PHONE, message("call-script-1", "voice"), outcome=outcome)
    assert info.value.field == "outcome"


def test_call_checks_number_and_script() -> None:
    with pytest.raises(InvalidInput) as info:
        VoiceChannel().send("138 1234 5678", message("call-script-1", "voice"), outcome="answered")
    assert info.value.field == "phone"
    with pytest.raises(InvalidInput) as info:
        VoiceChannel().send(PHONE, message("reminder-1", "sms"), outcome="answered")
    assert info.value.field == "channel"


def test_call_script_is_the_rendered_template() -> None:
    script = message("call-script-1", "voice")
    assert "BANK-A-0001" in script.body and "¥1,234.56" in script.body
    assert "录音" in script.body  # the callee is told the call is recorded
    assert DEBTOR_NAME not in script.body


def test_channel_for_builds_each_channel_from_settings(tmp_path: Path) -> None:
    settings = get_settings(
        data_dir=tmp_path,
        smtp_host="mail.internal",
        smtp_port=2525,
        smtp_sender="noreply@ledger.example",
        sms_provider_url="http://sms.internal/messages",
        sms_provider_token="s3cret",
    )
    email = channel_for("email", settings, timeout=3.0)
    assert isinstance(email, EmailChannel)
    assert (email.host, email.port, email.sender, email.timeout) == (
        "mail.internal",
        2525,
        "noreply@ledger.example",
        3.0,
    )
    sms = channel_for("sms", settings)
    assert isinstance(sms, SmsChannel) and sms.url == "http://sms.internal/messages"
    assert "s3cret" not in repr(sms)
    assert isinstance(channel_for("voice", settings), VoiceChannel)
    for name in ("email", "sms", "voice"):
        built = channel_for(name, settings)
        assert isinstance(built, Channel) and built.name == name


def test_channel_for_refuses_unknown_channels_and_sms_without_token(tmp_path: Path) -> None:
    settings = get_settings(data_dir=tmp_path, sms_provider_token=None)
    assert isinstance(channel_for("sms", settings), SmsChannel)  # local: the local provider's
    remote = settings.model_copy(update={"mode": "consortium"})
    with pytest.raises(ConfigError):
        channel_for("sms", remote)
    with pytest.raises(InvalidInput) as info:
        channel_for("pager", settings)
    assert info.value.field == "channel"


def test_channels_from_settings_deliver(
    tmp_path: Path, smtp_server: SmtpServer, sms_provider: ProviderHandle
) -> None:
    settings = get_settings(
        data_dir=tmp_path,
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        sms_provider_url=sms_provider.url,
        sms_provider_token=TOKEN,
    )
    mail = channel_for("email", settings).send(EMAIL, message("legal-notice", "email"))
    text = channel_for("sms", settings).send(PHONE, message("payment-plan-offer", "sms"))
    assert len(smtp_server.mailbox.envelopes) == 1
    assert smtp_server.mailbox.envelopes[0].mail_from == settings.smtp_sender
    assert [m.id for m in sms_provider.messages()] == [text.message_id]
    assert mail.status is text.status is DeliveryStatus.SENT
