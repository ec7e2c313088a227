"""The compiled contracts hold no opcode newer than Shanghai (anvil and Besu/QBFT run them).

Vyper 0.4 lays the deploy bytecode out as: init code | runtime code | runtime data sections |
CBOR metadata | 2-byte metadata length. The metadata gives the runtime and data lengths, so
only real code is walked; PUSH immediates are skipped.
"""

from importlib import resources

import cbor2
import pytest
from vyper import compiler
from vyper.compiler.settings import Settings

from debtledger.chain.compile import CONTRACTS, EVM_VERSION, compile_contract, source

POST_SHANGHAI = {
    0x49: "BLOBHASH",
    0x4A: "BLOBBASEFEE",
    0x5C: "TLOAD",
    0x5D: "TSTORE",
    0x5E: "MCOPY",
}
PUSH1, PUSH32 = 0x60, 0x7F

# Every contract the package ships, deployed by `debtledger deploy` (CONTRACTS) or not yet.
SHIPPED = sorted(
    f.name.removesuffix(".vy")
    for f in resources.files("debtledger.contracts").iterdir()
    if f.name.endswith(".vy")
)


def opcodes(code: bytes) -> list[int]:
    """The opcodes of `code`, PUSH immediates skipped; the last PUSH must fit in `code`."""
    ops, pc = [], 0
    while pc < len(code):
        op = code[pc]
        ops.append(op)
        pc += 1 + (op - PUSH1 + 1 if PUSH1 <= op <= PUSH32 else 0)
    assert pc == len(code), "code ends inside PUSH data: wrong code/data boundary"
    return ops


def code_sections(bytecode: bytes) -> tuple[bytes, bytes, bytes]:
    """Split deploy bytecode into (init code, whole runtime, runtime code without its data)."""
    footer = int.from_bytes(bytecode[-2:], "big")  # counts its own 2 bytes
    _integrity, runtime_len, data_lengths, _immutables, tag = cbor2.loads(bytecode[-footer:-2])
    assert "vyper" in tag
    runtime_start = len(bytecode) - footer - runtime_len
    runtime = bytecode[runtime_start:-footer]
    return bytecode[:runtime_start], runtime, runtime[: runtime_len - sum(data_lengths)]


def newer_than_shanghai(code: bytes) -> set[str]:
    return {POST_SHANGHAI[op] for op in opcodes(code) if op in POST_SHANGHAI}


@pytest.mark.parametrize("name", SHIPPED)
def test_no_opcode_newer_than_shanghai(name):
    artifact = compile_contract(name)
    assert artifact.evm_version == EVM_VERSION == "shanghai"
    init, runtime, runtime_code = code_sections(artifact.bytecode)
    assert runtime == artifact.runtime  # the split found the real runtime
    assert init and runtime_code
    assert newer_than_shanghai(init) == set()
    assert newer_than_shanghai(runtime_code) == set()
    assert 0x5F in opcodes(runtime_code)  # PUSH0: Shanghai is really the target


@pytest.mark.parametrize("name", SHIPPED)
def test_checker_sees_cancun_build(name):
    """The same source built for Cancun uses MCOPY, and the checker catches it."""
    out = compiler.compile_code(
        source(name), output_formats=["bytecode"], settings=Settings(evm_version="cancun")
    )
    _, _, runtime_code = code_sections(bytes.fromhex(out["bytecode"].removeprefix("0x")))
    assert "MCOPY" in newer_than_shanghai(runtime_code)


def test_every_deployed_contract_is_checked():
    assert set(CONTRACTS) <= set(SHIPPED) and "EvidenceAnchor" in SHIPPED


def test_checker_flags_each_newer_opcode_but_not_push_data():
    for op, name in POST_SHANGHAI.items():
        assert newer_than_shanghai(bytes([0x5F, op, 0x00])) == {name}
    # 0x5e as the operand of PUSH2 (0x61) is data, not MCOPY
    assert newer_than_shanghai(bytes([0x61, 0x5E, 0x5C, 0x50])) == set()


def test_walk_refuses_code_ending_inside_push_data():
    with pytest.raises(AssertionError, match="PUSH data"):
        opcodes(bytes([0x00, 0x62, 0x01]))
