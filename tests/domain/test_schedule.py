"""Instalment schedules: exact sums, month-end clamping, seasonal plans, re-ageing, misses.

Examples per property: DEBTLEDGER_HYPOTHESIS_EXAMPLES (default 300).
"""

from __future__ import annotations

import os
from calendar import monthrange
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from debtledger.domain.schedule import (
    Instalment,
    Schedule,
    add_months,
    custom_schedule,
    equal_instalments,
    missed,
    paid_through,
    reage,
    seasonal,
    split_evenly,
)
from debtledger.errors import InvalidInput

SETTINGS = settings(
    max_examples=int(os.environ.get("DEBTLEDGER_HYPOTHESIS_EXAMPLES", "300")), deadline=None
)


def test_remainder_goes_to_the_first_instalments() -> None:
    assert split_evenly(1_000, 3) == (334, 333, 333)
    assert split_evenly(1_001, 3) == (334, 334, 333)
    assert split_evenly(999, 3) == (333, 333, 333)


def test_month_end_is_clamped_then_restored() -> None:
    s = equal_instalments(1_200, 4, date(2024, 1, 31))
    assert [i.due for i in s] == [
        date(2024, 1, 31),
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
    ]
    assert [i.due for i in equal_instalments(200, 2, date(2025, 1, 31))][1] == date(2025, 2, 28)
    assert add_months(date(2025, 11, 30), 3) == date(2026, 2, 28)
    assert add_months(date(2025, 3, 31), -1) == date(2025, 2, 28)


def test_quarterly_plan() -> None:
    s = equal_instalments(900, 3, date(2025, 11, 30), every_months=3)
    assert [i.due for i in s] == [date(2025, 11, 30), date(2026, 2, 28), date(2026, 5, 30)]
    assert [i.seq for i in s] == [1, 2, 3]


@pytest.mark.parametrize(("total", "n"), [(2, 3), (0, 1), (100, 0), (10**6, 361)])
def test_impossible_equal_splits_are_refused(total: int, n: int) -> None:
    with pytest.raises(InvalidInput):
        equal_instalments(total, n, date(2025, 1, 1))


def test_custom_schedule_is_validated() -> None:
    s = custom_schedule(1_000, [(date(2025, 1, 5), 100), (date(2025, 3, 1), 900)])
    assert [(i.seq, i.amount) for i in s] == [(1, 100), (2, 900)]
    with pytest.raises(InvalidInput, match="add up") as info:
        custom_schedule(1_000, [(date(2025, 1, 5), 100), (date(2025, 3, 1), 899)])
    assert info.value.field == "total"
    with pytest.raises(InvalidInput, match="increasing") as info:
        custom_schedule(1_000, [(date(2025, 3, 1), 100), (date(2025, 3, 1), 900)])
    assert info.value.row == 2
    with pytest.raises(InvalidInput) as info:
        custom_schedule(1_000, [(date(2025, 1, 5), 1_001), (date(2025, 3, 1), -1)])
    assert info.value.field == "amount"
    with pytest.raises(InvalidInput):
        custom_schedule(0, [])


def test_schedule_refuses_bad_numbering() -> None:
    with pytest.raises(InvalidInput) as info:
        Schedule((Instalment(1, date(2025, 1, 1), 5), Instalment(3, date(2025, 2, 1), 5)))
    assert info.value.field == "seq"


def test_seasonal_plan_pays_only_in_harvest_months() -> None:
    s = seasonal(100_000, date(2026, 3, 31), months={9, 10, 11}, count=6)
    assert [i.due for i in s] == [
        date(2026, 9, 30),
        date(2026, 10, 31),
        date(2026, 11, 30),
        date(2027, 9, 30),
        date(2027, 10, 31),
        date(2027, 11, 30),
    ]
    assert [i.amount for i in s] == [16_667] * 4 + [16_666] * 2
    # Starting inside the season, the start date itself is the first due date.
    assert seasonal(300, date(2026, 10, 15), months={9, 10, 11}, count=3)[1].due == date(
        2026, 10, 15
    )


@pytest.mark.parametrize("months", [set(), {0}, {13}, {9, True}])
def test_seasonal_refuses_bad_months(months: set[int]) -> None:
    with pytest.raises(InvalidInput) as info:
        seasonal(1_000, date(2026, 1, 1), months=months, count=2)
    assert info.value.field == "months"


def test_reage_spreads_what_remains_over_a_new_version() -> None:
    s = equal_instalments(1_000, 4, date(2025, 1, 15))  # 250 each
    r = reage(s, 1, date(2025, 6, 1))
    assert r.previous == s
    assert r.paid_through_seq == 1
    assert r.new.version == 2
    assert r.remaining == 750
    assert [(i.seq, i.due, i.amount) for i in r.new] == [
        (1, date(2025, 6, 1), 250),
        (2, date(2025, 7, 1), 250),
        (3, date(2025, 8, 1), 250),
    ]
    longer = reage(r.new, 0, date(2025, 6, 1), count=12, remaining=700)
    assert longer.new.version == 3
    assert len(longer.new) == 12 and longer.new.total == 700


