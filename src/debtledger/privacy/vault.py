"""The PII vault: personal data encrypted at rest with AES-256-GCM envelope encryption, one
data key per debtor pseudonym, wrapped by a master key that never touches the store.

  data key   32 random bytes per debtor; stored wrapped: nonce[12] || AES-GCM(master key,
             data key, AAD = WRAP_TAG || debtor || master key id)
  field      version[1] || AES-GCM(data key, UTF-8 value, AAD = version || FIELD_TAG ||
             debtor || field name), with a random 12-byte nonce of its own

The AADs bind every ciphertext to its debtor and field (a value copied to another row does
not decrypt) and every wrapped key to its debtor and master key id. Rotation re-wraps data
keys without touching field ciphertexts. Erasure destroys the debtor's wrapped data key and
ciphertexts in one transaction (crypto-shredding). Every read writes an access record in
the same transaction, so nothing is decrypted unrecorded.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, Engine, RowMapping, delete, func, insert, select, update

from debtledger.errors import Erased, InvalidInput, NotFound, VaultError
from debtledger.privacy.keys import MasterKeys
from debtledger.privacy.records import check_field_name, check_value
from debtledger.privacy.trail import Accessor, AccessTrail, check_debtor
from debtledger.store.db import take_turns
from debtledger.store.models import vault_fields_table, vault_keys_table

VERSION = 1
WRAP_TAG = b"debtledger/vault-key/v1\x00"
FIELD_TAG = b"debtledger/vault-field/v1\x00"
ERASURE_TYPE = "debtledger-vault-erasure/1"
NONCE_SIZE = 12
KEY_SIZE = 32
WRAPPED_SIZE = NONCE_SIZE + KEY_SIZE + 16
MAX_FIELDS_PER_PUT = 256
ROTATE_BATCH = 500

_UNWRAP_FAILED = "cannot unwrap the debtor's data key (wrong master key or tampered key)"
_DECRYPT_FAILED = "cannot decrypt the field (tampered, moved, or under another key)"


@dataclass(frozen=True)
class ErasureRecord:
    """Proof-of-erasure statement: which debtor's data was destroyed, when, how many
    fields. `digest` (SHA-256 of `leaf_bytes`) is what gets anchored."""

    debtor: bytes
    erased_at: float  # unix seconds
    fields: int

    @property
    def at(self) -> datetime:
        return datetime.fromtimestamp(self.erased_at, UTC)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": ERASURE_TYPE,
            "debtor": "0x" + self.debtor.hex(),
            "erased_at": self.at.isoformat(timespec="microseconds").replace("+00:00", "Z"),
            "fields": self.fields,
        }

    def leaf_bytes(self) -> bytes:
        """Canonical JSON (sorted keys, no spaces, UTF-8)."""
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":")).encode()

    @property
    def digest(self) -> bytes:
        return hashlib.sha256(self.leaf_bytes()).digest()


def _wrap_aad(debtor: bytes, key_id: str) -> bytes:
    return WRAP_TAG + debtor + key_id.encode("ascii")


def _field_aad(debtor: bytes, field: str) -> bytes:
    return bytes([VERSION]) + FIELD_TAG + debtor + field.encode("ascii")


def wrap_key(master: bytes, key_id: str, debtor: bytes, data_key: bytes) -> bytes:
    """nonce || AES-GCM(master, data key) bound to the debtor and the master key id."""
    nonce = os.urandom(NONCE_SIZE)
    return nonce + AESGCM(master).encrypt(nonce, data_key, _wrap_aad(debtor, key_id))


def unwrap_key(master: bytes, key_id: str, debtor: bytes, wrapped: bytes) -> bytes:
    """The data key inside `wrapped`; VaultError if it does not authenticate."""
    if len(wrapped) != WRAPPED_SIZE:
        raise VaultError(_UNWRAP_FAILED)
    try:
        key = AESGCM(master).decrypt(
            wrapped[:NONCE_SIZE], wrapped[NONCE_SIZE:], _wrap_aad(debtor, key_id)
        )
    except InvalidTag:
        raise VaultError(_UNWRAP_FAILED) from None
    if len(key) != KEY_SIZE:
        raise VaultError(_UNWRAP_FAILED)
    return key


def encrypt_field(data_key: bytes, debtor: bytes, field: str, value: str) -> tuple[bytes, bytes]:
    """(nonce, version || ciphertext) of one field value."""
    nonce = os.urandom(NONCE_SIZE)
    sealed = AESGCM(data_key).encrypt(nonce, value.encode("utf-8"), _field_aad(debtor, field))
    return nonce, bytes([VERSION]) + sealed


def decrypt_field(data_key: bytes, debtor: bytes, field: str, nonce: bytes, blob: bytes) -> str:
    """The value of one field; VaultError if it does not authenticate here."""
    if len(nonce) != NONCE_SIZE or not blob or blob[0] != VERSION:
        raise VaultError(_DECRYPT_FAILED)
    try:
        plain = AESGCM(data_key).decrypt(nonce, blob[1:], _field_aad(debtor, field))
        return plain.decode("utf-8")
    except (InvalidTag, UnicodeDecodeError):
        raise VaultError(_DECRYPT_FAILED) from None


class Vault:
    """Encrypted personal data by debtor pseudonym and field name, on the store's engine."""

    def __init__(
        self,
        engine: Engine,
        master_keys: MasterKeys,
        *,
        trail: AccessTrail | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.master_keys = master_keys
        self.trail = trail or AccessTrail(engine, clock=clock)
        self.clock = clock

    def __repr__(self) -> str:
        return f"Vault(master_keys={self.master_keys!r})"

    # -------------------------------------------------------------- write

    def put(self, debtor: bytes, fields: Mapping[str, str]) -> None:
        """Store (or replace) fields of a debtor, making its data key on first use.
        Refused with Erased once the debtor's data was erased."""
        check_debtor(debtor)
        if not fields:
            raise InvalidInput("give at least one field", field="fields")
        if len(fields) > MAX_FIELDS_PER_PUT:
            raise InvalidInput(f"at most {MAX_FIELDS_PER_PUT} fields at once", field="fields")
        for name, value in fields.items():
            check_field_name(name)
            check_value(name, value)
        k, f = vault_keys_table, vault_fields_table
        with self.engine.begin() as conn:
            take_turns(conn, "vault:" + debtor.hex())
            row = conn.execute(select(k).where(k.c.debtor == debtor)).mappings().first()
            now = self.clock()
            if row is None:
                data_key = AESGCM.generate_key(bit_length=256)
                key_id = self.master_keys.current_id
                wrapped = wrap_key(self.master_keys.current, key_id, debtor, data_key)
                conn.execute(
                    insert(k).values(
                        debtor=debtor,
                        master_key_id=key_id,
                        wrapped_key=wrapped,
                        created_at=now,
                        erased_at=None,
                    )
                )
                existing: set[str] = set()
            else:
                data_key = self._data_key(row)
                existing = set(
                    conn.execute(select(f.c.field).where(f.c.debtor == debtor)).scalars()
                )
            for name, value in sorted(fields.items()):
                nonce, blob = encrypt_field(data_key, debtor, name, value)
                values = {"nonce": nonce, "ciphertext": blob, "updated_at": now}
                if name in existing:
                    conn.execute(
                        update(f).where(f.c.debtor == debtor, f.c.field == name).values(**values)
                    )
                else:
                    conn.execute(insert(f).values(debtor=debtor, field=name, **values))

    # -------------------------------------------------------------- read

    def get(self, debtor: bytes, field: str, *, accessor: Accessor) -> str:
        """One field's value, recording the access (by `accessor`) in the same transaction;
        the value is returned only once that record is committed."""
        return self.get_many(debtor, [field], accessor=accessor)[field]

    def get_many(
        self, debtor: bytes, names: Iterable[str], *, accessor: Accessor
    ) -> dict[str, str]:
        """Several fields of one debtor, one access record per field, in one transaction."""
        check_debtor(debtor)
        accessor.check()
        wanted = sorted(set(names))
        if not wanted:
            raise InvalidInput("give at least one field", field="fields")
        for name in wanted:
            check_field_name(name)
        f = vault_fields_table
        out: dict[str, str] = {}
        with self.engine.begin() as conn:
            data_key = self._data_key(self._key_row(conn, debtor))
            rows = {
                r["field"]: r
                for r in conn.execute(
                    select(f.c.field, f.c.nonce, f.c.ciphertext).where(
                        f.c.debtor == debtor, f.c.field.in_(wanted)
                    )
                ).mappings()
            }
            for name in wanted:
                if name not in rows:
                    raise NotFound(f"the vault holds no field '{name}' for this debtor")
                r = rows[name]
                out[name] = decrypt_field(
                    data_key, debtor, name, bytes(r["nonce"]), bytes(r["ciphertext"])
                )
                self.trail.record_in(conn, accessor, debtor, name)
        return out

    def fields(self, debtor: bytes) -> list[str]:
        """The names of the debtor's stored fields (no decryption, no access record)."""
        check_debtor(debtor)
        f = vault_fields_table
        with self.engine.connect() as conn:
            self._key_row(conn, debtor)
            names = conn.execute(
                select(f.c.field).where(f.c.debtor == debtor).order_by(f.c.field)
            ).scalars()
            return list(names)

    # -------------------------------------------------------------- keys

    def rotate(self, new_key_id: str | None = None) -> int:
        """Re-wrap every live data key under master key `new_key_id` (default: the current
        one); field ciphertexts are not touched. Returns how many were re-wrapped; once it
        returns, the old master keys are no longer needed. Runs in batches, each its own
        transaction, so it can be interrupted and run again."""
        key_id = new_key_id or self.master_keys.current_id
        new_master = self.master_keys.get(key_id)
        k = vault_keys_table
        done = 0
        while True:
            with self.engine.begin() as conn:
                rows = (
                    conn.execute(
                        select(k.c.debtor, k.c.master_key_id, k.c.wrapped_key)
                        .where(k.c.master_key_id != key_id, k.c.wrapped_key.is_not(None))
                        .order_by(k.c.debtor)
                        .limit(ROTATE_BATCH)
                    )
                    .mappings()
                    .all()
                )
                if not rows:
                    return done
                for r in rows:
                    debtor, old = bytes(r["debtor"]), bytes(r["wrapped_key"])
                    old_id = r["master_key_id"]
                    data_key = unwrap_key(self.master_keys.get(old_id), old_id, debtor, old)
                    # Compare-and-set: a debtor erased meanwhile must stay erased.
                    result = conn.execute(
                        update(k)
                        .where(
                            k.c.debtor == debtor,
                            k.c.master_key_id == old_id,
                            k.c.wrapped_key == old,
                        )
                        .values(
                            master_key_id=key_id,
                            wrapped_key=wrap_key(new_master, key_id, debtor, data_key),
                        )
                    )
                    done += result.rowcount

    def key_ids_in_use(self) -> dict[str, int]:
        """How many live data keys each master key id wraps (to know when an old master key
        can be retired)."""
        k = vault_keys_table
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(k.c.master_key_id, func.count())
                .where(k.c.wrapped_key.is_not(None))
                .group_by(k.c.master_key_id)
            ).all()
        return {str(key_id): int(n) for key_id, n in rows}

    # -------------------------------------------------------------- erase

    def erase(self, debtor: bytes) -> ErasureRecord:
        """Destroy the debtor's data key and ciphertexts, durably, in one transaction.
        Access records stay (they hold the pseudonym only)."""
        check_debtor(debtor)
        k, f = vault_keys_table, vault_fields_table
        with self.engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                # Overwrite freed content with zeros rather than leave it in free pages.
                conn.exec_driver_sql("PRAGMA secure_delete=ON")
            take_turns(conn, "vault:" + debtor.hex())
            self._key_row(conn, debtor)
            count = conn.execute(delete(f).where(f.c.debtor == debtor)).rowcount
            now = self.clock()
            conn.execute(
                update(k).where(k.c.debtor == debtor).values(wrapped_key=None, erased_at=now)
            )
        return ErasureRecord(debtor=debtor, erased_at=now, fields=int(count))

    def is_erased(self, debtor: bytes) -> bool:
        """True when the debtor's data was erased; NotFound when the vault never held it."""
        check_debtor(debtor)
        k = vault_keys_table
        with self.engine.connect() as conn:
            row = conn.execute(select(k.c.erased_at).where(k.c.debtor == debtor)).first()
        if row is None:
            raise NotFound("the vault holds nothing for this debtor")
        return row[0] is not None

    # -------------------------------------------------------------- internals

    def _key_row(self, conn: Connection, debtor: bytes) -> RowMapping:
        k = vault_keys_table
        row = conn.execute(select(k).where(k.c.debtor == debtor)).mappings().first()
        if row is None:
            raise NotFound("the vault holds nothing for this debtor")
        if row["wrapped_key"] is None:
            raise Erased("this debtor's personal data was erased")
        return row

    def _data_key(self, row: RowMapping) -> bytes:
        if row["wrapped_key"] is None:
            raise Erased("this debtor's personal data was erased")
        key_id = str(row["master_key_id"])
        return unwrap_key(
            self.master_keys.get(key_id), key_id, bytes(row["debtor"]), bytes(row["wrapped_key"])
        )
