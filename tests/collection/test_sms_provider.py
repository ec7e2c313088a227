"""The local SMS provider: only the token holder may send or list; every message is kept,
once per client_ref, in memory and in its JSONL file, across restarts."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
import requests

from debtledger.collection.sms_provider import ProviderHandle, start_provider
from debtledger.errors import InvalidInput
from tests.collection.conftest import PHONE, TOKEN
from tests.conftest import free_port

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def post(url: str, body: Any, headers: dict[str, str] | None = None) -> requests.Response:
    return requests.post(url, json=body, headers=AUTH if headers is None else headers, timeout=5)


def sms(ref: str = "r-1", to: str = PHONE) -> dict[str, str]:
    return {"to": to, "text": "您好", "client_ref": ref}


def test_send_then_list(sms_provider: ProviderHandle) -> None:
    resp = post(sms_provider.url, sms())
    assert resp.status_code == 201
    reply = resp.json()
    assert reply["status"] == "delivered" and reply["id"].startswith("sms-")
    listed = requests.get(sms_provider.url, headers=AUTH, timeout=5)
    assert listed.status_code == 200
    (item,) = listed.json()["messages"]
    assert (item["id"], item["to"], item["text"], item["client_ref"]) == (
        reply["id"],
        PHONE,
        "您好",
        "r-1",
    )


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}]
)
def test_token_is_required_to_send_and_to_list(
    sms_provider: ProviderHandle, headers: dict[str, str]
) -> None:
    assert post(sms_provider.url, sms(), headers).status_code == 401
    assert requests.get(sms_provider.url, headers=headers, timeout=5).status_code == 401
    assert sms_provider.messages() == []


def test_duplicate_client_ref_is_answered_but_not_sent_again(
    sms_provider: ProviderHandle,
) -> None:
    first = post(sms_provider.url, sms("dup"))
    second = post(sms_provider.url, {**sms("dup"), "text": "another text"})
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json() == second.json()
    (only,) = sms_provider.messages()
    assert only.text == "您好"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"to": PHONE, "text": "x"}, 400),
        ({"to": PHONE, "text": "x", "client_ref": 5}, 400),
        ({"to": PHONE, "text": "", "client_ref": "r"}, 400),
        ({"to": PHONE, "text": "x" * 2001, "client_ref": "r"}, 400),
        ({"to": PHONE, "text": "x", "client_ref": "a b"}, 400),
        ({"to": "13812345678", "text": "x", "client_ref": "r"}, 422),
        (["not", "an", "object"], 400),
    ],
)
def test_bad_requests_are_refused(sms_provider: ProviderHandle, body: Any, status: int) -> None:
    resp = post(sms_provider.url, body)
    assert resp.status_code == status
    assert "13812345678" not in resp.text
    assert sms_provider.messages() == []


def test_other_paths_and_huge_bodies_are_refused(sms_provider: ProviderHandle) -> None:
    base = sms_provider.url.removesuffix("/messages")
    assert post(f"{base}/other", sms()).status_code == 404
    # Announced, not sent: the provider must refuse on the length before reading a byte.
    port = int(base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(
            b"POST /messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer " + TOKEN.encode() + b"\r\nContent-Length: 65537\r\n\r\n"
        )
        status_line = conn.makefile("rb").readline()
    assert status_line.split()[1] == b"413"
    assert sms_provider.messages() == []


def test_messages_survive_a_restart_and_still_dedup(tmp_path: Path) -> None:
    path = tmp_path / "sms.jsonl"
    with start_provider("127.0.0.1", free_port(), TOKEN, path) as first:
        sent = post(first.url, sms("keep")).json()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == [sent["id"]]
    assert "您好" in lines[0]  # kept readable, not \u-escaped

    with start_provider("127.0.0.1", free_port(), TOKEN, path) as second:
        assert [m.id for m in second.messages()] == [sent["id"]]
        again = post(second.url, sms("keep"))
        assert again.status_code == 200 and again.json() == sent
        assert post(second.url, sms("new")).status_code == 201
        assert len(second.messages()) == 2
    assert len(path.read_text(encoding="utf-8").splitlines()) == 2


def test_a_cut_short_last_line_is_skipped_but_a_corrupt_one_is_not(tmp_path: Path) -> None:
    path = tmp_path / "sms.jsonl"
    with start_provider("127.0.0.1", free_port(), TOKEN, path) as p:
        post(p.url, sms("a"))
    good = path.read_text(encoding="utf-8")
    path.write_text(good + '{"id": "sms-cut', encoding="utf-8")
    with start_provider("127.0.0.1", free_port(), TOKEN, path) as p:
        assert [m.client_ref for m in p.messages()] == ["a"]
    path.write_text('{"id": "sms-cut\n' + good, encoding="utf-8")
    with pytest.raises(ValueError):
        start_provider("127.0.0.1", free_port(), TOKEN, path)


def test_port_zero_picks_a_free_port_and_stop_frees_it() -> None:
    handle = start_provider("127.0.0.1", 0, TOKEN)
    port = int(handle.url.rsplit(":", 1)[1].split("/")[0])
    assert port > 0
    assert post(handle.url, sms()).status_code == 201
    handle.stop()
    with pytest.raises(requests.ConnectionError):
        post(handle.url, sms("after"))


def test_repr_of_a_received_message_masks_the_number(sms_provider: ProviderHandle) -> None:
    post(sms_provider.url, sms())
    (sent,) = sms_provider.messages()
    assert "13812345678" not in repr(sent) and "您好" not in repr(sent)
    assert "***5678" in repr(sent)


def test_a_token_is_required_to_start() -> None:
    with pytest.raises(InvalidInput):
        start_provider("127.0.0.1", 0, "")
