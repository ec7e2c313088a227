"""Encode calls and decode results, reverts and events from a contract's ABI (eth_abi)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_abi import decode, encode
from eth_utils import keccak, to_checksum_address

ERROR_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)


def _type(item: dict[str, Any]) -> str:
    """Canonical ABI type, tuples spelled out: `(bytes32,uint128)[]`."""
    t: str = item["type"]
    if t.startswith("tuple"):
        return "(" + ",".join(_type(c) for c in item["components"]) + ")" + t[len("tuple") :]
    return t


def _normalise(value: Any, item: dict[str, Any]) -> Any:
    """Addresses checksummed, at any depth of tuples and arrays."""
    t: str = item["type"]
    if t.endswith("]"):
        inner = {**item, "type": t[: t.rindex("[")]}
        return [_normalise(v, inner) for v in value]
    if t == "tuple":
        return tuple(_normalise(v, c) for v, c in zip(value, item["components"], strict=True))
    if t == "address":
        return to_checksum_address(value)
    return value


_STATIC = re.compile(r"^(uint(8|16|32|64|128|256)|bytes([1-9]|[12][0-9]|3[0-2])|address|bool)$")


def _static_array_components(inputs: list[dict[str, Any]]) -> list[str] | None:
    """Component types when the only input is an array of tuples of static elementary
    types (the batch calls): those are encoded by the fast path below."""
    if len(inputs) != 1 or inputs[0]["type"] != "tuple[]":
        return None
    types = [c["type"] for c in inputs[0]["components"]]
    return types if all(_STATIC.match(t) for t in types) else None


def _word(abi_type: str, value: Any) -> bytes:
    if abi_type.startswith("uint"):
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or not 0 <= value < 1 << int(abi_type[4:])
        ):
            raise ValueError(f"{value!r} is not a {abi_type}")
        return value.to_bytes(32, "big")
    if abi_type.startswith("bytes"):
        if not isinstance(value, bytes) or len(value) != int(abi_type[5:]):
            raise ValueError(f"{value!r} is not {abi_type}")
        return value.ljust(32, b"\0")
    if abi_type == "address":
        return bytes.fromhex(to_checksum_address(value)[2:]).rjust(32, b"\0")
    if abi_type == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"{value!r} is not a bool")
        return int(value).to_bytes(32, "big")
    raise ValueError(f"no fast encoding for {abi_type}")


def _encode_static_array(types: list[str], rows: Any) -> bytes:
    """ABI encoding of one `(static,...)[]` argument, ~40x faster than eth_abi's general
    encoder (a test checks both agree byte for byte)."""
    parts = [(32).to_bytes(32, "big"), len(rows).to_bytes(32, "big")]
    for row in rows:
        if len(row) != len(types):
            raise ValueError(f"expected {len(types)} fields, got {len(row)}")
        parts += [_word(t, v) for t, v in zip(types, row, strict=True)]
    return b"".join(parts)


@dataclass(frozen=True)
class Event:
    """A decoded log: event name, arguments, and where it sits on the chain."""

    name: str
    args: dict[str, Any]
    address: str
    block_number: int
    tx_hash: str
    log_index: int
    block_hash: str | None = None  # None when the node did not say (a pending log)


class ContractABI:
    """Functions by name and events by topic for one compiled contract."""

    def __init__(self, abi: list[dict[str, Any]]) -> None:
        self.functions: dict[str, dict[str, Any]] = {}
        self.events: dict[bytes, dict[str, Any]] = {}
        self.event_topics: dict[str, bytes] = {}
        self._layouts: dict[str, _EventLayout] = {}
        for item in abi:
            if item["type"] == "function":
                types = [_type(i) for i in item["inputs"]]
                selector = keccak(text=f"{item['name']}({','.join(types)})")[:4]
                self.functions[item["name"]] = {
                    **item,
                    "_types": types,
                    "_selector": selector,
                    "_static_array": _static_array_components(item["inputs"]),
                }
            elif item["type"] == "event":
                types = [_type(i) for i in item["inputs"]]
                topic = keccak(text=f"{item['name']}({','.join(types)})")
                self.events[topic] = item
                self.event_topics[item["name"]] = topic

    def encode_call(self, name: str, args: list[Any] | tuple[Any, ...]) -> bytes:
        fn = self.functions[name]
        static = fn.get("_static_array")
        if static is not None and len(args) == 1:
            return bytes(fn["_selector"]) + _encode_static_array(static, args[0])
        return bytes(fn["_selector"]) + encode(fn["_types"], list(args))

    def decode_output(self, name: str, data: bytes) -> Any:
        outputs = self.functions[name]["outputs"]
        values = decode([_type(o) for o in outputs], data)
        values = tuple(_normalise(v, o) for v, o in zip(values, outputs, strict=True))
        return values[0] if len(values) == 1 else values

    def decode_log(self, log: dict[str, Any]) -> Event | None:
        """Decode one raw log (JSON-RPC shape); None when it is not one of ours."""
        topics = log["topics"]
        item = self.events.get(bytes.fromhex(topics[0][2:])) if topics else None
        if item is None:
            return None
        layout = self._layouts.get(item["name"])
        if layout is None:
            layout = self._layouts[item["name"]] = _EventLayout(item)
        return Event(
            name=item["name"],
            args=layout.decode(topics, log["data"]),
            address=_checksum(log["address"]),
            block_number=int(log["blockNumber"], 16),
            tx_hash=log["transactionHash"],
            log_index=int(log["logIndex"], 16),
            block_hash=log.get("blockHash"),
        )


@functools.lru_cache(maxsize=4096)
def _checksum(address: str) -> str:
    return str(to_checksum_address(address))


def _static_word(abi_type: str) -> Callable[[bytes], Any] | None:
    """A decoder of one 32-byte word of a static elementary type (None: not one)."""
    if "[" in abi_type or "(" in abi_type:  # arrays and tuples take the full decoder
        return None
    if abi_type.startswith("uint"):
        return lambda w: int.from_bytes(w, "big")
    if abi_type.startswith("bytes") and abi_type != "bytes":
        size = int(abi_type[5:])
        return lambda w: bytes(w[:size])
    if abi_type == "address":
        return lambda w: _checksum("0x" + w[12:].hex())
    if abi_type == "bool":
        return lambda w: w[31] == 1
    return None


class _EventLayout:
    """How one event's topics and data decode: word by word when every field is a static
    elementary type (the indexer decodes every log; eth_abi's general decoder is the slow
    path), through eth_abi otherwise."""

    def __init__(self, item: dict[str, Any]) -> None:
        inputs = item["inputs"]
        self.indexed = [(i["name"], _type(i)) for i in inputs if i["indexed"]]
        self.plain = [(i["name"], _type(i)) for i in inputs if not i["indexed"]]
        self.addresses = [i["name"] for i in inputs if i["type"] == "address"]
        self.address_arrays = [i["name"] for i in inputs if i["type"] == "address[]"]
        words = [_static_word(t) for _, t in self.indexed + self.plain]
        self.fast = all(w is not None for w in words)
        self.words = words

    def decode(self, topics: list[str], data_hex: str) -> dict[str, Any]:
        data = bytes.fromhex(data_hex[2:])
        raw_topics = [bytes.fromhex(t[2:]) for t in topics[1:]]
        if self.fast:
            values = raw_topics + [data[i : i + 32] for i in range(0, 32 * len(self.plain), 32)]
            names = [n for n, _ in self.indexed + self.plain]
            return {n: w(v) for n, w, v in zip(names, self.words, values, strict=True)}  # type: ignore[misc]
        args: dict[str, Any] = {}
        for (name, t), topic in zip(self.indexed, raw_topics, strict=True):
            (args[name],) = decode([t], topic)
        for (name, _), value in zip(
            self.plain, decode([t for _, t in self.plain], data), strict=True
        ):
            args[name] = value
        for name in self.addresses:
            args[name] = _checksum(args[name])
        for name in self.address_arrays:
            args[name] = tuple(_checksum(a) for a in args[name])
        return args


def decode_revert(data: str | bytes | None) -> str | None:
    """The message of an `Error(string)` revert payload, or None for anything else."""
    if data is None:
        return None
    raw = bytes.fromhex(data.removeprefix("0x")) if isinstance(data, str) else data
    if raw[:4] != ERROR_SELECTOR:
        return None
    (message,) = decode(["string"], raw[4:])
    return str(message)
