"""JSON-RPC over HTTP: the one client every chain call goes through."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import requests

from debtledger.chain.abi import decode_revert
from debtledger.chain.reverts import refusal
from debtledger.errors import ChainError, NodeUnavailable

_ids = itertools.count(1)


@dataclass
class Rpc:
    """A keep-alive JSON-RPC client with batches; node errors become ChainError.

    One HTTP session per thread: the group commit runs beside the thread that signs.
    """

    url: str
    timeout: float = 120.0
    _local: threading.local = field(default_factory=threading.local)

    @property
    def session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def call(self, method: str, params: list[Any] | None = None) -> Any:
        (reply,) = self.batch([(method, params or [])])
        if "error" in reply:
            raise node_error(method, reply["error"])
        return reply["result"]

    def batch(self, calls: Sequence[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
        """Send calls in one JSON-RPC batch; replies in the order of the calls."""
        if not calls:
            return []
        body = [{"jsonrpc": "2.0", "id": next(_ids), "method": m, "params": p} for m, p in calls]
        try:
            resp = self.session.post(
                self.url,
                data=json.dumps(body),
                timeout=self.timeout,
                headers={"Content-Type": "application/json"},
            )
            replies = resp.json()
        except requests.RequestException as exc:
            raise NodeUnavailable(f"node at {self.url} does not answer") from exc
        except ValueError as exc:
            raise NodeUnavailable(
                f"node at {self.url} sent a broken reply (it may have died)"
            ) from exc
        if isinstance(replies, dict):  # a node that answers a whole batch with one error
            raise node_error(calls[0][0], replies.get("error", replies))
        by_id = {r.get("id"): r for r in replies}
        return [by_id.get(b["id"], {"error": {"message": "no reply"}}) for b in body]


def node_error(method: str, error: dict[str, Any]) -> ChainError:
    """A contract refusal when the node reports a revert, otherwise a ChainError."""
    message = decode_revert(error.get("data")) if isinstance(error.get("data"), str) else None
    if message is None:
        text = str(error.get("message", ""))
        if "execution reverted: " in text:
            message = text.split("execution reverted: ", 1)[1]
    if message:
        return refusal(message)
    return ChainError(f"{method}: {error.get('message', error)}")
