"""Selective disclosure of claim records: what verifies, every way a disclosure can be
forged or replayed, the JSON forms, and the creditor's signature."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import pytest
from eth_account import Account
from hypothesis import given, settings
from hypothesis import strategies as st

from debtledger.domain.claims import claim_id as claim_id_of
from debtledger.errors import InvalidInput, InvalidProof
from debtledger.privacy.records import (
    FIELD_TAG,
    NON_PERSONAL_FIELDS,
    PERSONAL_FIELDS,
    RECORD_TAG,
    Disclosure,
    Opening,
    SealedRecord,
    add_openings,
    combine_digests,
    field_digest,
    is_personal,
    recover_signer,
    seal_record,
    sign_record,
    verify_disclosure,
    verify_signer,
)
from tests.privacy.conftest import EXAMPLES

CLAIM = claim_id_of("BANK-A-0001")
OTHER = claim_id_of("BANK-A-0002")
RECORD = {
    "debtor_name": "张三",
    "national_id": "11010519491231002X",
    "phone": "13800138000",
    "email": "zhang.san@example.cn",
    "address": "北京市东城区 1 号",
    "contract_no": "HT-2026-0001",
    "principal_fen": "1000000",
    "outstanding_fen": "850000",
    "currency": "CNY",
    "due_date": "2026-01-15",
    "contract_doc_hash": "ab" * 32,
}


@pytest.fixture
def sealed() -> SealedRecord:
    return seal_record(CLAIM, RECORD)


# ------------------------------------------------------------------ what verifies


def test_full_disclosure_returns_every_field(sealed: SealedRecord) -> None:
    assert verify_disclosure(sealed.disclose_all(), sealed.record_hash, CLAIM) == RECORD


def test_non_personal_disclosure_hides_personal_fields(sealed: SealedRecord) -> None:
    disclosure = sealed.disclose_non_personal()
    got = verify_disclosure(disclosure, sealed.record_hash, CLAIM)
    assert set(got) == NON_PERSONAL_FIELDS
    assert len(disclosure.undisclosed) == len(PERSONAL_FIELDS)
    text = disclosure.to_text()
    for name in PERSONAL_FIELDS:
        assert RECORD[name] not in text


def test_unknown_fields_count_as_personal() -> None:
    sealed = seal_record(CLAIM, {**RECORD, "employer": "Acme"})
    assert is_personal("employer") and not is_personal("currency")
    assert "employer" not in sealed.disclose_non_personal().names
    assert "employer" in sealed.personal_openings()


def test_each_field_has_its_own_random_salt() -> None:
    a, b = seal_record(CLAIM, RECORD), seal_record(CLAIM, RECORD)
    assert len(set(a.salts.values())) == len(RECORD)
    assert all(len(s) == 16 for s in a.salts.values())
    assert a.record_hash != b.record_hash  # same values, fresh salts


def test_encoding_matches_the_documented_layout() -> None:
    salt = bytes(range(16))
    name, value = "phone", "13800138000"
    expected = hashlib.sha256(
        FIELD_TAG
        + CLAIM
        + len(name).to_bytes(2, "big")
        + name.encode()
        + salt
        + len(value).to_bytes(4, "big")
        + value.encode()
    ).digest()
    assert field_digest(CLAIM, name, salt, value) == expected
    d1, d2 = b"\x02" * 32, b"\x01" * 32
    assert (
        combine_digests(CLAIM, [d1, d2])
        == hashlib.sha256(RECORD_TAG + CLAIM + (2).to_bytes(4, "big") + d2 + d1).digest()
    )


def test_name_and_value_boundaries_are_unambiguous() -> None:
    salt = bytes(16)
    assert field_digest(CLAIM, "a", salt, "bc") != field_digest(CLAIM, "ab", salt, "c")
    assert field_digest(CLAIM, "a", salt, "") != field_digest(CLAIM, "a", salt, "\u00a0")


names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=12)
values = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=30)
records = st.dictionaries(names, values, min_size=1, max_size=12)


@settings(max_examples=EXAMPLES, deadline=None)
@given(record=records, data=st.data())
def test_any_subset_verifies_and_any_change_is_refused(
    record: dict[str, str], data: st.DataObject
) -> None:
    sealed = seal_record(CLAIM, record)
    chosen = data.draw(st.sets(st.sampled_from(sorted(record))), label="disclosed")
    disclosure = sealed.disclose(chosen)
    assert verify_disclosure(disclosure, sealed.record_hash, CLAIM) == {
        n: record[n] for n in chosen
    }
    # Through JSON, as it travels.
    again = Disclosure.from_text(disclosure.to_text())
    assert verify_disclosure(again, sealed.record_hash, CLAIM) == {n: record[n] for n in chosen}
    if chosen:
        victim = data.draw(st.sampled_from(sorted(chosen)), label="tampered")
        changed = data.draw(values.filter(lambda v: v != record[victim]), label="new value")
        forged = _replace_opening(disclosure, victim, value=changed)
        with pytest.raises(InvalidProof):
            verify_disclosure(forged, sealed.record_hash, CLAIM)


# ------------------------------------------------------------------ forgeries


def _replace_opening(disclosure: Disclosure, target: str, **changes: object) -> Disclosure:
    opened = tuple(
        dataclasses.replace(o, **changes) if o.name == target else o for o in disclosure.disclosed
    )
    return dataclasses.replace(disclosure, disclosed=opened)


def test_tampered_value_is_refused(sealed: SealedRecord) -> None:
    forged = _replace_opening(sealed.disclose_non_personal(), "outstanding_fen", value="1")
    with pytest.raises(InvalidProof):
        verify_disclosure(forged, sealed.record_hash, CLAIM)


def test_wrong_salt_is_refused(sealed: SealedRecord) -> None:
    forged = _replace_opening(sealed.disclose_non_personal(), "currency", salt=bytes(16))
    with pytest.raises(InvalidProof):
        verify_disclosure(forged, sealed.record_hash, CLAIM)


def test_field_of_another_claim_is_refused(sealed: SealedRecord) -> None:
    """An opening that verifies for claim B, with the same value, swapped into A's."""
    other = seal_record(OTHER, RECORD)
    foreign = other.opening("outstanding_fen")
    assert foreign.value == RECORD["outstanding_fen"]
    disclosure = sealed.disclose_non_personal()
    forged = _replace_opening(disclosure, "outstanding_fen", salt=foreign.salt)
    with pytest.raises(InvalidProof):
        verify_disclosure(forged, sealed.record_hash, CLAIM)


