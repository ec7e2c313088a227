"""Instalment schedules: equal, custom and seasonal plans, re-ageing, and missed
instalments.

Pure rules, no I/O. Amounts are fen and always sum exactly to the plan's total. When a total
does not split evenly, the first `total % n` instalments are one fen larger than the rest.
Monthly dates keep the first date's day of month, clamped to the month's end: a plan from
31 January falls due on 28 (or 29) February, then 31 March, 30 April and so on.
"""

from __future__ import annotations

from bisect import bisect_right
from calendar import monthrange
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate

from debtledger.domain._checks import check_day, check_int
from debtledger.errors import InvalidInput

MAX_INSTALMENTS = 360
"""The most instalments one schedule may have (thirty years of monthly payments)."""


@dataclass(frozen=True)
class Instalment:
    """Instalment `seq` (from 1) of `amount` fen, due on `due`."""

    seq: int
    due: date
    amount: int


@dataclass(frozen=True)
class Schedule:
    """The instalments of one plan, numbered 1..n, due on strictly increasing dates, each
    a positive amount. `version` counts re-ageings: the first schedule is 1."""

    instalments: tuple[Instalment, ...]
    version: int = 1

    def __post_init__(self) -> None:
        check_int(self.version, "version", minimum=1)
        if not self.instalments:
            raise InvalidInput("a schedule needs at least one instalment", field="instalments")
        if len(self.instalments) > MAX_INSTALMENTS:
            raise InvalidInput(f"at most {MAX_INSTALMENTS} instalments", field="instalments")
        for i, item in enumerate(self.instalments):
            if not isinstance(item, Instalment):
                raise InvalidInput("must be an Instalment", field="instalments", row=i + 1)
            if item.seq != i + 1:
                raise InvalidInput(
                    "instalments must be numbered 1, 2, 3...", field="seq", row=i + 1
                )
            check_day(item.due, "due")
            check_int(item.amount, "amount", minimum=1)
            if i and item.due <= self.instalments[i - 1].due:
                raise InvalidInput("due dates must be strictly increasing", field="due", row=i + 1)

    def __iter__(self) -> Iterator[Instalment]:
        return iter(self.instalments)

    def __len__(self) -> int:
        return len(self.instalments)

    def __getitem__(self, seq: int) -> Instalment:
        """Instalment number `seq` (from 1)."""
        if isinstance(seq, bool) or not isinstance(seq, int) or not 1 <= seq <= len(self):
            raise InvalidInput(f"no instalment with that number in {len(self)}", field="seq")
        return self.instalments[seq - 1]

    @property
    def total(self) -> int:
        return sum(item.amount for item in self.instalments)


def _check_count(n: object, total: int) -> int:
    count = check_int(n, "count", minimum=1, maximum=MAX_INSTALMENTS)
    if total < count:
        raise InvalidInput("total is too small to give every instalment a fen", field="total")
    return count


def split_evenly(total: int, n: int) -> tuple[int, ...]:
    """`total` fen in `n` amounts summing exactly: the first `total % n` get one fen more."""
    check_int(total, "total", minimum=1)
    _check_count(n, total)
    base, extra = divmod(total, n)
    return tuple(base + 1 if i < extra else base for i in range(n))


def add_months(day: date, months: int, *, day_of_month: int | None = None) -> date:
    """`day` moved on by `months` calendar months, on `day_of_month` (default: `day`'s own),
    clamped to the last day of the target month."""
    check_day(day, "date")
    check_int(months, "months")
    anchor = day.day if day_of_month is None else check_int(day_of_month, "day", minimum=1)
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    if not 1 <= year <= 9999:
        raise InvalidInput("date is out of range", field="date")
    return date(year, month + 1, min(anchor, monthrange(year, month + 1)[1]))


def _monthly(first: date, n: int, every: int) -> list[date]:
    return [add_months(first, k * every) for k in range(n)]


def _schedule(dates: Sequence[date], amounts: Sequence[int], version: int = 1) -> Schedule:
    return Schedule(
        tuple(Instalment(i + 1, d, a) for i, (d, a) in enumerate(zip(dates, amounts, strict=True))),
        version,
    )


def equal_instalments(total: int, n: int, first: date, *, every_months: int = 1) -> Schedule:
    """`total` fen in `n` instalments, the first due on `first`, then every `every_months`
    months (end-of-month clamped). Amounts follow `split_evenly`."""
    amounts = split_evenly(total, n)
    check_day(first, "first")
    every = check_int(every_months, "every_months", minimum=1, maximum=12)
    return _schedule(_monthly(first, n, every), amounts)


