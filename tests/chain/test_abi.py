"""The fast encoder of batch calls agrees with eth_abi byte for byte, and refuses what
eth_abi refuses."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import encode
from eth_utils import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from debtledger.chain.abi import ContractABI
from debtledger.chain.compile import CONTRACTS, compile_contract

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


def _value(abi_type: str) -> st.SearchStrategy[object]:
    if abi_type.startswith("uint"):
        return st.integers(0, 2 ** int(abi_type[4:]) - 1)
    if abi_type == "address":
        return st.binary(min_size=20, max_size=20).map(lambda b: to_checksum_address(b))
    if abi_type == "bool":
        return st.booleans()
    return st.binary(min_size=int(abi_type[5:]), max_size=int(abi_type[5:]))


def _log(abi: ContractABI, item: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """A raw log (JSON-RPC shape) of event `item` with `values`, encoded by eth_abi."""
    indexed = [i for i in item["inputs"] if i["indexed"]]
    plain = [i for i in item["inputs"] if not i["indexed"]]
    topics = ["0x" + abi.event_topics[item["name"]].hex()] + [
        "0x" + encode([i["type"]], [values[i["name"]]]).hex() for i in indexed
    ]
    body = encode([i["type"] for i in plain], [values[i["name"]] for i in plain])
    return {
        "topics": topics,
        "data": "0x" + body.hex(),
        "address": "0x" + "11" * 20,
        "blockNumber": "0x5",
        "transactionHash": "0x" + "22" * 32,
        "logIndex": "0x0",
    }


@settings(max_examples=100)
@given(st.data())
def test_fast_log_decoding_equals_eth_abi(data: st.DataObject) -> None:
    """Every registry event, random values: topics and data encoded by eth_abi, decoded back."""
    item = data.draw(st.sampled_from(list(REGISTRY.events.values())))
    values = {i["name"]: data.draw(_value(i["type"])) for i in item["inputs"]}
    event = REGISTRY.decode_log(_log(REGISTRY, item, values))
    assert event is not None and event.name == item["name"]
    assert event.args == values


def _any_value(abi_type: str) -> st.SearchStrategy[object]:
    if abi_type.endswith("[]"):
        return st.lists(_any_value(abi_type[:-2]), max_size=5).map(tuple)
    if abi_type.startswith("int"):
        bits = int(abi_type[3:])
        return st.integers(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    return _value(abi_type)


ALL_EVENTS = [
    (name, item)
    for name in CONTRACTS
    for item in ContractABI(compile_contract(name).abi).events.values()
    if all(i["type"] != "tuple" for i in item["inputs"])
]


@settings(max_examples=200)
@given(st.data())
def test_every_contracts_events_decode_as_eth_abi_encodes_them(data: st.DataObject) -> None:
    """Every event of every contract without struct fields, arrays and signed ints included
    (a dynamic array in a log's data must not be read as one word)."""
    name, item = data.draw(st.sampled_from(ALL_EVENTS))
    abi = ContractABI(compile_contract(name).abi)
    values = {i["name"]: data.draw(_any_value(i["type"])) for i in item["inputs"]}
    event = abi.decode_log(_log(abi, item, values))
    assert event is not None and event.name == item["name"]
    assert {k: tuple(v) if isinstance(v, list) else v for k, v in event.args.items()} == values


def test_address_arrays_in_events_are_checksummed_like_addresses() -> None:
    abi = ContractABI(compile_contract("CollectionPolicy").abi)
    item = next(e for e in abi.events.values() if e["name"] == "BudgetSharesSet")
    creditors = (
        "0x000000000000000000000000000000000000000A",
        to_checksum_address("0x" + "ab" * 20),
    )
    topics = [
        "0x" + abi.event_topics["BudgetSharesSet"].hex(),
        "0x" + "11" * 32,
        "0x" + encode(["address"], ["0x" + "22" * 20]).hex(),
    ]
    body = encode(["address[]", "uint8[]"], [creditors, (3, 4)])
    log = {
        "topics": topics,
        "data": "0x" + body.hex(),
        "address": "0x" + "11" * 20,
        "blockNumber": "0x5",
        "transactionHash": "0x" + "22" * 32,
        "logIndex": "0x0",
    }
    event = abi.decode_log(log)
    assert event is not None and item["name"] == event.name
    assert tuple(event.args["creditors"]) == creditors and tuple(event.args["parts"]) == (3, 4)
