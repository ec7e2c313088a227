"""The PII vault on a real store (SQLite file; PostgreSQL where enabled): round trips, every
way a ciphertext can be wrong, rotation, erasure, and the access trail of every read."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select, text, update

from debtledger.domain.claims import claim_id as claim_id_of
from debtledger.errors import Erased, InvalidInput, NotFound, VaultError
from debtledger.privacy.keys import MasterKeys
from debtledger.privacy.records import Disclosure, seal_record, verify_disclosure
from debtledger.privacy.trail import Accessor, AccessTrail
from debtledger.privacy.vault import Vault
from debtledger.store.models import pii_access_table, vault_fields_table, vault_keys_table
from tests.privacy.conftest import EXAMPLES

ALICE = hashlib.sha256(b"debtor alice").digest()
BOB = hashlib.sha256(b"debtor bob").digest()
CLAIM = claim_id_of("BANK-A-0001")
GATEWAY = Accessor("gateway", "GATEWAY", "sms-reminder", CLAIM)
PERSONAL = {"phone": "13800138000", "address": "北京市东城区 1 号", "email": "a@example.cn"}


@pytest.fixture
def vault(engine: Engine, keys: MasterKeys) -> Vault:
    v = Vault(engine, keys)
    v.put(ALICE, PERSONAL)
    v.put(BOB, {"phone": "13900139000"})
    return v


def field_row(engine: Engine, debtor: bytes, field: str) -> tuple[bytes, bytes]:
    f = vault_fields_table
    with engine.connect() as conn:
        row = conn.execute(
            select(f.c.nonce, f.c.ciphertext).where(f.c.debtor == debtor, f.c.field == field)
        ).one()
    return bytes(row[0]), bytes(row[1])


def set_field(engine: Engine, debtor: bytes, field: str, nonce: bytes, blob: bytes) -> None:
    f = vault_fields_table
    with engine.begin() as conn:
        conn.execute(
            update(f)
            .where(f.c.debtor == debtor, f.c.field == field)
            .values(nonce=nonce, ciphertext=blob)
        )


def access_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(pii_access_table)).scalar_one())


# ------------------------------------------------------------------ round trips


def test_values_round_trip_and_only_ciphertext_is_stored(vault: Vault, engine: Engine) -> None:
    assert vault.get_many(ALICE, PERSONAL, accessor=GATEWAY) == PERSONAL
    assert vault.get(BOB, "phone", accessor=GATEWAY) == "13900139000"
    assert vault.fields(ALICE) == ["address", "email", "phone"]
    with engine.connect() as conn:
        dump = b"".join(
            bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode()
            for table in (vault_keys_table, vault_fields_table)
            for row in conn.execute(select(table)).all()
            for v in row
        )
    for value in PERSONAL.values():
        assert value.encode() not in dump


def test_put_replaces_a_field_and_keeps_the_others(vault: Vault) -> None:
    vault.put(ALICE, {"phone": "13700137000", "employer": "Acme"})
    assert vault.get(ALICE, "phone", accessor=GATEWAY) == "13700137000"
    assert vault.get(ALICE, "address", accessor=GATEWAY) == PERSONAL["address"]
    assert vault.fields(ALICE) == ["address", "email", "employer", "phone"]


def test_same_value_encrypts_differently_each_time(vault: Vault, engine: Engine) -> None:
    before = field_row(engine, ALICE, "phone")
    vault.put(ALICE, {"phone": PERSONAL["phone"]})
    after = field_row(engine, ALICE, "phone")
    assert before[0] != after[0] and before[1] != after[1]


@settings(
    max_examples=max(5, EXAMPLES // 4),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    fields=st.dictionaries(
        st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=10),
        st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=200),
        min_size=1,
        max_size=6,
    )
)
def test_any_fields_round_trip(engine: Engine, keys: MasterKeys, fields: dict[str, str]) -> None:
    debtor = hashlib.sha256(json.dumps(fields).encode()).digest()
    vault = Vault(engine, keys)
    vault.put(debtor, fields)
    assert vault.get_many(debtor, fields, accessor=GATEWAY) == fields


def test_concurrent_first_puts_of_a_debtor_share_one_data_key(
    engine: Engine, keys: MasterKeys
) -> None:
    """Two writers storing the first fields of a new debtor at once: both land, under one
    data key (on PostgreSQL the key row does not exist yet to be locked)."""
    debtor = hashlib.sha256(b"debtor carol").digest()
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def write(i: int) -> None:
        vault = Vault(engine, keys)
        start.wait()
        try:
            vault.put(debtor, {f"field_{i}": f"value {i}"})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    vault = Vault(engine, keys)
    names = [f"field_{i}" for i in range(4)]
    assert vault.get_many(debtor, names, accessor=GATEWAY) == {n: f"value {n[-1]}" for n in names}


def test_unknown_debtor_or_field_is_not_found(vault: Vault) -> None:
    with pytest.raises(NotFound):
        vault.get(b"\x09" * 32, "phone", accessor=GATEWAY)
    with pytest.raises(NotFound):
        vault.fields(b"\x09" * 32)
    with pytest.raises(NotFound):
        vault.get(ALICE, "national_id", accessor=GATEWAY)


def test_bad_input_names_the_field_without_the_value(vault: Vault) -> None:
    with pytest.raises(InvalidInput) as info:
        vault.put(ALICE, {"phone": "138\n00"})
    assert info.value.field == "phone" and "138" not in str(info.value)
    with pytest.raises(InvalidInput) as info:
        vault.put(ALICE[:16], {"phone": "1"})
    assert info.value.field == "debtor"
    with pytest.raises(InvalidInput) as info:
        vault.get(ALICE, "phone", accessor=Accessor("gateway", "GATEWAY", ""))
    assert info.value.field == "purpose"


# ------------------------------------------------------------------ wrong keys and tampering


def test_wrong_master_key_is_refused(vault: Vault, engine: Engine) -> None:
    impostor = Vault(engine, MasterKeys([("k1", bytes(range(32)))]))
    with pytest.raises(VaultError) as info:
        impostor.get(ALICE, "phone", accessor=GATEWAY)
    assert not isinstance(info.value, Erased)
    missing = Vault(engine, MasterKeys.generate("k9"))
    with pytest.raises(VaultError) as info:
        missing.get(ALICE, "phone", accessor=GATEWAY)
    assert "'k1' is not configured" in str(info.value)


@pytest.mark.parametrize("where", ["nonce", "version", "body", "tag", "truncated"])
def test_tampered_ciphertext_is_refused(vault: Vault, engine: Engine, where: str) -> None:
    nonce, blob = field_row(engine, ALICE, "phone")
    flip = {"version": 0, "body": 3, "tag": len(blob) - 1}
    if where == "nonce":
        nonce = bytes([nonce[0] ^ 1]) + nonce[1:]
    elif where == "truncated":
        blob = blob[:-1]
    else:
        i = flip[where]
        blob = blob[:i] + bytes([blob[i] ^ 1]) + blob[i + 1 :]
    set_field(engine, ALICE, "phone", nonce, blob)
    with pytest.raises(VaultError) as info:
        vault.get(ALICE, "phone", accessor=GATEWAY)
    assert str(info.value) == "cannot decrypt the field (tampered, moved, or under another key)"
    assert vault.get(ALICE, "email", accessor=GATEWAY) == PERSONAL["email"]


def test_tampered_wrapped_key_is_refused(vault: Vault, engine: Engine) -> None:
    k = vault_keys_table
    with engine.begin() as conn:
        wrapped = bytes(conn.execute(select(k.c.wrapped_key).where(k.c.debtor == ALICE)).one()[0])
        tampered = wrapped[:20] + bytes([wrapped[20] ^ 0x80]) + wrapped[21:]
        conn.execute(update(k).where(k.c.debtor == ALICE).values(wrapped_key=tampered))
    with pytest.raises(VaultError):
        vault.get(ALICE, "phone", accessor=GATEWAY)


def test_ciphertext_moved_to_another_debtor_is_refused(vault: Vault, engine: Engine) -> None:
    set_field(engine, BOB, "phone", *field_row(engine, ALICE, "phone"))
    with pytest.raises(VaultError):
        vault.get(BOB, "phone", accessor=GATEWAY)


def test_ciphertext_moved_to_another_field_is_refused(vault: Vault, engine: Engine) -> None:
    """Same debtor, same data key: only the AAD's field name stops the swap."""
    set_field(engine, ALICE, "email", *field_row(engine, ALICE, "phone"))
    with pytest.raises(VaultError):
        vault.get(ALICE, "email", accessor=GATEWAY)


