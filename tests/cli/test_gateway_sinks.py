"""`debtledger gateway sinks`: the local SMTP server and SMS provider `make run` starts
receive what the gateway's channels send, and stop on request."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from debtledger.cli.main import app
from debtledger.collection.channels import channel_for
from debtledger.collection.templates import render
from debtledger.config import get_settings
from tests.conftest import free_port

runner = CliRunner()
VARIABLES = {
    "claim_ref": "S-1",
    "debtor_name": "Demo Debtor",
    "creditor_name": "bank-a",
    "amount_due": 123_456,
    "due_date": "2026-01-01",
    "pay_url": "https://pay.example/S-1",
}


def test_sinks_receive_mail_and_sms_then_stop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEBTLEDGER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DEBTLEDGER_SMTP_PORT", str(free_port()))
    monkeypatch.setenv("DEBTLEDGER_SMS_PROVIDER_URL", f"http://127.0.0.1:{free_port()}/messages")
    started = runner.invoke(app, ["gateway", "sinks", "--detach", "--json"])
    assert started.exit_code == 0, started.stdout
    assert json.loads(started.stdout)["started"] is True
    try:
        again = runner.invoke(app, ["gateway", "sinks", "--detach", "--json"])
        assert json.loads(again.stdout)["started"] is False  # already listening
        settings = get_settings()
        mail = render("reminder-1", channel="email", variables=VARIABLES)
        assert channel_for("email", settings).send("debtor@example.com", mail).status == "sent"
        sms = render("reminder-1", channel="sms", variables=VARIABLES)
        assert channel_for("sms", settings).send("+8613812345678", sms).status == "sent"
        (eml,) = (tmp_path / "mail").glob("*.eml")
        assert b"debtor@example.com" in eml.read_bytes()
        (line,) = (tmp_path / "sms.jsonl").read_text().splitlines()
        assert json.loads(line)["to"] == "+8613812345678"
    finally:
        stopped = runner.invoke(app, ["gateway", "sinks", "--stop", "--json"])
    assert json.loads(stopped.stdout)["stopped"] is True


def test_sinks_are_for_local_mode_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEBTLEDGER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DEBTLEDGER_MODE", "consortium")
    monkeypatch.setenv("DEBTLEDGER_KEY_PASSWORD", "x" * 20)
    monkeypatch.setenv("DEBTLEDGER_LINKAGE_KEY", "11" * 32)
    monkeypatch.setenv("DEBTLEDGER_VAULT_MASTER_KEYS", "k1:" + "22" * 32)
    result = runner.invoke(app, ["gateway", "sinks"])
    assert result.exit_code == 1 and "local mode" in result.stderr
