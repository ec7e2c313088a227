"""Penalty interest: exact accrual, floor rounding per claim-year, annual and total caps.

Examples per property: DEBTLEDGER_HYPOTHESIS_EXAMPLES (default 300).
"""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from debtledger.domain.interest import (
    PenaltyState,
    PenaltyTerms,
    accrue,
    anniversary,
    claim_year_start,
)
from debtledger.errors import InvalidInput

SETTINGS = settings(
    max_examples=int(os.environ.get("DEBTLEDGER_HYPOTHESIS_EXAMPLES", "300")), deadline=None
)
ORIGIN = date(2026, 1, 10)


def start(
    principal: int, rate: str = "0.0005", annual: str = "0.24", total: str = "1"
) -> PenaltyState:
    terms = PenaltyTerms.of(daily_rate=rate, annual_cap=annual, total_cap=total)
    return PenaltyState.start(terms, principal=principal, origin=ORIGIN)


def run(state: PenaltyState, steps: list[tuple[int, int]]) -> tuple[int, PenaltyState]:
    """Accrue (days, outstanding) steps in turn; the total booked and the last state."""
    total = 0
    for days, outstanding in steps:
        amount, state = accrue(
            state, outstanding=outstanding, until=state.through + timedelta(days=days)
        )
        total += amount
    return total, state


def test_exact_simple_interest() -> None:
    # 1,000.00 CNY at 0.05% a day for 30 days is 15.00 CNY.
    amount, state = accrue(start(100_000), outstanding=100_000, until=ORIGIN + timedelta(days=30))
    assert amount == 1_500
    assert state.booked == 1_500
    assert state.through == ORIGIN + timedelta(days=30)


def test_rounds_down_on_the_years_running_total_not_per_period() -> None:
    # 333 fen at 0.05% a day: 0.1665 fen a day.
    state = start(333)
    per_day = [accrue(state, outstanding=333, until=ORIGIN + timedelta(days=1))[0]]
    assert per_day == [0]
    total, _ = run(state, [(1, 333)] * 10)
    assert total == 1  # floor(1.665), not 10 x floor(0.1665)
    total, _ = run(state, [(1, 333)] * 13)
    assert total == 2  # floor(2.1645)


def test_annual_cap_binds_then_the_next_claim_year_starts_afresh() -> None:
    # 0.1% a day is 36.5% a year; the cap is 24% of principal per claim-year.
    state = start(100_000, rate="0.001", annual="0.24", total="10")
    year_one, state = accrue(state, outstanding=100_000, until=anniversary(ORIGIN, 1))
    assert year_one == 24_000
    next_day, state = accrue(state, outstanding=100_000, until=state.through + timedelta(days=1))
    assert next_day == 100


def test_total_cap_binds_over_the_claims_life() -> None:
    state = start(100_000, rate="0.001", annual="0.24", total="0.5")
    booked, state = accrue(state, outstanding=100_000, until=anniversary(ORIGIN, 5))
    assert booked == state.booked == 50_000
    more, state = accrue(state, outstanding=100_000, until=anniversary(ORIGIN, 6))
    assert more == 0


def test_partly_repaid_principal_accrues_less() -> None:
    total, _ = run(start(100_000), [(10, 100_000), (10, 40_000), (10, 0)])
    assert total == 500 + 200