def test_wrapped_key_moved_to_another_debtor_is_refused(vault: Vault, engine: Engine) -> None:
    """Bob's row given Alice's wrapped data key (and her ciphertext): the wrap's AAD binds
    the debtor."""
    k = vault_keys_table
    with engine.begin() as conn:
        wrapped = conn.execute(select(k.c.wrapped_key).where(k.c.debtor == ALICE)).scalar_one()
        conn.execute(update(k).where(k.c.debtor == BOB).values(wrapped_key=wrapped))
    set_field(engine, BOB, "phone", *field_row(engine, ALICE, "phone"))
    with pytest.raises(VaultError):
        vault.get(BOB, "phone", accessor=GATEWAY)


def test_failed_decryption_leaves_no_access_record(vault: Vault, engine: Engine) -> None:
    set_field(engine, ALICE, "email", *field_row(engine, ALICE, "phone"))
    with pytest.raises(VaultError):
        vault.get_many(ALICE, ["phone", "email"], accessor=GATEWAY)
    assert access_count(engine) == 0


# ------------------------------------------------------------------ rotation


def test_rotation_rewraps_keys_and_leaves_ciphertexts(vault: Vault, engine: Engine) -> None:
    before = {(d, n): field_row(engine, d, n) for d, n in [(ALICE, "phone"), (BOB, "phone")]}
    both = vault.master_keys.with_new_key("k2")
    rotating = Vault(engine, both)
    assert rotating.rotate() == 2
    assert rotating.rotate() == 0  # nothing left to do
    assert rotating.key_ids_in_use() == {"k2": 2}
    assert {k: field_row(engine, *k) for k in before} == before
    only_new = Vault(engine, both.without("k1"))
    assert only_new.get_many(ALICE, PERSONAL, accessor=GATEWAY) == PERSONAL
    assert only_new.get(BOB, "phone", accessor=GATEWAY) == "13900139000"
    with pytest.raises(VaultError):  # the old key alone no longer opens anything
        vault.get(ALICE, "phone", accessor=GATEWAY)


