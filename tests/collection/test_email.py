"""E-mail through a real SMTP server: the message arrives as rendered, with our Message-ID;
a refusal or a server that is down raises DeliveryFailed without the address."""

from __future__ import annotations

import email
from email.message import EmailMessage
from email.policy import default

import pytest

from debtledger.collection.channels import DeliveryStatus, EmailChannel
from debtledger.errors import DeliveryFailed, InvalidInput
from tests.collection.conftest import DEBTOR_NAME, EMAIL, SmtpServer, message
from tests.conftest import free_port

SENDER = "collections@debtledger.invalid"


def channel(server: SmtpServer, timeout: float = 5.0) -> EmailChannel:
    return EmailChannel(server.host, server.port, SENDER, timeout)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_message_arrives_as_rendered(smtp_server: SmtpServer, lang: str) -> None:
    m = message("overdue-notice", "email", lang)
    delivery = channel(smtp_server).send(f"  {EMAIL} ", m)

    (envelope,) = smtp_server.mailbox.envelopes
    assert envelope.mail_from == SENDER
    assert envelope.rcpt_tos == [EMAIL]
    assert isinstance(envelope.content, bytes)
    mail = email.message_from_bytes(envelope.content, policy=default)
    assert isinstance(mail, EmailMessage)
    assert mail["To"] == EMAIL
    assert mail["From"] == SENDER
    assert mail["Subject"] == m.subject
    assert mail["Message-ID"] == delivery.message_id
    assert delivery.message_id.endswith("@debtledger.invalid>")
    assert mail.get_content_charset() == "utf-8"
    assert mail.get_content().rstrip("\n") == m.body
    # Headers travel as 7-bit ASCII (RFC 2047 encoded words for the Chinese subject).
    head = envelope.content.split(b"\r\n\r\n", 1)[0]
    head.decode("ascii")
    assert delivery.status is DeliveryStatus.SENT
    assert (delivery.channel, delivery.outcome, delivery.to) == ("email", "sent", EMAIL)
    assert delivery.at.tzinfo is not None


def test_each_message_gets_its_own_message_id(smtp_server: SmtpServer) -> None:
    ch = channel(smtp_server)
    first = ch.send(EMAIL, message("reminder-1", "email"))
    second = ch.send(EMAIL, message("reminder-1", "email"))
    assert first.message_id != second.message_id
    ids = [
        email.message_from_bytes(e.content, policy=default)["Message-ID"]
        for e in smtp_server.mailbox.envelopes
        if isinstance(e.content, bytes)
    ]
    assert ids == [first.message_id, second.message_id]


def test_delivery_repr_does_not_show_the_address(smtp_server: SmtpServer) -> None:
    delivery = channel(smtp_server).send(EMAIL, message("reminder-1", "email"))
    assert "zhang" not in repr(delivery) and "example.com" not in repr(delivery)
    assert "to='***'" in repr(delivery)


def test_refused_recipient_raises_without_the_address(smtp_server: SmtpServer) -> None:
    smtp_server.mailbox.refuse_recipients = True
    with pytest.raises(DeliveryFailed) as info:
        channel(smtp_server).send(EMAIL, message("reminder-1", "email"))
    assert info.value.status == 550
    assert info.value.channel == "email"
    assert "refused" in str(info.value)
    assert "zhang" not in str(info.value)
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__
    assert smtp_server.mailbox.envelopes == []


def test_server_down_raises_without_the_address() -> None:
    ch = EmailChannel("127.0.0.1", free_port(), SENDER, 2.0)
    with pytest.raises(DeliveryFailed) as info:
        ch.send(EMAIL, message("reminder-1", "email"))
    assert info.value.status == "unreachable"
    assert "zhang" not in str(info.value)
    assert "cannot be reached" in str(info.value)


def test_server_that_never_answers_times_out(silent_port: int) -> None:
    ch = EmailChannel("127.0.0.1", silent_port, SENDER, 0.3)
    with pytest.raises(DeliveryFailed) as info:
        ch.send(EMAIL, message("reminder-1", "email"))
    assert info.value.status == "timeout"


def test_bad_address_is_refused_before_sending(smtp_server: SmtpServer) -> None:
    with pytest.raises(InvalidInput) as info:
        channel(smtp_server).send("zhang@", message("reminder-1", "email"))
    assert info.value.field == "email"
    assert "zhang" not in str(info.value)
    assert smtp_server.mailbox.envelopes == []


def test_message_rendered_for_another_channel_is_refused(smtp_server: SmtpServer) -> None:
    with pytest.raises(InvalidInput) as info:
        channel(smtp_server).send(EMAIL, message("reminder-1", "sms"))
    assert info.value.field == "channel"
    assert smtp_server.mailbox.envelopes == []


def test_sender_must_be_an_address() -> None:
    with pytest.raises(InvalidInput) as info:
        EmailChannel("127.0.0.1", 25, "collections")
    assert info.value.field == "smtp_sender"


def test_the_name_appears_only_in_the_mail_itself(smtp_server: SmtpServer) -> None:
    m = message("reminder-1", "email")
    delivery = channel(smtp_server).send(EMAIL, m)
    assert DEBTOR_NAME in m.body
    assert DEBTOR_NAME not in repr(delivery) and DEBTOR_NAME not in repr(m)