def test_reage_is_refused_when_it_makes_no_sense() -> None:
    s = equal_instalments(1_000, 4, date(2025, 1, 15))
    with pytest.raises(InvalidInput) as info:
        reage(s, 4, date(2025, 6, 1))
    assert info.value.field == "paid_through_seq"
    with pytest.raises(InvalidInput) as info:
        reage(s, 2, date(2025, 2, 15))
    assert info.value.field == "new_first_date"
    with pytest.raises(InvalidInput) as info:
        reage(s, 2, date(2025, 6, 1), remaining=501)
    assert info.value.field == "remaining"


S = equal_instalments(300, 3, date(2025, 1, 10))  # 100 on 10 Jan, 10 Feb, 10 Mar


def test_nothing_missed_before_the_grace_period_ends() -> None:
    assert missed(S, {}, date(2025, 1, 10)) is None
    assert missed(S, {}, date(2025, 1, 13), grace_days=3) is None
    assert missed(S, {}, date(2025, 1, 14), grace_days=3) == S[1]


def test_paid_on_the_last_grace_day_is_on_time() -> None:
    paid = {date(2025, 1, 13): 100}
    assert missed(S, paid, date(2025, 2, 1), grace_days=3) is None
    assert missed(S, {date(2025, 1, 14): 100}, date(2025, 2, 1), grace_days=3) == S[1]


def test_payments_cover_instalments_in_order() -> None:
    # One early payment of 200 covers the first two instalments.
    assert missed(S, {date(2025, 1, 5): 200}, date(2025, 3, 1)) is None
    assert missed(S, {date(2025, 1, 5): 200}, date(2025, 3, 11)) == S[3]
    # Short by one fen.
    assert missed(S, {date(2025, 1, 5): 199}, date(2025, 3, 1)) == S[2]


def test_a_late_payment_does_not_undo_a_miss() -> None:
    assert missed(S, {date(2025, 2, 5): 100}, date(2025, 2, 6)) == S[1]


def test_paid_through_counts_whole_instalments() -> None:
    assert [paid_through(S, v) for v in (0, 99, 100, 250, 300, 10_000)] == [0, 0, 1, 2, 3, 3]


# Properties ------------------------------------------------------------------------------

totals = st.integers(min_value=1, max_value=10**12)
firsts = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1))


@SETTINGS
@given(total=totals, n=st.integers(min_value=1, max_value=120), first=firsts)
def test_equal_instalments_sum_exactly(total: int, n: int, first: date) -> None:
    n = min(n, total)
    s = equal_instalments(total, n, first)
    amounts = [i.amount for i in s]
    assert sum(amounts) == total
    assert max(amounts) - min(amounts) <= 1
    assert amounts == sorted(amounts, reverse=True)
    for k, item in enumerate(s):
        assert item.due.year * 12 + item.due.month == first.year * 12 + first.month + k
        assert item.due.day == min(first.day, monthrange(item.due.year, item.due.month)[1])


@SETTINGS
@given(
    total=totals,
    start=firsts,
    months=st.sets(st.integers(min_value=1, max_value=12), min_size=1),
    count=st.integers(min_value=1, max_value=24),
)
def test_seasonal_sums_exactly_within_the_season(
    total: int, start: date, months: set[int], count: int
) -> None:
    count = min(count, total)
    s = seasonal(total, start, months=months, count=count)
    assert s.total == total and len(s) == count
    assert all(i.due.month in months for i in s)
    assert s[1].due >= start
    assert len({(i.due.year, i.due.month) for i in s}) == count


@SETTINGS
@given(
    total=totals,
    n=st.integers(min_value=2, max_value=36),
    data=st.data(),
)
def test_reage_keeps_what_was_owed(total: int, n: int, data: st.DataObject) -> None:
    n = min(n, total)
    s = equal_instalments(total, n, date(2025, 1, 31))
    paid = data.draw(st.integers(min_value=0, max_value=n - 1))
    count = data.draw(st.one_of(st.none(), st.integers(min_value=1, max_value=60)))
    unpaid = sum(i.amount for i in s if i.seq > paid)
    if count is not None:
        count = min(count, unpaid)
    r = reage(s, paid, add_months(date(2025, 1, 31), n + 1), count=count)
    assert r.new.total == unpaid
    assert sum(i.amount for i in s if i.seq <= paid) + r.new.total == total
    assert len(r.new) == (n - paid if count is None else count)


@SETTINGS
@given(
    payments=st.dictionaries(
        st.dates(min_value=date(2024, 12, 1), max_value=date(2025, 4, 30)),
        st.integers(min_value=0, max_value=150),
        max_size=5,
    ),
    today=st.dates(min_value=date(2024, 12, 1), max_value=date(2025, 5, 31)),
    grace=st.integers(min_value=0, max_value=10),
)
def test_missed_agrees_with_a_direct_reading(
    payments: dict[date, int], today: date, grace: int
) -> None:
    found = missed(S, payments, today, grace)
    expected = None
    for item in S:
        deadline = item.due + timedelta(days=grace)
        on_time = sum(v for d, v in payments.items() if d <= deadline)
        if today > deadline and on_time < 100 * item.seq:
            expected = item
            break
    assert found == expected
    # More money paid earlier never creates a miss.
    if found is None:
        extra = {**payments, date(2024, 12, 1): payments.get(date(2024, 12, 1), 0) + 50}
        assert missed(S, extra, today, grace) is None
