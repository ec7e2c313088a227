"""Days past due with pauses, the debtor's local date, and stages.

Examples per property: DEBTLEDGER_HYPOTHESIS_EXAMPLES (default 300).
"""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from debtledger.domain.overdue import (
    Pause,
    add_pause,
    days_past_due,
    days_past_due_at,
    end_pause,
    local_date,
    stage_for,
)
from debtledger.errors import InvalidInput

SETTINGS = settings(
    max_examples=int(os.environ.get("DEBTLEDGER_HYPOTHESIS_EXAMPLES", "300")), deadline=None
)
D = date(2026, 3, 1)


def day(n: int) -> date:
    return D + timedelta(days=n)


days = st.integers(min_value=-60, max_value=400).map(day)


@st.composite
def pauses(draw: st.DrawFn) -> Pause:
    start = draw(days)
    length = draw(st.one_of(st.none(), st.integers(min_value=1, max_value=90)))
    return Pause(start, None if length is None else start + timedelta(days=length))


def brute_dpd(due: date, today: date, ps: list[Pause]) -> int:
    n, d = 0, due + timedelta(days=1)
    while d <= today:
        n += not any(p.covers(d) for p in ps)
        d += timedelta(days=1)
    return n


def test_due_date_itself_is_not_overdue() -> None:
    assert days_past_due(D, day(-5)) == 0
    assert days_past_due(D, D) == 0
    assert days_past_due(D, day(1)) == 1
    assert days_past_due(D, day(30)) == 30


def test_closed_pause_inside_the_overdue_stretch() -> None:
    # Paused on days 5..9 (end is the first day that counts again).
    assert days_past_due(D, day(20), [Pause(day(5), day(10))]) == 15
    assert days_past_due(D, day(7), [Pause(day(5), day(10))]) == 4
    assert days_past_due(D, day(10), [Pause(day(5), day(10))]) == 5


def test_pause_covering_the_due_date() -> None:
    assert days_past_due(D, day(10), [Pause(day(-3), day(4))]) == 7


def test_pause_before_the_due_date_changes_nothing() -> None:
    assert days_past_due(D, day(10), [Pause(day(-30), day(-1))]) == 10
    assert days_past_due(D, day(10), [Pause(day(-30), day(1))]) == 10


def test_open_pause_stops_the_count() -> None:
    assert days_past_due(D, day(100), [Pause(day(11))]) == 10
    assert days_past_due(D, day(100), [Pause(day(-5))]) == 0


def test_overlapping_pauses_count_each_day_once() -> None:
    ps = [Pause(day(11), day(21)), Pause(day(5), day(15)), Pause(day(8), day(9))]
    assert days_past_due(D, day(30), ps) == 30 - 16


@SETTINGS
@given(due=days, today=days, ps=st.lists(pauses(), max_size=4))
def test_dpd_matches_a_day_by_day_count(due: date, today: date, ps: list[Pause]) -> None:
    assert days_past_due(due, today, ps) == brute_dpd(due, today, ps)


@SETTINGS
@given(due=days, today=days, ps=st.lists(pauses(), max_size=4))
def test_dpd_never_decreases_and_grows_at_most_a_day_a_day(
    due: date, today: date, ps: list[Pause]
) -> None:
    step = days_past_due(due, today + timedelta(days=1), ps) - days_past_due(due, today, ps)
    assert step in (0, 1)
    assert days_past_due(due, today, list(reversed(ps))) == days_past_due(due, today, ps)


@SETTINGS
@given(
    due=days,
    after=st.integers(min_value=0, max_value=100),
    k=st.integers(min_value=1, max_value=60),
    tail=st.integers(min_value=0, max_value=100),
)
def test_a_pause_of_k_overdue_days_removes_exactly_k(
    due: date, after: int, k: int, tail: int
) -> None:
    start = due + timedelta(days=1 + after)
    today = start + timedelta(days=k + tail - 1)
    without = days_past_due(due, today)
    assert days_past_due(due, today, [Pause(start, start + timedelta(days=k))]) == without - k


