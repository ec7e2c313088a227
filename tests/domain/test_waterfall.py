"""The repayment waterfall: money is conserved to the fen and buckets are paid in order.

Examples per property: DEBTLEDGER_HYPOTHESIS_EXAMPLES (default 300).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from debtledger.domain.waterfall import DEFAULT_ORDER, Bucket, allocate
from debtledger.errors import InvalidInput

SETTINGS = settings(
    max_examples=int(os.environ.get("DEBTLEDGER_HYPOTHESIS_EXAMPLES", "300")), deadline=None
)
OWED = {"costs": 1_000, "penalty": 500, "interest": 2_000, "principal": 100_000}


def test_default_order_is_costs_penalty_interest_principal() -> None:
    a = allocate(2_000, OWED)
    assert dict(a.paid) == {"costs": 1_000, "penalty": 500, "interest": 500, "principal": 0}
    assert a.owed[Bucket.INTEREST] == 1_500
    assert a.owed[Bucket.PRINCIPAL] == 100_000
    assert a.remainder == 0
    assert a.order == DEFAULT_ORDER


def test_overpayment_is_returned_as_remainder() -> None:
    a = allocate(110_000, OWED)
    assert dict(a.paid) == OWED
    assert a.remainder == 6_500
    assert a.applied == 103_500
    assert all(v == 0 for v in a.owed.values())


def test_custom_order_pays_principal_first() -> None:
    a = allocate(100_500, OWED, ["principal", "interest", "penalty", "costs"])
    assert a.paid[Bucket.PRINCIPAL] == 100_000
    assert a.paid[Bucket.INTEREST] == 500
    assert a.paid[Bucket.PENALTY] == a.paid[Bucket.COSTS] == 0


def test_bucket_left_out_owes_nothing() -> None:
    a = allocate(700, {"principal": 500})
    assert a.paid[Bucket.PRINCIPAL] == 500
    assert a.paid[Bucket.COSTS] == 0
    assert a.remainder == 200


@pytest.mark.parametrize(
    "order",
    [
        ["costs", "penalty", "interest"],
        ["costs", "penalty", "interest", "principal", "costs"],
        ["costs", "penalty", "penalty", "principal"],
        ["costs", "penalty", "interest", "fees"],
    ],
)
def test_invalid_order_is_refused(order: list[str]) -> None:
    with pytest.raises(InvalidInput) as info:
        allocate(100, OWED, order)
    assert info.value.field == "order"


@pytest.mark.parametrize(
    ("payment", "owed", "field"),
    [
        (-1, OWED, "payment"),
        (10.0, OWED, "payment"),
        (100, {**OWED, "costs": -5}, "costs"),
        (100, {**OWED, "fees": 5}, "owed"),
    ],
)
def test_bad_amounts_are_refused(payment: int, owed: dict[str, int], field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        allocate(payment, owed)
    assert info.value.field == field


amounts = st.integers(min_value=0, max_value=10**12)


@SETTINGS
@given(
    payment=amounts,
    owed=st.fixed_dictionaries({b: st.one_of(st.just(0), amounts) for b in Bucket}),
    order=st.permutations(list(Bucket)),
)
def test_conserves_money_and_respects_the_order(
    payment: int, owed: dict[Bucket, int], order: list[Bucket]
) -> None:
    a = allocate(payment, owed, order)
    assert sum(a.paid.values()) + a.remainder == payment
    for bucket in Bucket:
        assert 0 <= a.paid[bucket] <= owed[bucket]
        assert a.paid[bucket] + a.owed[bucket] == owed[bucket]
    for i, bucket in enumerate(order):
        if a.paid[bucket] > 0:
            assert all(a.owed[earlier] == 0 for earlier in order[:i])
    # Money is only left over once everything is paid, and nothing is left unpaid needlessly.
    assert a.remainder == 0 or all(v == 0 for v in a.owed.values())
    assert a.applied == min(payment, sum(owed.values()))
