"""Days past due and collection stages: how late a claim is, counted in the debtor's days.

Pure rules, no I/O. A claim is overdue from the day after its due date; days inside a pause
(a dispute, a hardship arrangement, a court stay) do not count, as with Apache Fineract's
delinquency pauses. The collection stage follows from the days past due.

Dates are calendar dates in the debtor's local time zone. `local_date` turns a unix time
into that date: the day changes at the debtor's local midnight, so a timestamp exactly at
local midnight already belongs to the new day. The chain stores a due date as the unix
time of its UTC midnight (`claims.due_timestamp`); that number labels the date and is not
the instant the day ends.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from debtledger.domain._checks import check_day, check_int
from debtledger.errors import InvalidInput

DEFAULT_THRESHOLDS = (1, 8, 31, 91)
"""Stage thresholds in days past due: 0 current, 1 = 1-7, 2 = 8-30, 3 = 31-90, 4 = 91+."""

MIN_OFFSET_MINUTES = -12 * 60
MAX_OFFSET_MINUTES = 14 * 60
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


@dataclass(frozen=True)
class Pause:
    """Days from `start` up to, not including, `end` do not count as overdue.

    `end` is the first day that counts again; None while the pause is still open. A pause of
    k days therefore has `end - start == k`.
    """

    start: date
    end: date | None = None

    def __post_init__(self) -> None:
        check_day(self.start, "pause.start")
        if self.end is not None and check_day(self.end, "pause.end") <= self.start:
            raise InvalidInput("a pause must end after the day it starts", field="pause.end")

    @property
    def is_open(self) -> bool:
        return self.end is None

    def covers(self, day: date) -> bool:
        """Whether `day` is a paused day."""
        return self.start <= day and (self.end is None or day < self.end)


def check_pauses(pauses: Sequence[Pause]) -> tuple[Pause, ...]:
    """A pause log as `add_pause` builds it: by start, none overlapping, only the last open."""
    log = tuple(pauses)
    for i, pause in enumerate(log):
        if not isinstance(pause, Pause):
            raise InvalidInput("must be a Pause", field="pauses", row=i)
        if i == 0:
            continue
        last = log[i - 1]
        if last.end is None:
            raise InvalidInput("only the last pause may be open", field="pauses", row=i)
        if pause.start < last.end:
            raise InvalidInput("pauses must be in order and not overlap", field="pauses", row=i)
    return log


def add_pause(pauses: Sequence[Pause], pause: Pause) -> tuple[Pause, ...]:
    """The log with `pause` appended. Pauses are append-only: the new one may not start
    before the last one does, nor inside it, nor while it is still open (end it first)."""
    log = check_pauses(pauses)
    if not isinstance(pause, Pause):
        raise InvalidInput("must be a Pause", field="pause")
    if log:
        last = log[-1]
        if pause.start < last.start:
            raise InvalidInput("a pause cannot start before the last one", field="pause.start")
        if last.end is None:
            raise InvalidInput("the last pause is still open: end it first", field="pause.start")
        if pause.start < last.end:
            raise InvalidInput("the pause overlaps the last one", field="pause.start")
    return (*log, pause)


def end_pause(pauses: Sequence[Pause], end: date) -> tuple[Pause, ...]:
    """The log with its open last pause ended: `end` is the first day that counts again.
    Giving an open pause its end is the only change a recorded pause can take."""
    log = check_pauses(pauses)
    if not log or log[-1].end is not None:
        raise InvalidInput("there is no open pause to end", field="pauses")
    return (*log[:-1], Pause(log[-1].start, check_day(end, "end")))


def paused_days(first: date, stop: date, pauses: Iterable[Pause]) -> int:
    """How many days d with first <= d < stop fall inside at least one pause; pauses may
    overlap (each day counts once) and come in any order."""
    spans = []
    for pause in pauses:
        lo = max(pause.start, first)
        hi = stop if pause.end is None else min(pause.end, stop)
        if lo < hi:
            spans.append((lo, hi))
    spans.sort()
    total = 0
    covered_to = first
    for lo, hi in spans:
        lo = max(lo, covered_to)
        if lo < hi:
            total += (hi - lo).days
            covered_to = hi
    return total


def days_past_due(due: date, today: date, pauses: Iterable[Pause] = ()) -> int:
    """Days after `due` up to and including `today` that are not paused.

    0 on the due date itself and before it; 1 on the next day unless that day is paused.
    Pauses may be in any order and overlap (a paused day counts once); a pause that starts
    before the due date only matters for the days after it; an open pause runs to today.
    """
    check_day(due, "due")
    check_day(today, "today")
    if today <= due:
        return 0
    first, stop = due + timedelta(days=1), today + timedelta(days=1)
    return (stop - first).days - paused_days(first, stop, pauses)


def local_date(timestamp: int, offset_minutes: int) -> date:
    """The debtor's calendar date at unix time `timestamp`, for a UTC offset in minutes
    (+480 for China Standard Time). The day starts at local midnight, inclusive. Zones with
    summer time pass the offset in force at that instant."""
    check_int(timestamp, "timestamp")
    check_int(
        offset_minutes, "offset_minutes", minimum=MIN_OFFSET_MINUTES, maximum=MAX_OFFSET_MINUTES
    )
    days = (timestamp + offset_minutes * 60) // 86_400
    try:
        return date.fromordinal(_EPOCH_ORDINAL + days)
    except (ValueError, OverflowError):
        raise InvalidInput("timestamp is out of range", field="timestamp") from None


def days_past_due_at(
    due: date, timestamp: int, offset_minutes: int, pauses: Iterable[Pause] = ()
) -> int:
    """Days past due at unix time `timestamp`, counted in the debtor's local dates."""
    return days_past_due(due, local_date(timestamp, offset_minutes), pauses)


def check_thresholds(thresholds: Sequence[int]) -> tuple[int, ...]:
    """Stage thresholds: at least one, whole numbers, positive, strictly increasing."""
    values = tuple(thresholds)
    if not values:
        raise InvalidInput("at least one threshold is needed", field="thresholds")
    for i, value in enumerate(values):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidInput("thresholds must be positive whole numbers", field="thresholds")
        if i and value <= values[i - 1]:
            raise InvalidInput("thresholds must be strictly increasing", field="thresholds")
    return values


def stage_for(dpd: int, thresholds: Sequence[int] = DEFAULT_THRESHOLDS) -> int:
    """The stage for `dpd` days past due: how many thresholds it has reached. With
    (1, 8, 31, 91): 0 current, 1 for 1-7 days, 2 for 8-30, 3 for 31-90, 4 from 91."""
    check_int(dpd, "dpd", minimum=0)
    return bisect_right(check_thresholds(thresholds), dpd)
