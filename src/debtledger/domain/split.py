"""Splitting one payment among several claims by their share of what is owed, to the fen.

Pure rules, no I/O. A debtor of several creditors pays once; each claim gets the part of the
payment its outstanding amount is of the total (the largest-remainder, or Hamilton, method):
every claim first gets the whole fen of its exact share, and the fen left over go one each
to the claims with the largest fractions, ties to the smaller key. The parts add up to the
payment exactly, each is within one fen of the exact share, and the result depends only on
the amounts, never on the order they were given in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from debtledger.domain._checks import check_int
from debtledger.errors import InvalidInput

K = TypeVar("K", str, bytes)


def split(amount: int, outstanding: Mapping[K, int]) -> dict[K, int]:
    """Split `amount` (fen) among the claims of `outstanding` (key → fen owed) in proportion
    to what each owes; returns each key's part, in key order.

    No claim gets more than it owes: the payment may not exceed the total owed, and then an
    exact share a·o/T is at most o, so rounding a fractional share up still gives at most o
    (nothing is ever capped or handed on). A claim owing nothing gets nothing.
    """
    check_int(amount, "amount", minimum=0)
    owed = {key: check_int(value, "outstanding", minimum=0) for key, value in outstanding.items()}
    total = sum(owed.values())
    if amount > total:
        raise InvalidInput("the payment exceeds what the claims owe together", field="amount")
    keys = sorted(owed)
    if amount == 0:
        return dict.fromkeys(keys, 0)
    parts = {key: amount * owed[key] // total for key in keys}
    remainders = {key: amount * owed[key] % total for key in keys}
    left = amount - sum(parts.values())
    # `left` < the number of claims with a fraction, since each fraction is below one fen.
    for key in sorted(keys, key=lambda k: -remainders[k])[:left]:
        parts[key] += 1
    return parts