def test_field_renamed_is_refused(sealed: SealedRecord) -> None:
    forged = _replace_opening(sealed.disclose_non_personal(), "principal_fen", name="principal")
    with pytest.raises(InvalidProof):
        verify_disclosure(forged, sealed.record_hash, CLAIM)


def test_disclosure_replayed_for_another_claim_is_refused(sealed: SealedRecord) -> None:
    other = seal_record(OTHER, RECORD)
    disclosure = sealed.disclose_non_personal()
    # Presented as claim B's, against B's record hash: as given, and relabelled.
    with pytest.raises(InvalidProof):
        verify_disclosure(disclosure, other.record_hash, OTHER)
    relabelled = dataclasses.replace(disclosure, claim_id=OTHER)
    with pytest.raises(InvalidProof):
        verify_disclosure(relabelled, other.record_hash, OTHER)
    with pytest.raises(InvalidProof):  # A's own hash, but named as B
        verify_disclosure(relabelled, sealed.record_hash, OTHER)


def test_field_name_disclosed_twice_is_refused() -> None:
    """A creditor that committed two values for one field cannot open both at once."""
    salt1, salt2 = b"\x01" * 16, b"\x02" * 16
    a = Opening("outstanding_fen", "100", salt1)
    b = Opening("outstanding_fen", "900", salt2)
    record_hash = combine_digests(CLAIM, [a.digest(CLAIM), b.digest(CLAIM)])
    with pytest.raises(InvalidProof):
        verify_disclosure(Disclosure(CLAIM, (a, b), ()), record_hash, CLAIM)
    # Each alone verifies (the limit of partial disclosure, documented).
    assert verify_disclosure(Disclosure(CLAIM, (a,), (b.digest(CLAIM),)), record_hash, CLAIM)


def test_digest_given_twice_is_refused(sealed: SealedRecord) -> None:
    """Even when the record hash was made over the duplicate, the disclosure is refused."""
    disclosure = sealed.disclose_non_personal()
    dup = disclosure.undisclosed[0]
    all_digests = [*sealed.digests.values(), dup]
    record_hash = combine_digests(CLAIM, all_digests)
    doubled = dataclasses.replace(disclosure, undisclosed=(*disclosure.undisclosed, dup))
    with pytest.raises(InvalidProof):
        verify_disclosure(doubled, record_hash, CLAIM)
    # An opened field's digest given again among the undisclosed ones.
    opened = sealed.opening("currency")
    record_hash = combine_digests(CLAIM, [*sealed.digests.values(), opened.digest(CLAIM)])
    again = dataclasses.replace(
        disclosure, undisclosed=(*disclosure.undisclosed, opened.digest(CLAIM))
    )
    with pytest.raises(InvalidProof):
        verify_disclosure(again, record_hash, CLAIM)


def test_dropped_or_extra_digest_is_refused(sealed: SealedRecord) -> None:
    disclosure = sealed.disclose_non_personal()
    for undisclosed in (disclosure.undisclosed[1:], (*disclosure.undisclosed, b"\x07" * 32)):
        with pytest.raises(InvalidProof):
            verify_disclosure(
                dataclasses.replace(disclosure, undisclosed=undisclosed),
                sealed.record_hash,
                CLAIM,
            )


def test_malformed_parts_are_refused_as_invalid_proof(sealed: SealedRecord) -> None:
    disclosure = sealed.disclose_non_personal()
    bad = [
        _replace_opening(disclosure, "currency", salt=b"short"),
        _replace_opening(disclosure, "currency", value="CNY\n"),
        dataclasses.replace(disclosure, undisclosed=(b"\x01" * 31,)),
        Disclosure(CLAIM, (), ()),
    ]
    for forged in bad:
        with pytest.raises(InvalidProof):
            verify_disclosure(forged, sealed.record_hash, CLAIM)
    with pytest.raises(InvalidProof):
        verify_disclosure(disclosure, sealed.record_hash[:31], CLAIM)