def test_rotation_to_an_unknown_key_is_refused(vault: Vault) -> None:
    with pytest.raises(VaultError):
        vault.rotate("k7")


def test_rotation_skips_erased_debtors(vault: Vault, engine: Engine) -> None:
    vault.erase(BOB)
    rotating = Vault(engine, vault.master_keys.with_new_key("k2"))
    assert rotating.rotate("k2") == 1
    k = vault_keys_table
    with engine.connect() as conn:
        row = conn.execute(select(k.c.wrapped_key).where(k.c.debtor == BOB)).one()
    assert row[0] is None


# ------------------------------------------------------------------ erasure


def test_erasure_destroys_key_and_ciphertexts_in_one_go(vault: Vault, engine: Engine) -> None:
    record = vault.erase(ALICE)
    assert record.debtor == ALICE and record.fields == 3
    k, f = vault_keys_table, vault_fields_table
    with engine.connect() as conn:
        key_row = conn.execute(select(k).where(k.c.debtor == ALICE)).mappings().one()
        left = conn.execute(select(func.count()).select_from(f).where(f.c.debtor == ALICE))
        assert left.scalar_one() == 0
    assert key_row["wrapped_key"] is None and key_row["erased_at"] == record.erased_at
    calls: list[Callable[[], object]] = [
        lambda: vault.get(ALICE, "phone", accessor=GATEWAY),
        lambda: vault.fields(ALICE),
        lambda: vault.put(ALICE, {"phone": "1"}),
        lambda: vault.erase(ALICE),
    ]
    for call in calls:
        with pytest.raises(Erased):
            call()
    assert vault.is_erased(ALICE) and not vault.is_erased(BOB)
    assert vault.get(BOB, "phone", accessor=GATEWAY) == "13900139000"  # others untouched
    with pytest.raises(NotFound):
        vault.erase(b"\x05" * 32)


def test_erasure_record_is_anchorable_and_holds_no_personal_data(vault: Vault) -> None:
    record = vault.erase(ALICE)
    leaf = record.leaf_bytes()
    assert json.loads(leaf) == record.to_json()
    assert json.loads(leaf)["debtor"] == "0x" + ALICE.hex()
    assert record.digest == hashlib.sha256(leaf).digest()
    for value in PERSONAL.values():
        assert value.encode() not in leaf
    assert abs(record.at.timestamp() - datetime.now(UTC).timestamp()) < 60


