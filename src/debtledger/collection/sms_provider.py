"""A small local SMS provider speaking the API `SmsChannel` expects, for tests and the
local demo: nothing leaves the machine, every message is kept to be looked at.

POST /messages {to, text, client_ref} with `Authorization: Bearer <token>` answers
{id, status} (201 new, 200 for a client_ref seen before: the message is not sent twice);
GET /messages with the token lists what was received. With a file, messages are appended
to it as JSON lines and read back on start, so deduplication survives a restart.
"""

from __future__ import annotations

import argparse
import hmac
import json
import os
import re
import threading
import time
import uuid
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from debtledger.collection.channels import check_phone, mask_contact
from debtledger.errors import InvalidInput

PATH = "/messages"
MAX_BODY = 64 * 1024
MAX_TEXT = 2_000
_CLIENT_REF = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


@dataclass(frozen=True, repr=False)
class SentSms:
    """One message as the provider received it; `repr` masks the number and omits the text."""

    id: str
    client_ref: str
    to: str
    text: str
    status: str
    received_at: str

    def __repr__(self) -> str:
        return (
            f"SentSms(id={self.id!r}, client_ref={self.client_ref!r}, "
            f"to={mask_contact(self.to)!r}, status={self.status!r})"
        )


class _Store:
    """The provider's messages, by arrival and by client_ref, optionally in a JSONL file."""

    def __init__(self, token: str, path: Path | None, unreachable: Collection[str]) -> None:
        self.token = token.encode()
        self.path = path
        self.unreachable = frozenset(unreachable)
        self.lock = threading.Lock()
        self.messages: list[SentSms] = []
        self.by_ref: dict[str, SentSms] = {}
        if path is not None and path.exists():
            lines = path.read_text(encoding="utf-8").splitlines()
            for i, line in enumerate(lines):
                try:
                    sms = SentSms(**json.loads(line))
                except (ValueError, TypeError):
                    if i == len(lines) - 1:
                        break  # a write cut short by a crash: that message was never answered
                    raise
                self.messages.append(sms)
                self.by_ref[sms.client_ref] = sms

    def authorised(self, header: str | None) -> bool:
        scheme, _, given = (header or "").partition(" ")
        return scheme == "Bearer" and hmac.compare_digest(given.strip().encode(), self.token)

    def accept(self, to: str, text: str, client_ref: str) -> tuple[SentSms, bool]:
        """The message for `client_ref` and whether it is new."""
        with self.lock:
            seen = self.by_ref.get(client_ref)
            if seen is not None:
                return seen, False
            sms = SentSms(
                id=f"sms-{uuid.uuid4().hex}",
                client_ref=client_ref,
                to=to,
                text=text,
                status="failed" if to in self.unreachable else "delivered",
                received_at=datetime.now(UTC).isoformat(),
            )
            if self.path is not None:
                with self.path.open("a", encoding="utf-8") as f:
                    f.write(json.dumps(asdict(sms), ensure_ascii=False) + "\n")
                    f.flush()
                    os.fsync(f.fileno())
            self.messages.append(sms)
            self.by_ref[client_ref] = sms
            return sms, True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    store: _Store


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test output and the demo's console stay readable."""

    def _reply(self, code: int, body: object) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _guard(self) -> bool:
        if self.path.split("?", 1)[0] != PATH:
            self._reply(404, {"error": "not found"})
            return False
        if not self.server.store.authorised(self.headers.get("Authorization")):
            self._reply(401, {"error": "unauthorized"})
            return False
        return True

    def do_GET(self) -> None:
        if self._guard():
            with self.server.store.lock:
                listed = [asdict(m) for m in self.server.store.messages]
            self._reply(200, {"messages": listed})

    def do_POST(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or "-1")
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self.close_connection = True
            self._reply(413 if length > MAX_BODY else 411, {"error": "body length"})
            return
        raw = self.rfile.read(length)
        if not self._guard():
            return
        try:
            body = json.loads(raw)
        except ValueError:
            self._reply(400, {"error": "body must be JSON"})
            return
        if not (
            isinstance(body, dict)
            and all(isinstance(body.get(k), str) for k in ("to", "text", "client_ref"))
        ):
            self._reply(400, {"error": "body must be {to, text, client_ref} as strings"})
            return
        if not _CLIENT_REF.match(body["client_ref"]):
            self._reply(400, {"error": "client_ref must be 1-128 of A-Z a-z 0-9 . _ : -"})
            return
        if not 0 < len(body["text"]) <= MAX_TEXT:
            self._reply(400, {"error": f"text must be 1-{MAX_TEXT} characters"})
            return
        try:
            to = check_phone(body["to"])
        except InvalidInput:
            self._reply(422, {"error": "to is not a phone number in E.164 form"})
            return
        sms, new = self.server.store.accept(to, body["text"], body["client_ref"])
        self._reply(201 if new else 200, {"id": sms.id, "status": sms.status})


@dataclass
class ProviderHandle:
    """A running provider: its URL, what it received, and how to stop it."""

    url: str
    _server: _Server
    _thread: threading.Thread

    def messages(self) -> list[SentSms]:
        """Every message received, oldest first (duplicates of a client_ref appear once)."""
        store = self._server.store
        with store.lock:
            return list(store.messages)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> ProviderHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_provider(
    host: str,
    port: int,
    token: str,
    path: Path | str | None = None,
    *,
    unreachable: Collection[str] = (),
) -> ProviderHandle:
    """Start the provider in a background thread (port 0: any free port). `path` is an
    optional JSONL file of messages; numbers in `unreachable` get status "failed", as a
    phone that is switched off would."""
    if not token:
        raise InvalidInput("the provider needs a token", field="token")
    store = _Store(token, Path(path) if path is not None else None, unreachable)
    server = _Server((host, port), _Handler)
    server.store = store
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    bound_port = server.server_address[1]
    return ProviderHandle(f"http://{host}:{bound_port}{PATH}", server, thread)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the provider in the foreground until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8026)
    parser.add_argument("--token", default=os.environ.get("DEBTLEDGER_SMS_PROVIDER_TOKEN"))
    parser.add_argument("--file", type=Path, default=None, help="JSONL file of messages")
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("give --token or set DEBTLEDGER_SMS_PROVIDER_TOKEN")
    handle = start_provider(args.host, args.port, args.token, args.file)
    print(f"SMS provider listening on {handle.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        handle.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