def test_claim_years_have_365_or_366_days() -> None:
    assert (anniversary(date(2023, 3, 1), 1) - date(2023, 3, 1)).days == 366
    assert (anniversary(date(2024, 3, 1), 1) - date(2024, 3, 1)).days == 365
    leap = date(2024, 2, 29)
    assert anniversary(leap, 1) == date(2025, 2, 28)
    assert anniversary(leap, 4) == date(2028, 2, 29)
    assert claim_year_start(leap, date(2025, 2, 27)) == leap
    assert claim_year_start(leap, date(2025, 2, 28)) == date(2025, 2, 28)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0.0005, "not a float"),
        ("-0.1", "between 0"),
        ("NaN", "between 0"),
        ("abc", "decimal number"),
        ("0.00000000001", "decimal places"),
        ("1e9", "between 0"),
    ],
)
def test_bad_rates_are_refused(value: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as info:
        PenaltyTerms.of(daily_rate=value, annual_cap="0.24", total_cap="1")  # type: ignore[arg-type]
    assert info.value.field == "daily_rate"


def test_terms_built_directly_must_hold_decimals() -> None:
    with pytest.raises(InvalidInput):
        PenaltyTerms(daily_rate=0.001, annual_cap=Decimal("0.24"), total_cap=Decimal(1))  # type: ignore[arg-type]


def test_accrual_cannot_go_back_or_exceed_principal() -> None:
    _, state = accrue(start(1_000), outstanding=1_000, until=ORIGIN + timedelta(days=5))
    with pytest.raises(InvalidInput) as info:
        accrue(state, outstanding=1_000, until=ORIGIN + timedelta(days=4))
    assert info.value.field == "until"
    with pytest.raises(InvalidInput) as info:
        accrue(state, outstanding=1_001, until=ORIGIN + timedelta(days=6))
    assert info.value.field == "outstanding"


# Properties ------------------------------------------------------------------------------

rates = st.sampled_from(["0", "0.0001", "0.00033", "0.0005", "0.001", "0.0123456789"])
caps = st.sampled_from(["0", "0.036", "0.24", "0.365", "1"])
principals = st.integers(min_value=0, max_value=10**9)


@st.composite
def histories(draw: st.DrawFn) -> tuple[PenaltyState, list[tuple[int, int]]]:
    principal = draw(principals)
    terms = PenaltyTerms.of(daily_rate=draw(rates), annual_cap=draw(caps), total_cap=draw(caps))
    origin = draw(st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)))
    steps = draw(
        st.lists(st.tuples(st.integers(0, 400), st.integers(0, principal)), min_size=1, max_size=8)
    )
    return PenaltyState.start(terms, principal=principal, origin=origin), steps


def exact_oracle(state: PenaltyState, steps: list[tuple[int, int]]) -> int:
    """The rules from the module docstring, restated with fractions, day by day."""
    terms, p = state.terms, state.principal
    year_cap = int(p * terms.annual_cap)  # floor: both are non-negative
    total_cap = int(p * terms.total_cap)
    per_year: dict[date, Fraction] = defaultdict(Fraction)
    day = state.origin
    for days, outstanding in steps:
        for _ in range(days):
            per_year[claim_year_start(state.origin, day)] += outstanding * Fraction(
                terms.daily_rate
            )
            day += timedelta(days=1)
    return min(total_cap, sum(min(year_cap, int(v)) for v in per_year.values()))


@SETTINGS
@given(case=histories())
def test_matches_the_stated_rules(case: tuple[PenaltyState, list[tuple[int, int]]]) -> None:
    state, steps = case
    total, end = run(state, steps)
    assert total == end.booked == exact_oracle(state, steps)


@SETTINGS
@given(case=histories(), cut=st.integers(min_value=0, max_value=400))
def test_splitting_a_period_changes_nothing(
    case: tuple[PenaltyState, list[tuple[int, int]]], cut: int
) -> None:
    state, steps = case
    days, outstanding = steps[0]
    cut = min(cut, days)
    whole, _ = run(state, [(days, outstanding)])
    split, _ = run(state, [(cut, outstanding), (days - cut, outstanding)])
    assert split == whole


@SETTINGS
@given(case=histories())
def test_never_above_either_cap_in_any_claim_year(
    case: tuple[PenaltyState, list[tuple[int, int]]],
) -> None:
    state, steps = case
    year_cap = state.terms.year_cap_fen(state.principal)
    per_year: dict[date, int] = defaultdict(int)
    booked = 0
    for days, outstanding in steps:
        end = state.through + timedelta(days=days)
        while state.through < end:
            year = claim_year_start(state.origin, state.through)
            stop = min(end, anniversary(state.origin, year.year - state.origin.year + 1))
            amount, state = accrue(state, outstanding=outstanding, until=stop)
            assert amount >= 0  # monotone in time
            per_year[year] += amount
            booked += amount
    assert all(v <= year_cap for v in per_year.values())
    assert booked <= state.terms.total_cap_fen(state.principal)
    assert booked <= state.principal * state.terms.total_cap


@SETTINGS
@given(case=histories(), days=st.integers(min_value=0, max_value=2000))
def test_nothing_accrues_on_nothing_outstanding(
    case: tuple[PenaltyState, list[tuple[int, int]]], days: int
) -> None:
    state, steps = case
    _, state = run(state, steps)
    amount, later = accrue(state, outstanding=0, until=state.through + timedelta(days=days))
    assert amount == 0
    assert later.booked == state.booked
