"""The group committer: one thread that sends what writers stored, together.

Writers store their transactions in the outbox and wake it; it flushes everything pending
in one batch (one block on the local node), and again while more arrives.
"""

from __future__ import annotations

import logging
import threading

from debtledger.chain.writer import ChainWriter
from debtledger.errors import ChainError

log = logging.getLogger(__name__)


class Committer:
    def __init__(self, writer: ChainWriter, idle_s: float = 1.0) -> None:
        self.writer = writer
        self.idle_s = idle_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Committer:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="committer", daemon=True)
            self._thread.start()
        return self

    def wake(self) -> None:
        """Something was stored: commit soon (also starts the thread on first use)."""
        self.start()
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.idle_s)
            self._wake.clear()
            try:
                self.writer.flush()
            except ChainError as exc:  # the node is away: the outbox keeps it all
                log.warning("group commit failed, will retry: %s", exc)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
