"""(b) `gas`: gas per claim of register_batch in batches of 200 on the real node, from the
receipts' gasUsed (intrinsic and calldata gas included), against the storage floor and
against a baseline registry that keeps every claim field in storage
(bench/contracts/FullStorageRegistry.vy), both deployed on the same node in the same run.

The storage floor is 22,100 gas (cold SSTORE of a zero slot, EIP-2929 + EIP-2200) per new
slot a registration writes; the slots are counted, not assumed: a prestateTracer diff
(debug_traceCall, diffMode) of one more batch of 200 lists the storage slots it creates.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from bench._common import CONTRACTS_DIR, Figure, fresh_ledger, log, ratio, report, size, write_csv

BATCH = 200
NEW_SLOT_GAS = 22_100  # 2,100 cold access + 20,000 zero -> non-zero
GOAL_VS_FLOOR = 1.3
GOAL_VS_FULL = 0.4


def compile_baseline() -> tuple[list[dict[str, Any]], bytes]:
    from vyper import compiler
    from vyper.compiler.settings import Settings as VyperSettings

    from debtledger.chain.compile import EVM_VERSION

    path = CONTRACTS_DIR / "FullStorageRegistry.vy"
    out = compiler.compile_code(
        path.read_text(),
        contract_path=path.name,
        output_formats=["abi", "bytecode"],
        settings=VyperSettings(evm_version=EVM_VERSION),
    )
    return out["abi"], bytes.fromhex(out["bytecode"].removeprefix("0x"))


def calldata_gas(data: bytes) -> int:
    zeros = data.count(0)
    return 4 * zeros + 16 * (len(data) - zeros)


def new_slots(led: Any, sender: str, at: str, data: bytes) -> int | None:
    """Storage slots of `at` that a call would create (zero before, non-zero after)."""
    tx = {"from": sender, "to": at, "data": "0x" + data.hex(), "gas": hex(100_000_000)}
    try:
        diff = led.rt.writer.rpc.call(
            "debug_traceCall",
            [tx, "latest", {"tracer": "prestateTracer", "tracerConfig": {"diffMode": True}}],
        )
    except Exception as exc:  # noqa: BLE001 - a node without the tracer: say so, go on
        log(f"  (prestateTracer unavailable: {exc})")
        return None
    pre = {k.lower(): v for k, v in diff.get("pre", {}).items()}
    post = {k.lower(): v for k, v in diff.get("post", {}).items()}
    before = pre.get(at.lower(), {}).get("storage", {})
    after = post.get(at.lower(), {}).get("storage", {})
    return sum(
        1 for k, v in after.items() if int(v, 16) != 0 and int(before.get(k, "0x0"), 16) == 0
    )


def unpacked(c: Any) -> tuple[Any, ...]:
    """The baseline's seven-field input (ClaimRegistry packs amounts and terms)."""
    from debtledger.domain.claims import due_timestamp

    return (
        c.claim_id,
        c.debtor,
        c.principal,
        c.outstanding,
        c.currency.encode(),
        due_timestamp(c.due_date),
        c.record_hash,
    )


def measure(
    led: Any, abi: Any, at: str, claims: list[Any], label: str, encode: Any = None
) -> dict[str, float]:
    from debtledger.chain.writer import Write

    encode = encode or (lambda c: c.as_tuple())
    signer = led.orgs.account("bank-a")
    writer = led.rt.writer
    *batches, probe = [claims[i : i + BATCH] for i in range(0, len(claims), BATCH)]
    writes = [
        Write(abi, at, "register_batch", ([encode(c) for c in b],), f"bench-gas:{label}:{i}")
        for i, b in enumerate(batches)
    ]
    entries = writer.execute(signer, writes)
    used = []
    for e in entries:
        receipt = writer.rpc.call("eth_getTransactionReceipt", [e.tx_hash])
        assert int(receipt["status"], 16) == 1
        used.append(int(receipt["gasUsed"], 16))
    per_claim = sum(used) / (len(used) * BATCH)
    data = writes[0].calldata()
    intrinsic = (21_000 + calldata_gas(data)) / BATCH
    slots = new_slots(
        led, signer.address, at, abi.encode_call("register_batch", [[encode(c) for c in probe]])
    )
    slots_per_claim = slots / BATCH if slots is not None else float("nan")
    log(
        f"  {label:22s} {per_claim:9,.0f} gas/claim over {len(used)} txs of {BATCH} "
        f"(min {min(used) / BATCH:,.0f}, max {max(used) / BATCH:,.0f}); intrinsic+calldata "
        f"{intrinsic:,.0f}/claim; new storage slots/claim {slots_per_claim:g}"
    )
    return {"per_claim": per_claim, "slots_per_claim": slots_per_claim, "intrinsic": intrinsic}


def run() -> list[Figure]:
    from eth_utils import to_checksum_address

    from debtledger.chain.abi import ContractABI
    from debtledger.chain.writer import Write
    from debtledger.claims.service import read_claims_csv

    n_batches = size("GAS_BATCHES", 5, 3)
    log(f"[gas] register_batch, {n_batches} batches of {BATCH} per contract, same node")
    base_abi_json, base_init = compile_baseline()
    with tempfile.TemporaryDirectory(prefix="debtledger-bench-csv-") as tmp:
        path = write_csv(Path(tmp) / "gas.csv", (n_batches + 1) * BATCH, prefix="GAS")
        claims, bad, _ = read_claims_csv(path)
        assert not bad
    from eth_abi import encode

    with fresh_ledger() as led:
        admin = led.orgs.admin()
        init = base_init + encode(["address"], [led.rt.address("Consortium")])
        (entry,) = led.rt.writer.execute(
            admin,
            [Write(None, None, "deploy FullStorageRegistry", (), "bench-gas:deploy", data=init)],
        )
        receipt = led.rt.writer.rpc.call("eth_getTransactionReceipt", [entry.tx_hash])
        base_at = to_checksum_address(receipt["contractAddress"])
        ours = measure(
            led,
            led.rt.abi("ClaimRegistry"),
            led.rt.address("ClaimRegistry"),
            claims,
            "ClaimRegistry",
        )
        full = measure(
            led, ContractABI(base_abi_json), base_at, claims, "FullStorageRegistry", unpacked
        )

    slots = ours["slots_per_claim"]
    notes = []
    if slots != slots:  # NaN: no tracer, fall back to the registry's documented layout
        slots = 2.0
        notes.append("slots per claim not measured (no prestateTracer): the registry's 2 assumed")
    floor = NEW_SLOT_GAS * slots
    r_full = ratio(ours["per_claim"], full["per_claim"])
    r_floor = ratio(ours["per_claim"], floor)
    return [
        report(
            Figure(
                name="gas_per_claim",
                value=ours["per_claim"],
                unit="gas/claim",
                baseline=f"full_storage_registry (FullStorageRegistry.vy, "
                f"{full['slots_per_claim']:g} slots/claim, batches of {BATCH})",
                baseline_value=full["per_claim"],
                ratio=r_full,
                goal=f"ratio <= {GOAL_VS_FULL}",
                met=r_full <= GOAL_VS_FULL,
            )
        ),
        report(
            Figure(
                name="gas_vs_storage_floor",
                value=ours["per_claim"],
                unit="gas/claim",
                baseline=f"storage_floor ({NEW_SLOT_GAS:,} gas x {slots:g} new slots/claim, "
                "slots counted by prestateTracer)",
                baseline_value=floor,
                ratio=r_floor,
                goal=f"ratio <= {GOAL_VS_FLOOR}",
                met=r_floor <= GOAL_VS_FLOOR,
                notes=notes,
            )
        ),
    ]
