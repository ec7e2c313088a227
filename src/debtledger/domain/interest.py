"""Penalty interest on an overdue claim: a daily rate on the outstanding principal, capped
per claim-year and over the claim's life, in whole fen.

Pure rules, no I/O. Rates are exact decimals given as strings ("0.0005" is 0.05% a day),
never floats, with at most ten decimal places; internally they are whole numbers of 1e-10.

The rules, exactly:
- Accrual. Penalty runs from an origin date (usually the day after the due date). Each day
  d accrues `outstanding(d) * daily_rate` fen, exactly (simple interest, no compounding).
  Days the penalty must not run (a pause, a dispute) are accrued with outstanding 0.
- Claim-years. Year k runs from the k-th anniversary of the origin (inclusive) to the next
  (exclusive), so it has 365 or 366 days; an origin of 29 February has its anniversaries
  on 28 February in common years.
- Rounding. Within a claim-year the penalty booked is the floor, in fen, of the exact
  amount accrued in that year so far. A period's penalty is the difference between what
  is booked at its end and at its start, so splitting a period anywhere gives exactly the
  same total as accruing it at once (no fen is lost or gained by how often one accrues).
- Annual cap. What one claim-year books is at most floor(principal * annual_cap), where
  principal is the claim's original principal: annual_cap is the highest effective annual
  penalty rate relative to principal. Once a year reaches it, that year books nothing more;
  the next claim-year starts afresh.
- Total cap. All years together book at most floor(principal * total_cap); after that the
  claim books no more penalty.
Both caps round down, in the debtor's favour.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal, InvalidOperation

from debtledger.domain._checks import check_day, check_int
from debtledger.errors import InvalidInput

RATE_DECIMALS = 10
RATE_SCALE: int = 10**RATE_DECIMALS
"""Rates are held as whole numbers of 1e-10, so every exact amount is a whole number of
1e-10 fen."""
MAX_RATE = 1000


def parse_rate(value: object, field: str) -> Decimal:
    """An exact non-negative rate from a decimal string (or Decimal or int), at most ten
    decimal places. Floats are refused: 0.1 is not exactly a tenth."""
    if isinstance(value, bool | float):
        raise InvalidInput("rate must be a decimal string, not a float", field=field)
    if isinstance(value, Decimal | int):
        rate = Decimal(value)
    elif isinstance(value, str):
        try:
            rate = Decimal(value.strip())
        except InvalidOperation:
            raise InvalidInput("rate must be a decimal number", field=field) from None
    else:
        raise InvalidInput("rate must be a decimal string", field=field)
    if not rate.is_finite() or rate < 0 or rate > MAX_RATE:
        raise InvalidInput(f"rate must be between 0 and {MAX_RATE}", field=field)
    if (rate * RATE_SCALE) % 1:
        raise InvalidInput(f"rate has more than {RATE_DECIMALS} decimal places", field=field)
    return rate


def _scaled(rate: Decimal) -> int:
    return int(rate * RATE_SCALE)


@dataclass(frozen=True)
class PenaltyTerms:
    """A claim's penalty terms: daily rate on the outstanding principal, the cap on one
    claim-year's penalty and the cap on the claim's whole penalty, both as fractions of the
    original principal (0.24 = 24%)."""

    daily_rate: Decimal
    annual_cap: Decimal
    total_cap: Decimal

    def __post_init__(self) -> None:
        for name in ("daily_rate", "annual_cap", "total_cap"):
            value = getattr(self, name)
            if not isinstance(value, Decimal):
                raise InvalidInput("must be a Decimal (use PenaltyTerms.of)", field=name)
            parse_rate(value, name)

    @classmethod
    def of(
        cls, *, daily_rate: str | Decimal, annual_cap: str | Decimal, total_cap: str | Decimal
    ) -> PenaltyTerms:
        """Terms from decimal strings, e.g. of(daily_rate="0.0005", annual_cap="0.24",
        total_cap="1")."""
        return cls(
            daily_rate=parse_rate(daily_rate, "daily_rate"),
            annual_cap=parse_rate(annual_cap, "annual_cap"),
            total_cap=parse_rate(total_cap, "total_cap"),
        )

    def year_cap_fen(self, principal: int) -> int:
        """The most one claim-year may book, in fen."""
        return principal * _scaled(self.annual_cap) // RATE_SCALE

    def total_cap_fen(self, principal: int) -> int:
        """The most the claim may book over its life, in fen."""
        return principal * _scaled(self.total_cap) // RATE_SCALE


def anniversary(origin: date, years: int) -> date:
    """`origin` moved on by whole years; 29 February becomes 28 February in common years."""
    year = origin.year + years
    try:
        return origin.replace(year=year)
    except ValueError:
        if not 1 <= year <= 9999:
            raise InvalidInput("date is out of range", field="date") from None
        return date(year, 2, 28)


def claim_year_start(origin: date, day: date) -> date:
    """The first day of the claim-year (counted from `origin`) that `day` falls in."""
    if day < origin:
        raise InvalidInput("day is before the origin", field="day")
    years = day.year - origin.year
    start = anniversary(origin, years)
    return start if start <= day else anniversary(origin, years - 1)


@dataclass(frozen=True)
class PenaltyState:
    """What has accrued on one claim so far; the service stores it between accruals.

    `through` is the first day not yet accrued. `year_start` is the claim-year that
    `year_exact` (the exact amount accrued in it, in 1e-10 fen) belongs to; `past_years` is
    what the finished claim-years booked, each already under the annual cap.
    """

    terms: PenaltyTerms
    principal: int
    origin: date
    through: date
    year_start: date
    year_exact: int = 0
    past_years: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.terms, PenaltyTerms):
            raise InvalidInput("must be PenaltyTerms", field="terms")
        check_int(self.principal, "principal", minimum=0)
        check_day(self.origin, "origin")
        check_day(self.through, "through")
        check_day(self.year_start, "year_start")
        check_int(self.year_exact, "year_exact", minimum=0)
        check_int(self.past_years, "past_years", minimum=0)
        if self.through < self.origin:
            raise InvalidInput("accrual cannot be before the origin", field="through")
        if self.year_start < self.origin or self.year_start != claim_year_start(
            self.origin, self.year_start
        ):
            raise InvalidInput("must be an anniversary of the origin", field="year_start")
        if self.year_start > self.through:
            raise InvalidInput("cannot be after the first day not accrued", field="year_start")

    @classmethod
    def start(cls, terms: PenaltyTerms, *, principal: int, origin: date) -> PenaltyState:
        """Nothing accrued yet; penalty runs from `origin` (usually the day after due)."""
        return cls(
            terms=terms, principal=principal, origin=origin, through=origin, year_start=origin
        )

    @property
    def year_booked(self) -> int:
        """What the current claim-year has booked: its exact amount floored, capped."""
        return min(self.terms.year_cap_fen(self.principal), self.year_exact // RATE_SCALE)

    @property
    def booked(self) -> int:
        """All penalty booked so far, in fen."""
        return min(self.terms.total_cap_fen(self.principal), self.past_years + self.year_booked)


def accrue(state: PenaltyState, *, outstanding: int, until: date) -> tuple[int, PenaltyState]:
    """Accrue the days from `state.through` up to, not including, `until` on a constant
    `outstanding` principal (fen, at most the original principal). Returns the penalty
    booked for the period, in fen, and the new state."""
    check_int(outstanding, "outstanding", minimum=0, maximum=state.principal)
    check_day(until, "until")
    if until < state.through:
        raise InvalidInput("penalty has already accrued past this day", field="until")
    rate = _scaled(state.terms.daily_rate)
    day, year_start = state.through, state.year_start
    year_exact, past_years = state.year_exact, state.past_years
    year_cap = state.terms.year_cap_fen(state.principal)
    while day < until:
        start = claim_year_start(state.origin, day)
        if start != year_start:
            past_years += min(year_cap, year_exact // RATE_SCALE)
            year_start, year_exact = start, 0
        stop = min(until, anniversary(state.origin, start.year - state.origin.year + 1))
        year_exact += outstanding * rate * (stop - day).days
        day = stop
    new = replace(
        state, through=until, year_start=year_start, year_exact=year_exact, past_years=past_years
    )
    return new.booked - state.booked, new