def test_error_never_says_which_part_failed(sealed: SealedRecord) -> None:
    messages = set()
    for forged in (
        _replace_opening(sealed.disclose_non_personal(), "currency", value="USD"),
        _replace_opening(sealed.disclose_non_personal(), "currency", salt=bytes(16)),
    ):
        with pytest.raises(InvalidProof) as info:
            verify_disclosure(forged, sealed.record_hash, CLAIM)
        messages.add(str(info.value))
    assert messages == {"disclosure does not verify"}


# ------------------------------------------------------------------ openings and JSON


def test_personal_openings_complete_a_non_personal_disclosure(sealed: SealedRecord) -> None:
    stored = [Opening.from_text(o.to_text()) for o in sealed.personal_openings().values()]
    full = add_openings(sealed.disclose_non_personal(), stored)
    assert verify_disclosure(full, sealed.record_hash, CLAIM) == RECORD
    assert full.undisclosed == ()
    wrong = dataclasses.replace(stored[0], value="someone else")
    with pytest.raises(InvalidProof):
        add_openings(sealed.disclose_non_personal(), [wrong])


def test_sealed_record_round_trips_and_detects_tampering(sealed: SealedRecord) -> None:
    again = SealedRecord.from_text(sealed.to_text())
    assert again.record_hash == sealed.record_hash
    assert again.fields == sealed.fields and again.salts == sealed.salts
    data = json.loads(sealed.to_text())
    data["fields"]["outstanding_fen"]["value"] = "1"
    with pytest.raises(InvalidProof):
        SealedRecord.from_json(data)


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.update(format="other"), "format"),
        (lambda d: d.update(claim_id="0x1234"), "claim_id"),
        (lambda d: d["disclosed"][0].update(salt="zz" * 16), "salt"),
        (lambda d: d["disclosed"][0].pop("salt"), "disclosed"),
        (lambda d: d.update(undisclosed=["ab"]), "undisclosed"),
        (lambda d: d.update(extra=1), "disclosure"),
    ],
)
def test_malformed_disclosure_json_names_the_part(
    sealed: SealedRecord, mutate: object, field: str
) -> None:
    data = sealed.disclose_non_personal().to_json()
    mutate(data)  # type: ignore[operator]
    with pytest.raises(InvalidInput) as info:
        Disclosure.from_json(data)
    assert info.value.field == field


def test_repr_never_shows_values(sealed: SealedRecord) -> None:
    shown = repr(sealed) + repr(sealed.disclose_all()) + repr(sealed.opening("phone"))
    for name in PERSONAL_FIELDS:
        assert RECORD[name] not in shown


# ------------------------------------------------------------------ input validation


def test_field_names_are_lower_case_letters_digits_underscore() -> None:
    for bad in ("Phone", "e-mail", "", "x" * 65, "名字"):
        with pytest.raises(InvalidInput) as info:
            seal_record(CLAIM, {bad: "v"})
        assert info.value.field == "fields"


def test_control_characters_are_refused_naming_the_field_not_the_value() -> None:
    for value in ("line\nbreak", "nul\x00", "esc\x1b[0m", "del\x7f"):
        with pytest.raises(InvalidInput) as info:
            seal_record(CLAIM, {"address": value})
        assert info.value.field == "address"
        assert value not in str(info.value)


def test_claim_id_must_be_32_bytes_and_record_non_empty() -> None:
    with pytest.raises(InvalidInput) as info:
        seal_record(CLAIM[:31], RECORD)
    assert info.value.field == "claim_id"
    with pytest.raises(InvalidInput):
        seal_record(CLAIM, {})


# ------------------------------------------------------------------ creditor signature


def test_signature_recovers_the_creditor() -> None:
    creditor, stranger = Account.create(), Account.create()
    record_hash = seal_record(CLAIM, RECORD).record_hash
    signature = sign_record(record_hash, CLAIM, creditor.key)
    assert len(signature) == 65
    assert recover_signer(record_hash, CLAIM, signature) == creditor.address
    verify_signer(record_hash, CLAIM, signature, creditor.address.lower())
    with pytest.raises(InvalidProof):
        verify_signer(record_hash, CLAIM, signature, stranger.address)


def test_signature_is_bound_to_claim_and_record_hash() -> None:
    creditor = Account.create()
    record_hash = seal_record(CLAIM, RECORD).record_hash
    signature = sign_record(record_hash, CLAIM, creditor.key)
    for cid, rh in ((OTHER, record_hash), (CLAIM, bytes(32))):
        with pytest.raises(InvalidProof):
            verify_signer(rh, cid, signature, creditor.address)


def test_malformed_signature_is_invalid_proof() -> None:
    record_hash = seal_record(CLAIM, RECORD).record_hash
    for sig in (b"", b"\x00" * 64, b"\x00" * 65):
        with pytest.raises(InvalidProof):
            recover_signer(record_hash, CLAIM, sig)
