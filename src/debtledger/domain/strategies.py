"""Collection strategies by credit grade: for each stage, how often to contact the debtor,
through which channels, and what instalment plan may be offered.

Pure data and a lookup, no I/O. Grades run from A (lowest risk) to E (highest); stages are
those of `overdue.stage_for` with the default thresholds (0 current ... 4 at 91+ days past
due). A stricter grade gets firmer plans (fewer instalments, a larger down payment) and,
later in collection, more contact; no strategy plans more than seven contacts a week,
the consortium's cap per debtor across all creditors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from debtledger.domain._checks import check_int
from debtledger.errors import InvalidInput

CHANNELS = ("sms", "email", "voice", "letter", "visit")
GRADES = ("A", "B", "C", "D", "E")
STAGES = 5
MAX_CONTACTS_PER_WEEK = 7
MAX_OFFER_INSTALMENTS = 60


@dataclass(frozen=True)
class InstalmentOffer:
    """The most generous plan that may be offered: at most `max_instalments` instalments
    after a down payment of at least `min_down_payment_pct` percent of what is owed."""

    max_instalments: int
    min_down_payment_pct: int

    def __post_init__(self) -> None:
        check_int(self.max_instalments, "max_instalments", minimum=1, maximum=MAX_OFFER_INSTALMENTS)
        check_int(self.min_down_payment_pct, "min_down_payment_pct", minimum=0, maximum=100)

    def min_down_payment(self, owed: int) -> int:
        """The smallest down payment in fen on `owed` fen, rounded up to a whole fen."""
        check_int(owed, "owed", minimum=0)
        return -(-owed * self.min_down_payment_pct // 100)

    def allows(self, *, owed: int, down_payment: int, instalments: int) -> bool:
        """Whether a plan of `down_payment` fen and then `instalments` instalments is within
        this offer."""
        check_int(down_payment, "down_payment", minimum=0)
        check_int(instalments, "instalments", minimum=0)
        return (
            down_payment >= self.min_down_payment(owed)
            and down_payment <= owed
            and instalments <= self.max_instalments
            and (instalments > 0 or down_payment == owed)
        )


@dataclass(frozen=True)
class StageStrategy:
    """What a strategy plans in one stage. No contacts means no channels; an offer of None
    means no instalment plan is offered in that stage."""

    max_contacts_per_week: int
    channels: tuple[str, ...]
    offer: InstalmentOffer | None

    def __post_init__(self) -> None:
        check_int(
            self.max_contacts_per_week,
            "max_contacts_per_week",
            minimum=0,
            maximum=MAX_CONTACTS_PER_WEEK,
        )
        if not isinstance(self.channels, tuple):
            raise InvalidInput("channels must be a tuple", field="channels")
        for channel in self.channels:
            if channel not in CHANNELS:
                raise InvalidInput(
                    f"channel must be one of {', '.join(CHANNELS)}", field="channels"
                )
        if len(set(self.channels)) != len(self.channels):
            raise InvalidInput("a channel appears twice", field="channels")
        if bool(self.channels) != bool(self.max_contacts_per_week):
            raise InvalidInput(
                "channels are needed exactly when contacts are planned", field="channels"
            )
        if self.offer is not None and not isinstance(self.offer, InstalmentOffer):
            raise InvalidInput("must be an InstalmentOffer or None", field="offer")


def _s(contacts: int, channels: str, offer: tuple[int, int] | None = None) -> StageStrategy:
    return StageStrategy(
        contacts, tuple(channels.split()), InstalmentOffer(*offer) if offer else None
    )


# Stage 0 is a courtesy reminder before or on the due date; stage 4 prepares legal action.
DEFAULT_STRATEGIES: Mapping[str, tuple[StageStrategy, ...]] = MappingProxyType(
    {
        "A": (
            _s(1, "sms email"),
            _s(1, "sms email", (12, 0)),
            _s(2, "sms email voice", (24, 0)),
            _s(3, "sms email voice letter", (24, 10)),
            _s(3, "voice letter", (36, 10)),
        ),
        "B": (
            _s(1, "sms email"),
            _s(2, "sms email", (12, 0)),
            _s(3, "sms email voice", (18, 10)),
            _s(4, "sms email voice letter", (24, 15)),
            _s(4, "voice letter visit", (24, 20)),
        ),
        "C": (
            _s(1, "sms"),
            _s(2, "sms email voice", (6, 10)),
            _s(4, "sms email voice", (12, 15)),
            _s(5, "sms voice letter", (18, 20)),
            _s(5, "voice letter visit", (18, 25)),
        ),
        "D": (
            _s(2, "sms voice"),
            _s(3, "sms email voice", (6, 20)),
            _s(5, "sms email voice letter", (9, 25)),
            _s(6, "sms voice letter", (12, 30)),
            _s(6, "voice letter visit", (12, 30)),
        ),
        "E": (
            _s(2, "sms voice"),
            _s(4, "sms voice", (3, 30)),
            _s(6, "sms voice letter", (6, 30)),
            _s(7, "sms voice letter visit", (6, 40)),
            _s(7, "voice letter visit", (6, 50)),
        ),
    }
)


def check_strategies(
    table: Mapping[str, Sequence[StageStrategy]], stages: int = STAGES
) -> Mapping[str, tuple[StageStrategy, ...]]:
    """A strategy table: every grade A-E, each with one StageStrategy per stage."""
    if set(table) != set(GRADES):
        raise InvalidInput("every grade A-E needs a strategy, and no other", field="grade")
    checked = {}
    for grade in GRADES:
        row = tuple(table[grade])
        if len(row) != stages:
            raise InvalidInput(f"grade needs exactly {stages} stages", field="stage")
        for stage in row:
            if not isinstance(stage, StageStrategy):
                raise InvalidInput("must be a StageStrategy", field="stage")
        checked[grade] = row
    return MappingProxyType(checked)


def strategy_for(
    grade: str,
    stage: int,
    table: Mapping[str, Sequence[StageStrategy]] = DEFAULT_STRATEGIES,
) -> StageStrategy:
    """The strategy for a debtor of credit `grade` (A-E) in collection `stage`."""
    if grade not in GRADES:
        raise InvalidInput("credit grade must be one of A, B, C, D, E", field="grade")
    row = table.get(grade)
    if row is None:
        raise InvalidInput("no strategy for this grade", field="grade")
    check_int(stage, "stage", minimum=0, maximum=len(row) - 1)
    return row[stage]


check_strategies(DEFAULT_STRATEGIES)
