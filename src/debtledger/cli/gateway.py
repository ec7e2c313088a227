"""`debtledger gateway sinks`: the local stand-ins of the outside world the gateway sends
to — an SMTP server that keeps every message in `data/mail/` and the local SMS provider
(`collection/sms_provider.py`) that keeps every SMS in `data/sms.jsonl` — so that
`make run` can show contacts end to end on one machine. Local mode only."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlparse

import typer

from debtledger.cli import background
from debtledger.cli.common import Json, settings
from debtledger.cli.output import emit, handled
from debtledger.collection.sms_provider import start_provider
from debtledger.config import Settings
from debtledger.errors import ConfigError

gateway_app = typer.Typer(help="The masked contact gateway's local sinks.", no_args_is_help=True)


def _ports_answer(s: Settings) -> bool:
    import socket

    sms = urlparse(s.sms_provider_url)
    for host, port in ((s.smtp_host, s.smtp_port), (sms.hostname, sms.port)):
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex((host or "127.0.0.1", port or 80)) != 0:
                return False
    return True


class _Maildir:
    """aiosmtpd handler: each accepted message as one .eml file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        (self.folder / f"{time.time_ns()}.eml").write_bytes(envelope.content)
        return "250 Message accepted for delivery"


@gateway_app.command("sinks")
@handled
def sinks(
    detach: Annotated[bool, typer.Option("--detach", help="Run in the background.")] = False,
    stop: Annotated[bool, typer.Option("--stop", help="Stop sinks started with --detach.")] = False,
    as_json: Json = False,
) -> None:
    """Run a local SMTP server and SMS provider on the configured ports (local mode)."""
    s = settings()
    if s.mode != "local":
        raise ConfigError("the local sinks are for local mode; use real SMTP and SMS providers")
    if stop:
        emit({"stopped": background.stop(s.data_dir, "sinks")}, as_json)
        return
    where = {"mail": str(s.data_dir / "mail"), "sms": str(s.data_dir / "sms.jsonl")}
    if _ports_answer(s):
        emit({**where, "started": False, "note": "already listening"}, as_json)
        return
    if detach:
        pid = background.spawn(["gateway", "sinks"], s.data_dir, "sinks", lambda: _ports_answer(s))
        emit({**where, "started": True, "pid": pid}, as_json)
        return
    from aiosmtpd.controller import Controller

    smtp = Controller(_Maildir(s.data_dir / "mail"), hostname=s.smtp_host, port=s.smtp_port)
    smtp.start()
    sms = urlparse(s.sms_provider_url)
    provider = start_provider(
        sms.hostname or "127.0.0.1", sms.port or 8026, s.sms_token or "", s.data_dir / "sms.jsonl"
    )
    typer.echo(f"SMTP on {s.smtp_host}:{s.smtp_port} → {where['mail']}; SMS on {provider.url}")
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    stopping.wait()
    provider.stop()
    smtp.stop()
