"""The repayment waterfall: how one payment is split over what the debtor owes.

Pure rules, no I/O. The buckets are paid in full one after another in a fixed order
(by default costs, then penalty, then interest, then principal); whatever is left once
every bucket is paid is an overpayment, returned as the remainder. Amounts are fen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from debtledger.domain._checks import check_int
from debtledger.errors import InvalidInput


class Bucket(StrEnum):
    COSTS = "costs"
    PENALTY = "penalty"
    INTEREST = "interest"
    PRINCIPAL = "principal"


DEFAULT_ORDER = (Bucket.COSTS, Bucket.PENALTY, Bucket.INTEREST, Bucket.PRINCIPAL)


def _bucket(name: object, field: str) -> Bucket:
    if isinstance(name, str) and name in Bucket.__members__.values():
        return Bucket(name)
    raise InvalidInput("unknown bucket (costs, penalty, interest or principal)", field=field)


def check_order(order: Sequence[Bucket | str]) -> tuple[Bucket, ...]:
    """An order that names every bucket exactly once."""
    buckets = tuple(_bucket(name, "order") for name in order)
    if len(set(buckets)) != len(buckets):
        raise InvalidInput("a bucket appears twice", field="order")
    if len(buckets) != len(Bucket):
        raise InvalidInput("every bucket must appear once", field="order")
    return buckets


@dataclass(frozen=True)
class Allocation:
    """One payment split over the buckets: `paid[b]` went to bucket b, `owed[b]` is what b
    still owes afterwards, `remainder` is the overpayment nothing was owed for."""

    payment: int
    order: tuple[Bucket, ...]
    paid: Mapping[Bucket, int]
    owed: Mapping[Bucket, int]
    remainder: int

    @property
    def applied(self) -> int:
        """The part of the payment that went to a bucket."""
        return self.payment - self.remainder


def allocate(
    payment: int,
    owed: Mapping[Bucket, int] | Mapping[str, int],
    order: Sequence[Bucket | str] = DEFAULT_ORDER,
) -> Allocation:
    """Split `payment` (fen) over what is `owed` per bucket (a bucket left out owes 0),
    paying each bucket in full, in `order`, before the next gets anything."""
    check_int(payment, "payment", minimum=0)
    buckets = check_order(order)
    due = dict.fromkeys(Bucket, 0)
    for name, amount in owed.items():
        bucket = _bucket(name, "owed")
        due[bucket] = check_int(amount, bucket.value, minimum=0)
    left = payment
    paid = dict.fromkeys(buckets, 0)
    for bucket in buckets:
        paid[bucket] = min(left, due[bucket])
        left -= paid[bucket]
    return Allocation(
        payment=payment,
        order=buckets,
        paid=MappingProxyType(paid),
        owed=MappingProxyType({b: due[b] - paid[b] for b in buckets}),
        remainder=left,
    )
