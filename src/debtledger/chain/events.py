"""Decoded contract events: by claim and by block range."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from debtledger.chain.abi import ContractABI, Event
from debtledger.chain.rpc import Rpc

# Block span of one eth_getLogs request: nodes cap the size of a log query.
LOG_SPAN = 5_000


class EventReader:
    """Reads and decodes the events of the deployed contracts."""

    def __init__(self, rpc: Rpc, contracts: dict[str, ContractABI]) -> None:
        self.rpc = rpc
        self.contracts = contracts  # address -> ABI

    def events(
        self,
        from_block: int,
        to_block: int | None = None,
        *,
        claim_ids: Sequence[bytes] | None = None,
        names: Sequence[str] | None = None,
        address: str | None = None,
    ) -> Iterator[Event]:
        """Events in [from_block, to_block] (default: head), oldest first.

        `claim_ids` keeps only events about those claims (the first indexed argument of every
        registry event is the claim id); `names` keeps only those events.
        """
        if to_block is None:
            to_block = int(self.rpc.call("eth_blockNumber"), 16)
        addresses = [address] if address else list(self.contracts)
        topics: list[object] = [None, None]
        if names:
            topics[0] = ["0x" + self._topic(n).hex() for n in names]
        if claim_ids is not None:
            topics[1] = ["0x" + c.hex() for c in claim_ids]
        start = from_block
        while start <= to_block:
            end = min(start + LOG_SPAN - 1, to_block)
            logs = self.rpc.call(
                "eth_getLogs",
                [
                    {
                        "fromBlock": hex(start),
                        "toBlock": hex(end),
                        "address": addresses,
                        "topics": topics,
                    }
                ],
            )
            for log in logs:
                abi = self.contracts.get(_checksum_key(log["address"], self.contracts))
                event = abi.decode_log(log) if abi else None
                if event is not None:
                    yield event
            start = end + 1

    def _topic(self, name: str) -> bytes:
        for abi in self.contracts.values():
            if name in abi.event_topics:
                return abi.event_topics[name]
        raise KeyError(f"no event named {name}")


def _checksum_key(address: str, contracts: dict[str, ContractABI]) -> str:
    lower = address.lower()
    for key in contracts:
        if key.lower() == lower:
            return key
    return address
