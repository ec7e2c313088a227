"""Strategies by credit grade and stage: the lookup and the table's validation."""

from __future__ import annotations

import pytest

from debtledger.domain.overdue import DEFAULT_THRESHOLDS
from debtledger.domain.strategies import (
    CHANNELS,
    DEFAULT_STRATEGIES,
    GRADES,
    InstalmentOffer,
    StageStrategy,
    check_strategies,
    strategy_for,
)
from debtledger.errors import InvalidInput


def test_every_grade_has_a_strategy_for_every_default_stage() -> None:
    for grade in GRADES:
        for stage in range(len(DEFAULT_THRESHOLDS) + 1):
            s = strategy_for(grade, stage)
            assert 0 < s.max_contacts_per_week <= 7
            assert set(s.channels) <= set(CHANNELS)


def test_lookup_returns_that_grade_and_stage() -> None:
    assert strategy_for("A", 0).offer is None
    assert strategy_for("A", 3).offer == InstalmentOffer(24, 10)
    assert strategy_for("E", 4).channels == ("voice", "letter", "visit")
    assert strategy_for("E", 3).max_contacts_per_week == 7


def test_riskier_grades_get_firmer_offers() -> None:
    for stage in range(1, 5):
        offers = [strategy_for(g, stage).offer for g in GRADES]
        assert all(o is not None for o in offers)
        limits = [o.max_instalments for o in offers if o]
        downs = [o.min_down_payment_pct for o in offers if o]
        assert limits == sorted(limits, reverse=True)
        assert downs == sorted(downs)


def test_visits_only_late_in_collection() -> None:
    for grade in GRADES:
        for stage in range(3):
            assert "visit" not in strategy_for(grade, stage).channels


@pytest.mark.parametrize(
    ("grade", "stage", "field"),
    [("F", 0, "grade"), ("a", 0, "grade"), ("A", 5, "stage"), ("A", -1, "stage")],
)
def test_unknown_grade_or_stage_is_refused(grade: str, stage: int, field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        strategy_for(grade, stage)
    assert info.value.field == field


def test_down_payment_rounds_up_to_the_fen() -> None:
    offer = InstalmentOffer(max_instalments=6, min_down_payment_pct=15)
    assert offer.min_down_payment(1_000) == 150
    assert offer.min_down_payment(1_001) == 151
    assert offer.allows(owed=1_001, down_payment=151, instalments=6)
    assert not offer.allows(owed=1_001, down_payment=150, instalments=6)
    assert not offer.allows(owed=1_001, down_payment=151, instalments=7)
    assert not offer.allows(owed=1_001, down_payment=151, instalments=0)
    assert offer.allows(owed=1_001, down_payment=1_001, instalments=0)
    assert not offer.allows(owed=1_001, down_payment=1_002, instalments=1)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        (
            {"max_contacts_per_week": 8, "channels": ("sms",), "offer": None},
            "max_contacts_per_week",
        ),
        ({"max_contacts_per_week": 1, "channels": ("fax",), "offer": None}, "channels"),
        ({"max_contacts_per_week": 1, "channels": ("sms", "sms"), "offer": None}, "channels"),
        ({"max_contacts_per_week": 1, "channels": (), "offer": None}, "channels"),
        ({"max_contacts_per_week": 0, "channels": ("sms",), "offer": None}, "channels"),
        ({"max_contacts_per_week": 1, "channels": ["sms"], "offer": None}, "channels"),
        ({"max_contacts_per_week": 1, "channels": ("sms",), "offer": (6, 10)}, "offer"),
    ],
)
def test_bad_stage_strategies_are_refused(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        StageStrategy(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


@pytest.mark.parametrize(
    ("n", "pct", "field"),
    [(0, 10, "max_instalments"), (61, 10, "max_instalments"), (6, 101, "min_down_payment_pct")],
)
def test_bad_offers_are_refused(n: int, pct: int, field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        InstalmentOffer(n, pct)
    assert info.value.field == field


def test_a_table_must_cover_every_grade_and_stage() -> None:
    table = dict(DEFAULT_STRATEGIES)
    assert check_strategies(table) == DEFAULT_STRATEGIES
    with pytest.raises(InvalidInput) as info:
        check_strategies({g: v for g, v in table.items() if g != "C"})
    assert info.value.field == "grade"
    with pytest.raises(InvalidInput) as info:
        check_strategies({**table, "B": table["B"][:4]})
    assert info.value.field == "stage"
