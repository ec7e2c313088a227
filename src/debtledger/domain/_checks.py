"""Argument checks shared by the collection rules: whole numbers and calendar dates.

Each refusal is an InvalidInput that names the field and never echoes the value.
"""

from __future__ import annotations

from datetime import date, datetime

from debtledger.errors import InvalidInput


def check_day(value: object, field: str) -> date:
    """A calendar date; a datetime is refused, since its time of day would be ignored."""
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidInput("must be a calendar date", field=field)
    return value


def check_int(
    value: object, field: str, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """A whole number (a bool or a float is refused) within the bounds given."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("must be a whole number", field=field)
    if minimum is not None and value < minimum:
        raise InvalidInput(f"must be at least {minimum}", field=field)
    if maximum is not None and value > maximum:
        raise InvalidInput(f"must be at most {maximum}", field=field)
    return value