def test_pause_log_is_append_only() -> None:
    log = add_pause((), Pause(day(5), day(10)))
    log = add_pause(log, Pause(day(10), day(12)))  # touching is fine
    with pytest.raises(InvalidInput, match="before the last") as info:
        add_pause(log, Pause(day(9), day(40)))
    assert info.value.field == "pause.start"
    with pytest.raises(InvalidInput, match="overlaps"):
        add_pause(log, Pause(day(11), day(40)))
    log = add_pause(log, Pause(day(20)))
    with pytest.raises(InvalidInput, match="still open"):
        add_pause(log, Pause(day(30), day(31)))
    log = end_pause(log, day(25))
    assert log[-1] == Pause(day(20), day(25))
    assert days_past_due(D, day(30), log) == 30 - 5 - 2 - 5
    with pytest.raises(InvalidInput, match="no open pause"):
        end_pause(log, day(40))


def test_pause_must_end_after_it_starts() -> None:
    with pytest.raises(InvalidInput) as info:
        Pause(day(5), day(5))
    assert info.value.field == "pause.end"
    with pytest.raises(InvalidInput):
        end_pause((Pause(day(5)),), day(4))


def test_a_log_not_built_by_appending_is_refused() -> None:
    with pytest.raises(InvalidInput, match="overlap"):
        add_pause([Pause(day(5), day(10)), Pause(day(6), day(8))], Pause(day(20)))


def test_datetimes_are_refused_as_dates() -> None:
    with pytest.raises(InvalidInput) as info:
        days_past_due(D, datetime(2026, 3, 5, 12))
    assert info.value.field == "today"


def test_local_date_changes_at_the_debtors_midnight() -> None:
    # 2026-03-01 16:00:00 UTC is midnight of 2 March in UTC+8.
    midnight_cst = int(datetime(2026, 3, 1, 16).timestamp() - datetime(1970, 1, 1).timestamp())
    assert local_date(midnight_cst, 480) == date(2026, 3, 2)
    assert local_date(midnight_cst - 1, 480) == date(2026, 3, 1)
    assert local_date(midnight_cst, 0) == date(2026, 3, 1)
    assert local_date(midnight_cst, -300) == date(2026, 3, 1)
    assert local_date(-1, 0) == date(1969, 12, 31)
    # Due on 1 March: overdue by 1 from the debtor's midnight, while UTC is still on 1 March.
    assert days_past_due_at(date(2026, 3, 1), midnight_cst, 480) == 1
    assert days_past_due_at(date(2026, 3, 1), midnight_cst - 1, 480) == 0


@pytest.mark.parametrize("offset", [-721, 841, True])
def test_local_date_refuses_impossible_offsets(offset: int) -> None:
    with pytest.raises(InvalidInput) as info:
        local_date(0, offset)
    assert info.value.field == "offset_minutes"


@pytest.mark.parametrize(
    ("dpd", "stage"),
    [(0, 0), (1, 1), (7, 1), (8, 2), (30, 2), (31, 3), (90, 3), (91, 4), (10_000, 4)],
)
def test_default_stages(dpd: int, stage: int) -> None:
    assert stage_for(dpd) == stage


def test_custom_thresholds() -> None:
    assert stage_for(2, (3, 30)) == 0
    assert stage_for(3, (3, 30)) == 1
    assert stage_for(30, (3, 30)) == 2


@pytest.mark.parametrize("thresholds", [(), (0, 8), (8, 8), (8, 1), (1, 2.5), (True, 5)])
def test_bad_thresholds_are_refused(thresholds: tuple[int, ...]) -> None:
    with pytest.raises(InvalidInput) as info:
        stage_for(5, thresholds)
    assert info.value.field == "thresholds"


def test_negative_dpd_is_refused() -> None:
    with pytest.raises(InvalidInput):
        stage_for(-1)


@SETTINGS
@given(dpd=st.integers(min_value=0, max_value=500), more=st.integers(min_value=0, max_value=50))
def test_stage_never_goes_down_as_dpd_grows(dpd: int, more: int) -> None:
    assert stage_for(dpd) <= stage_for(dpd + more) <= 4
