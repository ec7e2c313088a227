"""Splitting one payment among claims by share of what they owe: exact to the fen, never
more than a claim owes, within one fen of the exact share, the same whatever the order.

Examples per property: DEBTLEDGER_HYPOTHESIS_EXAMPLES (default 300).
"""

from __future__ import annotations

import os
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from debtledger.domain.split import split
from debtledger.errors import InvalidInput

SETTINGS = settings(
    max_examples=int(os.environ.get("DEBTLEDGER_HYPOTHESIS_EXAMPLES", "300")), deadline=None
)

claims = st.dictionaries(
    st.text("0123456789abcdef", min_size=1, max_size=4),
    st.one_of(st.integers(0, 10), st.integers(0, 10**12)),
    min_size=1,
    max_size=12,
)


@st.composite
def payments(draw: st.DrawFn) -> tuple[int, dict[str, int]]:
    owed = draw(claims)
    return draw(st.integers(0, sum(owed.values()))), owed


def test_an_odd_amount_by_share() -> None:
    # 30,000 : 20,000 : 20,000 of 10,001 fen is 4,286.14 : 2,857.43 : 2,857.43.
    parts = split(10_001, {"c1": 30_000, "c2": 20_000, "c3": 20_000})
    assert parts == {"c1": 4_286, "c2": 2_858, "c3": 2_857}


def test_ties_go_to_the_smaller_key() -> None:
    assert split(1, {"b": 5, "a": 5}) == {"a": 1, "b": 0}
    assert split(2, {"b": 1, "a": 1, "c": 1}) == {"a": 1, "b": 1, "c": 0}


def test_largest_remainder_wins_the_spare_fen() -> None:
    # Exact shares 1.6, 1.4: the spare fen goes to the larger fraction, not the first key.
    assert split(3, {"a": 7, "b": 8}) == {"a": 1, "b": 2}


def test_paying_everything_clears_every_claim() -> None:
    owed = {"a": 1, "b": 999, "c": 0}
    assert split(1_000, owed) == owed


def test_nothing_to_pay_and_nothing_owed() -> None:
    assert split(0, {"a": 5, "b": 7}) == {"a": 0, "b": 0}
    assert split(0, {}) == {}


@pytest.mark.parametrize(
    ("amount", "owed", "field"),
    [
        (11, {"a": 5, "b": 5}, "amount"),
        (-1, {"a": 5}, "amount"),
        (1.5, {"a": 5}, "amount"),
        (True, {"a": 5}, "amount"),
        (1, {"a": -5, "b": 10}, "outstanding"),
        (1, {"a": 2.0}, "outstanding"),
        (1, {}, "amount"),
    ],
)
def test_bad_input_names_the_field(amount: object, owed: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        split(amount, owed)  # type: ignore[arg-type]
    assert err.value.field == field


@SETTINGS
@given(payments())
def test_sums_exactly_and_never_pays_more_than_owed(case: tuple[int, dict[str, int]]) -> None:
    amount, owed = case
    parts = split(amount, owed)
    assert sum(parts.values()) == amount
    assert set(parts) == set(owed)
    assert all(0 <= parts[k] <= owed[k] for k in owed)


@SETTINGS
@given(payments())
def test_each_part_is_within_a_fen_of_its_exact_share(case: tuple[int, dict[str, int]]) -> None:
    amount, owed = case
    total = sum(owed.values())
    for key, part in split(amount, owed).items():
        exact = Fraction(amount * owed[key], total) if total else Fraction(0)
        assert abs(part - exact) < 1
        assert part in (
            exact.numerator // exact.denominator,
            -(-exact.numerator // exact.denominator),
        )


@SETTINGS
@given(payments(), st.randoms(use_true_random=False))
def test_order_of_the_claims_does_not_matter(case: tuple[int, dict[str, int]], rnd: object) -> None:
    amount, owed = case
    items = list(owed.items())
    rnd.shuffle(items)  # type: ignore[attr-defined]
    shuffled = dict(items)
    assert split(amount, shuffled) == split(amount, owed)
    assert list(split(amount, shuffled)) == sorted(owed)


@SETTINGS
@given(payments())
def test_more_owed_never_gets_less(case: tuple[int, dict[str, int]]) -> None:
    amount, owed = case
    parts = split(amount, owed)
    for a in owed:
        for b in owed:
            if owed[a] > owed[b]:
                assert parts[a] >= parts[b]