def test_after_erasure_the_non_personal_disclosure_still_verifies(
    engine: Engine, keys: MasterKeys
) -> None:
    """The creditor's flow: seal, personal openings (value + salt) into the vault, the
    non-personal disclosure kept in the clear; then the debtor's data is erased."""
    record = {
        "debtor_name": "李四",
        "phone": "13800138000",
        "contract_no": "HT-1",
        "principal_fen": "500000",
        "outstanding_fen": "500000",
        "currency": "CNY",
        "due_date": "2026-03-01",
    }
    sealed = seal_record(CLAIM, record)
    vault = Vault(engine, keys)
    vault.put(ALICE, {n: o.to_text() for n, o in sealed.personal_openings().items()})
    kept = sealed.disclose_non_personal().to_text()
    vault.erase(ALICE)
    with pytest.raises(Erased):
        vault.get(ALICE, "phone", accessor=GATEWAY)
    shown = verify_disclosure(Disclosure.from_text(kept), sealed.record_hash, CLAIM)
    assert shown["outstanding_fen"] == "500000" and "phone" not in shown


# ------------------------------------------------------------------ access trail


def test_every_read_is_recorded_with_who_and_why(vault: Vault, engine: Engine) -> None:
    court = Accessor("court", "COURT", "case 2026-17 full record")
    vault.get(ALICE, "phone", accessor=GATEWAY)
    vault.get_many(ALICE, ["address", "email"], accessor=court)
    got = AccessTrail(engine).list()
    assert [(r.actor_org, r.actor_role, r.field, r.claim_id) for r in got] == [
        ("gateway", "GATEWAY", "phone", CLAIM),
        ("court", "COURT", "address", None),
        ("court", "COURT", "email", None),
    ]
    assert all(r.debtor == ALICE for r in got)
    assert got[1].purpose == "case 2026-17 full record"
    vault.fields(ALICE)  # names only: no decryption, no record
    assert access_count(engine) == 3


def test_no_value_comes_out_when_the_access_cannot_be_recorded(
    vault: Vault, engine: Engine
) -> None:
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE pii_access RENAME TO pii_access_gone"))
    with pytest.raises(Exception) as info:  # noqa: PT011 - whatever the database raises
        vault.get(ALICE, "phone", accessor=GATEWAY)
    assert not isinstance(info.value, VaultError)
    assert PERSONAL["phone"] not in str(info.value)


def test_trail_lists_by_time_debtor_and_page(engine: Engine) -> None:
    clock = iter(float(t) for t in range(1_000, 1_010))
    trail = AccessTrail(engine, clock=lambda: next(clock))
    made = [
        trail.record("agency-x", "AGENCY", ALICE if i % 2 else BOB, "phone", "call")
        for i in range(10)
    ]
    assert [r.id for r in trail.list()] == [r.id for r in made]
    assert [r.id for r in trail.list(debtor=ALICE)] == [r.id for r in made if r.debtor == ALICE]
    since, until = datetime.fromtimestamp(1_003, UTC), datetime.fromtimestamp(1_006, UTC)
    assert [r.accessed_at for r in trail.list(since=since, until=until)] == [1003, 1004, 1005]
    page1 = trail.list(limit=4)
    page2 = trail.list(limit=4, after=page1[-1].id)
    assert [r.id for r in page1 + page2] == [r.id for r in made[:8]]
    with pytest.raises(InvalidInput):
        trail.list(limit=0)
    with pytest.raises(InvalidInput):
        trail.list(since=datetime(2026, 1, 1))  # naive


def test_access_record_leaf_is_canonical_and_stable(engine: Engine) -> None:
    trail = AccessTrail(engine)
    written = trail.record("gateway", "GATEWAY", ALICE, "phone", "短信提醒", CLAIM)
    (read,) = trail.list()
    assert read == written
    assert read.leaf_bytes() == written.leaf_bytes()
    leaf = json.loads(read.leaf_bytes())
    assert leaf["purpose"] == "短信提醒" and leaf["claim_id"] == "0x" + CLAIM.hex()
    assert leaf["accessed_at"].endswith("Z") and leaf["id"] == written.id
    assert read.leaf_bytes() == json.dumps(
        leaf, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")
