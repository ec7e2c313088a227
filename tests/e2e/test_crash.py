"""Crash trials: anvil is SIGKILLed at random moments under a workload of 2,000 writes.

After each restart (from the last atomic snapshot) the outbox is reconciled with the chain.
At the end every write that was reported done is on chain exactly once and the ledger's
state equals the one the workload implies.
"""

from __future__ import annotations

import os
import random
import threading
from collections import Counter
from pathlib import Path

import pytest

from debtledger.chain.compile import CONTRACTS
from debtledger.chain.deploy import SETUP_WRITES
from debtledger.chain.node import LocalNode, Snapshotter
from debtledger.chain.writer import Write
from debtledger.errors import ChainError
from debtledger.store.outbox import Status
from tests.conftest import ORGS, Ledger, make_settings, new_claim

TRIALS = int(os.environ.get("DEBTLEDGER_CRASH_TRIALS", "5"))
CLAIMS = 1_000  # 1,000 registrations + 1,000 repayments = 2,000 writes per trial
CHUNK = 40


def _workload(ledger: Ledger, trial: int) -> list[list[Write]]:
    abi, at = ledger.rt.abi("ClaimRegistry"), ledger.rt.address("ClaimRegistry")
    regs = [
        Write(
            abi,
            at,
            "register",
            (new_claim(f"X{trial}-{i}", principal=10_000).as_tuple(),),
            f"reg:{trial}:{i}",
        )
        for i in range(CLAIMS)
    ]
    pays = [
        Write(
            abi,
            at,
            "record_repayment",
            (new_claim(f"X{trial}-{i}").claim_id, 1 + i % 7, b"\0" * 32),
            f"pay:{trial}:{i}",
        )
        for i in range(CLAIMS)
    ]
    writes = regs + pays
    return [writes[i : i + CHUNK] for i in range(0, len(writes), CHUNK)]


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(TRIALS))
def test_sigkill_loses_no_acknowledged_write(tmp_path: Path, trial: int) -> None:
    from debtledger.claims.service import ClaimService
    from debtledger.orgs.service import OrgService
    from debtledger.runtime import Runtime

    rng = random.Random(1000 + trial)
    settings = make_settings(tmp_path / "data")
    node = LocalNode(settings)
    node.start()
    snapshots = Snapshotter(node, interval_s=0.15).start()
    try:
        rt = Runtime(settings)
        orgs = OrgService(rt)
        orgs.deploy()
        for name, roles in ORGS.items():
            orgs.add(name, roles, idem_key=f"org:{name}")
        node.snapshot()
        ledger = Ledger(settings, node, rt, orgs, ClaimService(rt))
        chunks = _workload(ledger, trial)
        signer = orgs.account("bank-a")
        acknowledged: set[str] = set()
        kills = 0
        stop_killer = threading.Event()
        restarting = threading.Lock()

        def killer() -> None:
            nonlocal kills
            while not stop_killer.wait(rng.uniform(0.3, 1.2)):
                with restarting:
                    node.kill()
                kills += 1

        thread = threading.Thread(target=killer, daemon=True)
        thread.start()
        i = 0
        while i < len(chunks):
            try:
                done = ledger.rt.writer.execute(signer, chunks[i])
                acknowledged |= {e.idem_key for e in done if e.status is Status.MINED}
                i += 1
            except ChainError:
                with restarting:
                    if not node.is_running():
                        node.start()  # back from the last snapshot
                    ledger = ledger.reopen()
                    ledger.rt.writer  # noqa: B018 - a new process reconciles the outbox on open
        stop_killer.set()
        thread.join()
        if not node.is_running():
            node.start()
        ledger = ledger.reopen()

        assert kills >= 2
        assert len(acknowledged) == 2 * CLAIMS
        events = Counter(
            (e.name, e.args["claim_id"])
            for e in ledger.rt.events.events(0, address=ledger.rt.address("ClaimRegistry"))
        )
        for i in range(CLAIMS):
            cid = new_claim(f"X{trial}-{i}").claim_id
            counts = (events[("ClaimRegistered", cid)], events[("RepaymentRecorded", cid)])
            assert counts == (1, 1), f"claim {i}: (registered, repaid) = {counts}, {kills} kills"
            shown = ledger.claims.show(cid)
            assert (shown["owner"], shown["outstanding_fen"]) == ("bank-a", 10_000 - (1 + i % 7))
        deployment = len(CONTRACTS) + SETUP_WRITES
        assert ledger.rt.outbox.counts() == {"mined": 2 * CLAIMS + len(ORGS) + deployment}
    finally:
        snapshots.stop()
        node.stop(snapshot=False)
