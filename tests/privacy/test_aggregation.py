"""Paillier aggregation of exposure: sums, shares, what each role refuses, and the JSON
forms. 1024-bit keys for speed, and one full round at the production size (3072 bits)."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from debtledger.errors import InvalidInput
from debtledger.privacy.aggregation import (
    MAX_AMOUNT,
    Aggregate,
    Aggregator,
    CoordinationKeyHolder,
    PublicKey,
    encrypt_exposure,
    exposure_shares,
    parse_ciphertext,
    share,
)
from tests.privacy.conftest import EXAMPLES


@pytest.fixture(scope="module")
def holder() -> CoordinationKeyHolder:
    return CoordinationKeyHolder(1024)


@pytest.fixture(scope="module")
def stranger() -> CoordinationKeyHolder:
    return CoordinationKeyHolder(1024)


def forged(public_key: PublicKey, c: int) -> str:
    """A ciphertext message naming `public_key` but carrying `c`."""
    return json.dumps(
        {"format": "debtledger-paillier-ciphertext/1", "key": public_key.fingerprint, "c": f"{c:x}"}
    )


# ------------------------------------------------------------------ sums and shares


@settings(max_examples=max(10, EXAMPLES // 2), deadline=None)
@given(amounts=st.lists(st.integers(0, MAX_AMOUNT), min_size=3, max_size=10))
def test_decrypted_sum_equals_the_plaintext_sum(
    holder: CoordinationKeyHolder, amounts: list[int]
) -> None:
    ciphertexts = [encrypt_exposure(holder.public_key, a) for a in amounts]
    aggregate = Aggregator(holder.public_key).add(ciphertexts)
    assert aggregate.count == len(amounts)
    assert holder.decrypt_aggregate(aggregate) == sum(amounts)


@settings(max_examples=max(10, EXAMPLES // 2), deadline=None)
@given(
    amounts=st.dictionaries(
        st.sampled_from([f"bank-{c}" for c in "abcdefghij"]),
        st.integers(0, 10**12),
        min_size=3,
        max_size=10,
    )
)
def test_each_creditor_gets_its_exact_share(
    holder: CoordinationKeyHolder, amounts: dict[str, int]
) -> None:
    shares = exposure_shares(amounts, holder)
    total = sum(amounts.values())
    for name, got in shares.items():
        assert got.total_fen == total and got.own_fen == amounts[name]
        expected = Fraction(amounts[name], total) if total else Fraction(0)
        assert got.fraction == expected
        assert abs(got.basis_points - expected * 10_000) <= Fraction(1, 2)
    if total:
        assert sum(s.fraction for s in shares.values()) == 1


@pytest.mark.parametrize(
    ("own", "total", "bps"),
    [(1, 3, 3333), (2, 3, 6667), (1, 20_000, 1), (1, 20_001, 0), (5, 5, 10_000), (0, 0, 0)],
)
def test_basis_points_round_half_up(own: int, total: int, bps: int) -> None:
    assert share(own, total).basis_points == bps


def test_share_refuses_impossible_amounts() -> None:
    for own, total in ((2, 1), (-1, 5)):
        with pytest.raises(InvalidInput):
            share(own, total)


def test_a_full_round_at_3072_bits() -> None:
    holder = CoordinationKeyHolder()
    assert holder.public_key.bits == 3072
    amounts = {"bank-a": 1_250_000, "bank-b": 3_750_000, "bank-c": 0}
    shares = exposure_shares(amounts, holder)
    assert shares["bank-a"].fraction == Fraction(1, 4)
    assert shares["bank-b"].basis_points == 7_500
    assert shares["bank-c"].fraction == 0
    # The transported form is what the aggregator gets.
    wire = [
        encrypt_exposure(PublicKey.from_text(holder.public_key.to_text()), a) for a in (7, 8, 9)
    ]
    received = Aggregate.from_text(Aggregator(holder.public_key).add(wire).to_text())
    assert holder.decrypt_aggregate(received) == 24


# ------------------------------------------------------------------ what each role refuses


def test_ciphertexts_are_randomised(holder: CoordinationKeyHolder) -> None:
    a, b = (encrypt_exposure(holder.public_key, 500) for _ in range(2))
    assert json.loads(a)["c"] != json.loads(b)["c"]


def test_ciphertext_under_another_key_is_refused(
    holder: CoordinationKeyHolder, stranger: CoordinationKeyHolder
) -> None:
    mine = [encrypt_exposure(holder.public_key, 1) for _ in range(2)]
    theirs = encrypt_exposure(stranger.public_key, 1)
    with pytest.raises(InvalidInput) as info:
        Aggregator(holder.public_key).add([*mine, theirs])
    assert info.value.row == 2 and "another public key" in str(info.value)


def test_out_of_range_ciphertexts_are_refused(holder: CoordinationKeyHolder) -> None:
    pk = holder.public_key
    for c in (0, pk.n, pk.n * pk.n, pk.n * pk.n + 5):
        with pytest.raises(InvalidInput) as info:
            parse_ciphertext(pk, forged(pk, c))
        assert info.value.field == "ciphertext"
    for text in ("not json", "{}", forged(pk, 1).replace('"c"', '"x"'), forged(pk, 1)[:-2] + "}"):
        with pytest.raises(InvalidInput):
            parse_ciphertext(pk, text)


def test_key_holder_refuses_small_foreign_or_garbage_aggregates(
    holder: CoordinationKeyHolder, stranger: CoordinationKeyHolder
) -> None:
    pk = holder.public_key
    one = parse_ciphertext(pk, encrypt_exposure(pk, 123))
    with pytest.raises(InvalidInput) as info:  # a single ciphertext passed off as a sum
        holder.decrypt_aggregate(Aggregate(pk.fingerprint, one, 1))
    assert "give an amount away" in str(info.value)
    three = Aggregator(stranger.public_key).add(
        [encrypt_exposure(stranger.public_key, 1) for _ in range(3)]
    )
    with pytest.raises(InvalidInput):
        holder.decrypt_aggregate(three)
    with pytest.raises(InvalidInput):  # an arbitrary value decrypts far beyond any sum
        holder.decrypt_aggregate(Aggregate(pk.fingerprint, pk.n + 12345, 3))


def test_amounts_must_be_whole_non_negative_fen(holder: CoordinationKeyHolder) -> None:
    for bad in (-1, MAX_AMOUNT + 1, 1.5, True, "100"):
        with pytest.raises(InvalidInput) as info:
            encrypt_exposure(holder.public_key, bad)
        assert info.value.field == "amount_fen"


def test_aggregator_needs_contributions(holder: CoordinationKeyHolder) -> None:
    with pytest.raises(InvalidInput):
        Aggregator(holder.public_key).add([])


# ------------------------------------------------------------------ JSON forms


def test_public_key_round_trips_and_bad_moduli_are_refused(holder: CoordinationKeyHolder) -> None:
    pk = holder.public_key
    again = PublicKey.from_text(pk.to_text())
    assert again == pk and again.fingerprint == pk.fingerprint
    for n in (pk.n + 1, 2**512 + 1):  # even; too small
        with pytest.raises(InvalidInput):
            PublicKey.from_json({"format": "debtledger-paillier-public-key/1", "n": f"{n:x}"})
    with pytest.raises(InvalidInput):
        PublicKey.from_json({"format": "debtledger-paillier-public-key/1", "n": "0x12"})
    assert "hidden" in repr(holder) and str(holder._private.p) not in repr(holder)


def test_aggregate_json_is_checked(holder: CoordinationKeyHolder) -> None:
    agg = Aggregator(holder.public_key).add([encrypt_exposure(holder.public_key, 5)] * 3)
    assert Aggregate.from_text(agg.to_text()) == agg
    for change in ({"count": "3"}, {"count": True}, {"key": "nope"}, {"format": "x"}):
        with pytest.raises(InvalidInput):
            Aggregate.from_json({**agg.to_json(), **change})
