"""Every table of the off-chain store, on one SQLAlchemy MetaData: the durable outbox and
its nonce counters, and the read model of claims indexed from the registry's events.

Alembic migrations (in `migrations/`) create and change them; nothing calls create_all.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator, TypeEngine

# Stable constraint names, so later migrations (SQLite batch mode) can find them.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    }
)

UINT_DIGITS = 39  # 2**128 - 1 has 39 decimal digits


class UInt(TypeDecorator[int]):
    """An unsigned integer of up to 128 bits (amounts in fen, unix times from uint64).

    PostgreSQL keeps NUMERIC(39, 0). SQLite has no exact integer above 2**63 (NUMERIC
    turns into a float there), so it keeps zero-padded decimal text: exact, and it sorts
    and compares as the number does.
    """

    impl = String(UINT_DIGITS)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(UINT_DIGITS))
        return dialect.type_descriptor(Numeric(UINT_DIGITS, 0, asdecimal=True))

    def process_bind_param(self, value: int | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not 0 <= value < 10**UINT_DIGITS:
            raise ValueError(f"{value} does not fit an unsigned 128-bit column")
        return str(value).zfill(UINT_DIGITS) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        return None if value is None else int(value)


# ---------------------------------------------------------------- outbox

outbox_table = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("idem_key", String(200), nullable=False, unique=True),
    Column("sender", String(42), nullable=False),
    Column("nonce", Integer, nullable=False),
    Column("label", String(100), nullable=False),
    Column("raw_tx", LargeBinary, nullable=False),
    Column("tx_hash", String(66), nullable=False, unique=True),
    Column("status", String(16), nullable=False, index=True),
    Column("block_number", Integer, nullable=True),
    Column("error", Text, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    UniqueConstraint("sender", "nonce", name="uq_outbox_sender_nonce"),
)

nonce_table = Table(
    "nonces",
    metadata,
    Column("sender", String(42), primary_key=True),
    Column("next_nonce", Integer, nullable=False),
)

# ---------------------------------------------------------------- read model

# One row per claim: the state the registry holds, as of `updated_block`. Addresses are
# checksummed; ids and pseudonyms are 0x-hex.
claims_table = Table(
    "claims",
    metadata,
    Column("claim_id", String(66), primary_key=True),
    Column("owner", String(42), nullable=False),
    Column("creditor", String(42), nullable=False),  # the registrant
    Column("debtor", String(66), nullable=False),  # the debtor's pseudonym
    Column("status", String(16), nullable=False),  # ClaimStatus label: active, settled, ...
    Column("principal", UInt(), nullable=False),
    Column("outstanding", UInt(), nullable=False),
    Column("currency", String(8), nullable=False),
    Column("due_date", Date, nullable=False),
    Column("pending_buyer", String(42), nullable=True),
    Column("pending_buy_back", Boolean, nullable=False, default=False),
    Column("mandate_agency", String(42), nullable=True),
    Column("mandate_expiry", UInt(), nullable=True),  # unix seconds
    Column("updated_block", BigInteger, nullable=False),
    # (owner, status) filter and claim-id order of a page: no sort (migration 0003)
    Index("ix_claims_owner_status_claim_id", "owner", "status", "claim_id"),
    Index("ix_claims_mandate_agency", "mandate_agency"),
    Index("ix_claims_due_date", "due_date"),
    Index("ix_claims_debtor", "debtor"),
)

# Every registry event, decoded; `args` holds bytes as 0x-hex. (block, log index) is unique:
# indexing a block twice stores its events once.
claim_events_table = Table(
    "claim_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("block_number", BigInteger, nullable=False),
    Column("block_hash", String(66), nullable=False),
    Column("tx_hash", String(66), nullable=False),
    Column("log_index", Integer, nullable=False),
    Column("name", String(40), nullable=False),
    Column("claim_id", String(66), nullable=False),
    Column("args", JSON, nullable=False),
    UniqueConstraint("block_number", "log_index", name="uq_claim_events_block_log"),
    Index("ix_claim_events_claim", "claim_id", "block_number", "log_index"),
)

# Where the indexer stands: one row per indexed stream (the registry of a deployment).
indexer_state_table = Table(
    "indexer_state",
    metadata,
    Column("stream", String(40), primary_key=True),
    Column("chain_id", BigInteger, nullable=False),
    Column("contract", String(42), nullable=False),
    Column("start_block", BigInteger, nullable=False),
    Column("last_block", BigInteger, nullable=False),
    Column("last_hash", String(66), nullable=True),  # None: nothing indexed yet
    Column("updated_at", Float, nullable=False),
)

# Hashes of the most recently indexed blocks: how far back the chain still agrees with
# the read model after a reorganisation or a node restored from an older snapshot.
indexed_blocks_table = Table(
    "indexed_blocks",
    metadata,
    Column("block_number", BigInteger, primary_key=True),
    Column("block_hash", String(66), nullable=False),
)

# Organisations hosted by this service (each signs with its own key; roles as on chain).
organisations_table = Table(
    "organisations",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("address", String(42), nullable=False, unique=True),
    Column("roles", String(200), nullable=False),  # comma-separated
    Column("created_at", Float, nullable=False),
)

# People of those organisations who act through API keys.
members_table = Table(
    "members",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("org", String(63), ForeignKey("organisations.name"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("org", "name", name="uq_members_org_name"),
)

# API keys: shown once, stored as SHA-256 of the secret, bound to one organisation and role.
api_keys_table = Table(
    "api_keys",
    metadata,
    Column("key_id", String(12), primary_key=True),
    Column("member_id", Integer, ForeignKey("members.id"), nullable=False, index=True),
    Column("org", String(63), ForeignKey("organisations.name"), nullable=False),
    Column("role", String(20), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float, nullable=True),
)

# ---------------------------------------------------------------- evidence

# Evidence items: content-addressed blobs (the file lives in the data folder under its
# SHA-256) with signed metadata; `batch_id` and `leaf_index` once a batch holds the item.
evidence_items_table = Table(
    "evidence_items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("content_hash", LargeBinary(32), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("media_type", String(100), nullable=False),
    Column("claim_id", LargeBinary(32), nullable=True, index=True),
    Column("kind", String(40), nullable=False),
    Column("organisation", String(63), nullable=False),
    Column("submitter", String(42), nullable=False),
    Column("submitted_at", BigInteger, nullable=False),
    Column("statement", Text, nullable=False),  # the signed metadata, canonical JSON
    Column("signature", LargeBinary(65), nullable=False),
    Column("leaf_hash", LargeBinary(32), nullable=False, unique=True),
    Column("batch_id", Integer, ForeignKey("evidence_batches.id"), nullable=True),
    Column("leaf_index", Integer, nullable=True),
    Index("ix_evidence_items_batch_id_leaf_index", "batch_id", "leaf_index"),
)

# Batches: the RFC 6962 root over their items' leaf hashes, and where it was anchored.
evidence_batches_table = Table(
    "evidence_batches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("root", LargeBinary(32), nullable=False, unique=True),
    Column("count", Integer, nullable=False),
    Column("organisation", String(63), nullable=False),
    Column("closed_at", Float, nullable=False),
    Column("operation_id", BigInteger, nullable=True),  # the outbox write that anchors it
    Column("tx_hash", String(66), nullable=True),
    Column("block_number", BigInteger, nullable=True),
    Column("block_time", BigInteger, nullable=True),
)

# ---------------------------------------------------------------- privacy

# The PII vault's data keys: one random AES-256 key per debtor pseudonym, wrapped
# (AES-256-GCM, nonce || ciphertext || tag) by the master key `master_key_id`. Erasure
# destroys the wrapped key (NULL) and records when.
vault_keys_table = Table(
    "vault_keys",
    metadata,
    Column("debtor", LargeBinary(32), primary_key=True),
    Column("master_key_id", String(32), nullable=False, index=True),
    Column("wrapped_key", LargeBinary(60), nullable=True),
    Column("created_at", Float, nullable=False),
    Column("erased_at", Float, nullable=True),
)

# The vault's fields: each value AES-256-GCM under its debtor's data key, bound (AAD) to the
# debtor and field name; `ciphertext` starts with the format version byte.
vault_fields_table = Table(
    "vault_fields",
    metadata,
    Column("debtor", LargeBinary(32), ForeignKey("vault_keys.debtor"), primary_key=True),
    Column("field", String(64), primary_key=True),
    Column("nonce", LargeBinary(12), nullable=False),
    Column("ciphertext", LargeBinary, nullable=False),
    Column("updated_at", Float, nullable=False),
)

# Every decryption of personal data: who, for what, when; written in the transaction that
# reads the ciphertext. The evidence store anchors these records.
pii_access_table = Table(
    "pii_access",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("accessed_at", Float, nullable=False, index=True),
    Column("actor_org", String(63), nullable=False),
    Column("actor_role", String(20), nullable=False),
    Column("debtor", LargeBinary(32), nullable=False),
    Column("field", String(64), nullable=False),
    Column("purpose", String(200), nullable=False),
    Column("claim_id", LargeBinary(32), nullable=True),
    Index("ix_pii_access_debtor_id", "debtor", "id"),
)

# ---- claim records

# Claim records registered through the privacy service: the non-personal part only (the
# non-personal disclosure, which carries the digests of every personal field) and the
# creditor's signature of the record hash. Personal fields and their salts live in the vault.
claim_records_table = Table(
    "claim_records",
    metadata,
    Column("claim_id", LargeBinary(32), primary_key=True),
    Column("claim_ref", String(128), nullable=False),
    Column("idem_key", String(200), nullable=False, unique=True),
    Column("creditor", String(63), nullable=False),  # the registering organisation
    Column("creditor_address", String(42), nullable=False),
    Column("debtor", LargeBinary(32), nullable=False, index=True),  # the pseudonym
    Column("record_hash", LargeBinary(32), nullable=False),
    Column("disclosure", Text, nullable=False),  # non-personal Disclosure, canonical JSON
    Column("signature", LargeBinary(65), nullable=False),  # EIP-191 by the creditor
    Column("operation_id", BigInteger, nullable=True),  # the outbox write that registers it
    Column("created_at", Float, nullable=False),
)

# A court's recorded request to see a claim's personal fields, anchored as evidence
# ("legal-notice"); a court's full disclosure needs one.
legal_requests_table = Table(
    "legal_requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("claim_id", LargeBinary(32), ForeignKey("claim_records.claim_id"), nullable=False),
    Column("court", String(63), nullable=False),
    Column("case_ref", String(100), nullable=False),
    Column("reason", Text, nullable=False),
    Column("requested_at", Float, nullable=False),
    Column("evidence_item_id", Integer, ForeignKey("evidence_items.id"), nullable=True),
    UniqueConstraint("court", "claim_id", "case_ref", name="uq_legal_requests_court_claim_case"),
    Index("ix_legal_requests_claim_id", "claim_id"),
)

# Which access record went into which evidence item: each pii_access row is anchored once.
pii_access_evidence_table = Table(
    "pii_access_evidence",
    metadata,
    Column("access_id", Integer, ForeignKey("pii_access.id"), primary_key=True),
    Column("evidence_item_id", Integer, ForeignKey("evidence_items.id"), nullable=False),
    Column("anchored_at", Float, nullable=False),  # when it was handed to the evidence store
)

# Erasures of a debtor's personal data: asked for (by whom, how many fields), done (when),
# and the evidence item ("erasure") holding the ErasureRecord.
erasures_table = Table(
    "erasures",
    metadata,
    Column("debtor", LargeBinary(32), primary_key=True),
    Column("requested_by", String(63), nullable=False),
    Column("requested_at", Float, nullable=False),
    Column("fields", Integer, nullable=False),
    Column("erased_at", Float, nullable=True),
    Column("evidence_item_id", Integer, ForeignKey("evidence_items.id"), nullable=True),
)

# ---- collection

# The collection engine's read model, indexed from CollectionPolicy and RepaymentPlan events
# as a stream of its own (collection/keeper.py), and the keeper's schedule.

# Policies as their last PolicySet says; `owner` None for a consortium preset. `name` is
# known for presets and for the policies this service created (the chain holds the id only).
collection_policies_table = Table(
    "collection_policies",
    metadata,
    Column("policy_id", String(66), primary_key=True),
    Column("name", String(64), nullable=True),
    Column("owner", String(42), nullable=True, index=True),
    Column("params", JSON, nullable=False),  # domain.policies.to_params order
    Column("updated_block", BigInteger, nullable=False),
)

# One row per enrolled claim: what CollectionPolicy and RepaymentPlan hold for it, enough to
# say when the keeper must look at it next. Times are unix seconds.
collection_claims_table = Table(
    "collection_claims",
    metadata,
    Column("claim_id", String(66), primary_key=True),
    Column("policy_id", String(66), nullable=False, index=True),
    Column("debtor", String(66), nullable=False),
    Column("tz_offset_minutes", Integer, nullable=False),
    Column("due_at", BigInteger, nullable=False),
    Column("stage", Integer, nullable=False),
    Column("paused_since", BigInteger, nullable=False),  # 0: not paused
    Column("paused_seconds", BigInteger, nullable=False),
    Column("plan_state", Integer, nullable=False),  # RepaymentPlan's state, 0: none
    Column("plan_next", Integer, nullable=False),  # index of the next unpaid instalment
    Column("plan_grace_days", Integer, nullable=False),
    Column("plan_dues", JSON, nullable=False),  # due times of the plan's instalments
    Column("updated_block", BigInteger, nullable=False),
)

# Every event of the two contracts, decoded (bytes as 0x-hex); `key` is the claim id, or the
# policy id of a PolicySet. ClaimEnrolled also keeps the claim's due date (`due_date`), read
# from the registry when it was indexed, so replaying events needs no chain.
collection_events_table = Table(
    "collection_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("block_number", BigInteger, nullable=False),
    Column("block_hash", String(66), nullable=False),
    Column("tx_hash", String(66), nullable=False),
    Column("log_index", Integer, nullable=False),
    Column("name", String(40), nullable=False),
    Column("key", String(66), nullable=False),
    Column("args", JSON, nullable=False),
    UniqueConstraint("block_number", "log_index", name="uq_collection_events_block_log"),
    Index("ix_collection_events_key", "key", "block_number", "log_index"),
)

# Hashes of the collection stream's newest indexed blocks (its own fork point).
collection_blocks_table = Table(
    "collection_blocks",
    metadata,
    Column("block_number", BigInteger, primary_key=True),
    Column("block_hash", String(66), nullable=False),
)

# When the keeper must next look at a claim, and why: "stage" (its days past due reach the
# next stage), "plan" (its next instalment is past its grace days), "reminder" (the first
# overdue day's reminder is to be sent). The keeper reads it by `next_check_at` only.
collection_schedule_table = Table(
    "collection_schedule",
    metadata,
    Column("claim_id", String(66), primary_key=True),
    Column("reason", String(16), primary_key=True),
    Column("next_check_at", BigInteger, nullable=False),
    Column("note", String(80), nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Index("ix_collection_schedule_next_check_at", "next_check_at", "claim_id", "reason"),
)

# ---- supervision

# Debtors' complaints, filed through the gateway (or by a regulator) against a claim or one
# of its contacts; `details` is the debtor's own text (kept here and in the evidence item,
# never logged). While a complaint is open the gateway makes no contact for its claim.
complaints_table = Table(
    "complaints",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("claim_id", String(66), nullable=False),
    Column("contact_id", String(64), nullable=True),  # the gateway's "ct_…" id
    Column("contact_item_id", Integer, nullable=True),  # that contact's evidence item
    Column("creditor", String(42), nullable=False),  # the claim's owner when filed
    Column("agency", String(42), nullable=True),  # who the named contact was for, or the
    # mandated agency when filed
    Column("category", String(40), nullable=False),
    Column("details", Text, nullable=False),
    Column("filed_by", String(63), nullable=False),
    Column("filed_role", String(20), nullable=False),
    Column("filed_at", Float, nullable=False),
    Column("idem_key", String(64), nullable=True, unique=True),  # digest scoped to filed_by
    Column("status", String(16), nullable=False),  # open, resolved
    Column("resolved_by", String(63), nullable=True),
    Column("resolved_role", String(20), nullable=True),
    Column("resolved_at", Float, nullable=True),
    Column("resolution", Text, nullable=True),
    Column("evidence_item_id", Integer, ForeignKey("evidence_items.id"), nullable=True),
    Column("resolution_item_id", Integer, ForeignKey("evidence_items.id"), nullable=True),
    Index("ix_complaints_claim_id_status", "claim_id", "status"),
    Index("ix_complaints_filed_at", "filed_at"),
)

# Contacts the contract refused, as the gateway saw them (a reverted transaction leaves no
# event): who asked, for which claim, how, and the rule. `creditor` is the owner then.
refused_attempts_table = Table(
    "refused_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("org", String(63), nullable=False),
    Column("address", String(42), nullable=True),
    Column("creditor", String(42), nullable=True),
    Column("claim_id", String(66), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("rule", String(60), nullable=False),
    Column("attempted_at", Float, nullable=False, index=True),
)

# Violations the compliance monitor found, each once: (kind, source_ref) names what it was
# found in ("evidence:12", "pii:40", "event:<block>:<log>", ...). `organisation` is a name
# where this service knows one, else an address.
violations_table = Table(
    "violations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(40), nullable=False),
    Column("claim_id", String(66), nullable=True, index=True),
    Column("organisation", String(63), nullable=True),
    Column("detail", Text, nullable=False),
    Column("source_ref", String(120), nullable=False),
    Column("occurred_at", Float, nullable=True),
    Column("detected_at", Float, nullable=False),
    UniqueConstraint("kind", "source_ref", name="uq_violations_kind_source_ref"),
    Index("ix_violations_kind_id", "kind", "id"),
)

# How far the monitor has read each of its sources (the last row id it looked at).
monitor_cursors_table = Table(
    "monitor_cursors",
    metadata,
    Column("source", String(40), primary_key=True),
    Column("last_id", BigInteger, nullable=False),
    Column("updated_at", Float, nullable=False),
)
