"""SMS through the provider's HTTP API: sent with the bearer token and an idempotency key,
never twice for one key; refusals, timeouts and broken connections raise DeliveryFailed
without the number."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
import requests

from debtledger.collection.channels import DeliveryStatus, SmsChannel
from debtledger.collection.sms_provider import ProviderHandle
from debtledger.errors import ConfigError, DeliveryFailed, InvalidInput
from tests.collection.conftest import PHONE, TOKEN, Reply, ScriptedServer, message
from tests.conftest import free_port

ScriptedFactory = Callable[[Callable[[int, bytes], Reply]], ScriptedServer]


def test_message_reaches_the_provider(sms_provider: ProviderHandle) -> None:
    m = message("reminder-1", "sms")
    delivery = SmsChannel(sms_provider.url, TOKEN).send("+86 138 1234 5678", m)

    (sent,) = sms_provider.messages()
    assert (sent.to, sent.text, sent.client_ref) == (PHONE, m.body, delivery.client_ref)
    assert delivery.message_id == sent.id
    assert delivery.status is DeliveryStatus.SENT
    assert delivery.outcome == "delivered"
    assert (delivery.channel, delivery.to) == ("sms", PHONE)
    assert "13812345678" not in repr(delivery) and "***5678" in repr(delivery)


def test_request_carries_token_and_the_documented_body(scripted_server: ScriptedFactory) -> None:
    def provider(n: int, body: bytes) -> Reply:
        return 201, json.dumps({"id": "p-1", "status": "queued"}).encode()

    server = scripted_server(provider)
    m = message("overdue-notice", "sms", "en")
    delivery = SmsChannel(server.url, TOKEN).send(PHONE, m, client_ref="auth-42")
    (raw,) = server.requests
    assert json.loads(raw) == {"to": PHONE, "text": m.body, "client_ref": "auth-42"}
    assert (delivery.message_id, delivery.outcome, delivery.client_ref) == (
        "p-1",
        "queued",
        "auth-42",
    )
    (headers,) = server.headers
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert headers["Content-Type"] == "application/json"


def test_wrong_token_is_refused(sms_provider: ProviderHandle) -> None:
    with pytest.raises(DeliveryFailed) as info:
        SmsChannel(sms_provider.url, "not-the-token").send(PHONE, message("reminder-1", "sms"))
    assert info.value.status == 401
    assert "13812345678" not in str(info.value)
    assert sms_provider.messages() == []


def test_same_client_ref_is_delivered_once(sms_provider: ProviderHandle) -> None:
    ch = SmsChannel(sms_provider.url, TOKEN)
    m = message("reminder-1", "sms")
    first = ch.send(PHONE, m, client_ref="contact-7")
    again = ch.send(PHONE, m, client_ref="contact-7")
    assert again.message_id == first.message_id
    assert len(sms_provider.messages()) == 1
    other = ch.send(PHONE, m)
    assert other.message_id != first.message_id
    assert len(sms_provider.messages()) == 2


def test_provider_reports_an_unreachable_phone_as_failed(sms_provider: ProviderHandle) -> None:
    delivery = SmsChannel(sms_provider.url, TOKEN).send(
        "+8613900000000", message("reminder-1", "sms")
    )
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.outcome == "failed"


def test_provider_down_raises_unreachable() -> None:
    url = f"http://127.0.0.1:{free_port()}/messages"
    with pytest.raises(DeliveryFailed) as info:
        SmsChannel(url, TOKEN, timeout=2.0).send(PHONE, message("reminder-1", "sms"))
    assert info.value.status == "unreachable"
    assert "13812345678" not in str(info.value)


def test_provider_that_does_not_answer_times_out(silent_port: int) -> None:
    url = f"http://127.0.0.1:{silent_port}/messages"
    started = time.monotonic()
    with pytest.raises(DeliveryFailed) as info:
        SmsChannel(url, TOKEN, timeout=0.3).send(PHONE, message("reminder-1", "sms"))
    assert info.value.status == "timeout"
    assert time.monotonic() - started < 2.0  # not retried: it may have been delivered


def _forward_to(provider: ProviderHandle, drop_first: bool) -> Callable[[int, bytes], Reply]:
    """A proxy in front of the provider that passes the request on and, the first time,
    loses the reply: the SMS went out but the sender cannot know."""

    def forward(n: int, body: bytes) -> Reply:
        resp = requests.post(
            provider.url,
            data=body,
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
            timeout=5,
        )
        if drop_first and n == 1:
            return None
        return resp.status_code, resp.content

    return forward


def test_lost_reply_is_retried_once_and_delivered_once(
    sms_provider: ProviderHandle, scripted_server: ScriptedFactory
) -> None:
    proxy = scripted_server(_forward_to(sms_provider, drop_first=True))
    delivery = SmsChannel(proxy.url, TOKEN).send(PHONE, message("reminder-1", "sms"))
    assert len(proxy.requests) == 2
    assert proxy.requests[0] == proxy.requests[1]  # same client_ref: the provider dedups
    (sent,) = sms_provider.messages()
    assert delivery.message_id == sent.id


def test_no_retry_when_the_provider_does_not_deduplicate(
    sms_provider: ProviderHandle, scripted_server: ScriptedFactory
) -> None:
    proxy = scripted_server(_forward_to(sms_provider, drop_first=True))
    with pytest.raises(DeliveryFailed) as info:
        SmsChannel(proxy.url, TOKEN, dedup=False).send(PHONE, message("reminder-1", "sms"))
    assert info.value.status == "unreachable"
    assert len(proxy.requests) == 1
    assert len(sms_provider.messages()) == 1  # it did go out: resending could send it twice


def test_connection_broken_twice_gives_up(scripted_server: ScriptedFactory) -> None:
    proxy = scripted_server(lambda n, body: None)
    with pytest.raises(DeliveryFailed) as info:
        SmsChannel(proxy.url, TOKEN).send(PHONE, message("reminder-1", "sms"))
    assert info.value.status == "unreachable"
    assert len(proxy.requests) == 2


@pytest.mark.parametrize("status", [400, 429, 500, 503])
def test_non_2xx_raises_with_the_status(scripted_server: ScriptedFactory, status: int) -> None:
    server = scripted_server(lambda n, body: (status, b'{"error": "+8613812345678 refused"}'))
    with pytest.raises(DeliveryFailed) as info:
        SmsChannel(server.url, TOKEN).send(PHONE, message("reminder-1", "sms"))
    assert info.value.status == status
    assert "13812345678" not in str(info.value)
    assert len(server.requests) == 1  # an answer, even an error, is never retried


@pytest.mark.parametrize(
    "body", [b"not json", b"[]", b'{"id": "", "status": "queued"}', b'{"id": "x"}']
)
def test_malformed_reply_raises(scripted_server: ScriptedFactory, body: bytes) -> None:
    server = scripted_server(lambda n, _: (200, body))
    with pytest.raises(DeliveryFailed) as info:
        SmsChannel(server.url, TOKEN).send(PHONE, message("reminder-1", "sms"))
    assert info.value.status == "reply"


def test_bad_number_is_refused_before_sending(sms_provider: ProviderHandle) -> None:
    with pytest.raises(InvalidInput) as info:
        SmsChannel(sms_provider.url, TOKEN).send("13812345678", message("reminder-1", "sms"))
    assert info.value.field == "phone"
    assert "13812345678" not in str(info.value)
    assert sms_provider.messages() == []


def test_bad_client_ref_and_wrong_channel_are_refused(sms_provider: ProviderHandle) -> None:
    ch = SmsChannel(sms_provider.url, TOKEN)
    with pytest.raises(InvalidInput) as info:
        ch.send(PHONE, message("reminder-1", "sms"), client_ref="has space")
    assert info.value.field == "client_ref"
    with pytest.raises(InvalidInput) as info:
        ch.send(PHONE, message("reminder-1", "email"))
    assert info.value.field == "channel"
    assert sms_provider.messages() == []


def test_a_token_is_required() -> None:
    with pytest.raises(ConfigError):
        SmsChannel("http://127.0.0.1:1/messages", "")
    assert TOKEN not in repr(SmsChannel("http://127.0.0.1:1/messages", TOKEN))