def custom_schedule(total: int, items: Sequence[tuple[date, int]]) -> Schedule:
    """A schedule with the dates and amounts given, which must be in strictly increasing
    date order, each amount positive, and sum to `total` exactly."""
    check_int(total, "total", minimum=1)
    if not items:
        raise InvalidInput("a schedule needs at least one instalment", field="instalments")
    for i, item in enumerate(items):
        if not (isinstance(item, tuple) and len(item) == 2):
            raise InvalidInput("each instalment is a (date, amount) pair", field="instalments")
        check_day(item[0], "due")
        check_int(item[1], "amount", minimum=1)
        if i and item[0] <= items[i - 1][0]:
            raise InvalidInput("due dates must be strictly increasing", field="due", row=i + 1)
    if sum(amount for _, amount in items) != total:
        raise InvalidInput("instalments do not add up to the total", field="total")
    return _schedule([d for d, _ in items], [a for _, a in items])


def seasonal(total: int, start: date, *, months: Collection[int], count: int) -> Schedule:
    """`total` fen in `count` instalments falling only in the given months (e.g. harvest
    months {9, 10, 11}): the first on or after `start` in such a month, then once in each
    later such month, on `start`'s day of month (clamped). Amounts follow `split_evenly`."""
    amounts = split_evenly(total, count)
    check_day(start, "start")
    season = set(months)
    if not season:
        raise InvalidInput("at least one month is needed", field="months")
    for month in season:
        check_int(month, "months", minimum=1, maximum=12)
    dates: list[date] = []
    k = 0
    while len(dates) < count:
        day = add_months(start, k)
        if day.month in season:
            dates.append(day)
        k += 1
    return _schedule(dates, amounts)


@dataclass(frozen=True)
class Reaged:
    """A re-ageing: the schedule replaced, the new one (next version) for what remained,
    and how far the old one had been paid."""

    previous: Schedule
    new: Schedule
    paid_through_seq: int

    @property
    def remaining(self) -> int:
        return self.new.total


def reage(
    schedule: Schedule,
    paid_through_seq: int,
    new_first_date: date,
    *,
    count: int | None = None,
    remaining: int | None = None,
    every_months: int = 1,
) -> Reaged:
    """Replace a schedule whose instalments 1..`paid_through_seq` are paid by a new one for
    the rest: `remaining` fen (default: the unpaid instalments' sum; never more) in `count`
    equal instalments (default: as many as were unpaid) from `new_first_date`, which must
    fall after the last paid instalment's due date. The old schedule is returned unchanged
    beside the new one, so both can be recorded."""
    if not isinstance(schedule, Schedule):
        raise InvalidInput("must be a Schedule", field="schedule")
    paid = check_int(paid_through_seq, "paid_through_seq", minimum=0, maximum=len(schedule) - 1)
    check_day(new_first_date, "new_first_date")
    if paid and new_first_date <= schedule[paid].due:
        raise InvalidInput(
            "the new schedule must start after the last paid instalment", field="new_first_date"
        )
    unpaid = sum(item.amount for item in schedule.instalments[paid:])
    amount = unpaid if remaining is None else check_int(remaining, "remaining", minimum=1)
    if amount > unpaid:
        raise InvalidInput("re-ageing cannot add to what is owed", field="remaining")
    n = len(schedule) - paid if count is None else count
    fresh = equal_instalments(amount, n, new_first_date, every_months=every_months)
    return Reaged(
        previous=schedule,
        new=Schedule(fresh.instalments, schedule.version + 1),
        paid_through_seq=paid,
    )


def _paid_by(payments: Mapping[date, int]) -> tuple[list[date], list[int]]:
    for day, amount in payments.items():
        check_day(day, "payments")
        check_int(amount, "payments", minimum=0)
    days = sorted(payments)
    return days, list(accumulate(payments[d] for d in days))


def paid_through(schedule: Schedule, paid_total: int) -> int:
    """How many instalments `paid_total` fen covers in full, paying them in order."""
    check_int(paid_total, "paid_total", minimum=0)
    return bisect_right(list(accumulate(item.amount for item in schedule)), paid_total)


def missed(
    schedule: Schedule, payments_by_date: Mapping[date, int], today: date, grace_days: int = 0
) -> Instalment | None:
    """The first missed instalment as of `today`, or None.

    Payments pay the instalments in order. Instalment k is missed once its grace period is
    over (today is later than its due date + `grace_days`) and what was paid up to and
    including that last grace day does not cover instalments 1..k. A later payment does not
    undo a miss: the instalment was not paid on time.
    """
    check_day(today, "today")
    grace = timedelta(days=check_int(grace_days, "grace_days", minimum=0))
    days, paid = _paid_by(payments_by_date)
    owed = 0
    for item in schedule:
        owed += item.amount
        deadline = item.due + grace
        if today <= deadline:
            return None
        n = bisect_right(days, deadline)
        if (paid[n - 1] if n else 0) < owed:
            return item
    return None
