"""Fixtures for the delivery channels: a real SMTP server (aiosmtpd) and the local SMS
provider on free ports, plus a scripted HTTP server for providers that misbehave."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from debtledger.collection.sms_provider import ProviderHandle, start_provider
from debtledger.collection.templates import RenderedMessage, render
from tests.conftest import free_port

TOKEN = "test-provider-token"
EXAMPLES = int(os.environ.get("DEBTLEDGER_HYPOTHESIS_EXAMPLES", "200"))
DEBTOR_NAME = "张三丰"
EMAIL = "zhang.sanfeng@example.com"
PHONE = "+8613812345678"
VARIABLES: dict[str, Any] = {
    "debtor_name": DEBTOR_NAME,
    "creditor_name": "示例银行",
    "claim_ref": "BANK-A-0001",
    "amount_due": 123_456,
    "due_date": "2026-01-15",
    "pay_url": "https://pay.example.com/c/BANK-A-0001",
    "agency_name": "安信催收",
}


def message(template_id: str, channel: str, lang: str = "zh") -> RenderedMessage:
    return render(template_id, channel=channel, variables=VARIABLES, lang=lang)


@dataclass
class Mailbox:
    """What the SMTP server received; `refuse_recipients` makes it answer RCPT with 550."""

    envelopes: list[Envelope] = field(default_factory=list)
    refuse_recipients: bool = False

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.refuse_recipients:
            # Real servers quote the address: the error raised must still not carry it.
            return f"550 5.1.1 <{address}>: Recipient address rejected"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    host: str
    port: int
    mailbox: Mailbox


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", controller.port, mailbox)
    finally:
        controller.stop()


@pytest.fixture
def sms_provider(tmp_path: Path) -> Iterator[ProviderHandle]:
    handle = start_provider(
        "127.0.0.1", free_port(), TOKEN, tmp_path / "sms.jsonl", unreachable={"+8613900000000"}
    )
    try:
        yield handle
    finally:
        handle.stop()


# A reply the scripted server sends: (status, body), or None to close the connection
# without answering (what a network cut after the request looks like to the client).
Reply = tuple[int, bytes] | None


@dataclass
class ScriptedServer:
    """An HTTP server answering each POST with `script(n, body)` for the n-th request."""

    url: str
    requests: list[bytes]
    headers: list[dict[str, str]]
    server: ThreadingHTTPServer


@pytest.fixture
def scripted_server() -> Iterator[Callable[[Callable[[int, bytes], Reply]], ScriptedServer]]:
    servers: list[ThreadingHTTPServer] = []

    def start(script: Callable[[int, bytes], Reply]) -> ScriptedServer:
        seen: list[bytes] = []
        headers: list[dict[str, str]] = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                seen.append(body)
                headers.append(dict(self.headers.items()))
                reply = script(len(seen), body)
                if reply is None:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                status, data = reply
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}).start()
        servers.append(server)
        url = f"http://127.0.0.1:{server.server_address[1]}/messages"
        return ScriptedServer(url, seen, headers, server)

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield int(s.getsockname()[1])
