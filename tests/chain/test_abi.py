"""The fast encoder of batch calls agrees with eth_abi byte for byte, and refuses what
eth_abi refuses."""

from __future__ import annotations

import pytest
from eth_abi import encode
from hypothesis import given, settings
from hypothesis import strategies as st

from debtledger.chain.abi import ContractABI
from debtledger.chain.compile import compile_contract

REGISTRY = ContractABI(compile_contract("ClaimRegistry").abi)
CLAIM = st.tuples(
    st.binary(min_size=32, max_size=32),
    st.binary(min_size=32, max_size=32),
    st.integers(0, 2**256 - 1),
    st.integers(0, 2**256 - 1),
    st.binary(min_size=32, max_size=32),
)


@settings(max_examples=200)
@given(st.lists(CLAIM, max_size=20))
def test_fast_batch_encoding_equals_eth_abi(claims: list[tuple[object, ...]]) -> None:
    fn = REGISTRY.functions["register_batch"]
    assert fn["_static_array"] is not None  # the fast path is the one under test
    expected = bytes(fn["_selector"]) + encode(
        ["(bytes32,bytes32,uint256,uint256,bytes32)[]"], [claims]
    )
    assert REGISTRY.encode_call("register_batch", [claims]) == expected


@pytest.mark.parametrize(
    "bad",
    [
        (b"\1" * 32, b"\2" * 32, -1, 0, b"\3" * 32),
        (b"\1" * 32, b"\2" * 32, 2**256, 0, b"\3" * 32),
        (b"\1" * 31, b"\2" * 32, 1, 0, b"\3" * 32),
        (b"\1" * 32, b"\2" * 32, 1, 0, b"\3" * 33),
        (b"\1" * 32, b"\2" * 32, True, 0, b"\3" * 32),
        (b"\1" * 32, b"\2" * 32, 1, 0),
    ],
)
def test_fast_encoder_refuses_out_of_range_values(bad: tuple[object, ...]) -> None:
    with pytest.raises(ValueError):
        REGISTRY.encode_call("register_batch", [[bad]])
