"""Evidence: add items (file + signed statement), close them into Merkle batches, anchor
each batch's root with one transaction, and hand out receipts.

Nothing is lost between the steps: an item is stored (file, then row) before it is
acknowledged; a batch and its items' places in it are written in one store transaction;
the anchoring transaction goes through the outbox under a key derived from the root, so a
batch whose anchoring was interrupted is anchored exactly once when `run` is called again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Row, bindparam, func, insert, select, update

from debtledger.access.service import Principal
from debtledger.chain.writer import Write
from debtledger.claims.readmodel import ClaimReads
from debtledger.errors import DebtLedgerError, Forbidden, NotFound
from debtledger.evidence.blobs import CHUNK, BlobStore
from debtledger.evidence.merkle import MerkleTree
from debtledger.evidence.receipts import Anchor, ReceiptItem, render_receipts
from debtledger.evidence.statements import Statement, sign
from debtledger.orgs.service import OrgService
from debtledger.runtime import Runtime
from debtledger.store.models import evidence_batches_table as batches
from debtledger.store.models import evidence_items_table as items

log = logging.getLogger(__name__)
MAX_FILE = 2 * 1024**3  # 2 GiB: a long call recording fits, a runaway upload does not


@dataclass(frozen=True)
class NewItem:
    """One item to add: its bytes (or a file) and what it is."""

    content: bytes | Path
    kind: str
    media_type: str = "application/octet-stream"
    claim_id: bytes | None = None


@dataclass(frozen=True)
class Batch:
    id: int
    root: bytes
    count: int
    organisation: str
    tx_hash: str | None
    block_number: int | None
    block_time: int | None


def _chunks(content: bytes | Path) -> Iterator[bytes]:
    if isinstance(content, bytes):
        yield content
        return
    with open(content, "rb") as fh:
        while chunk := fh.read(CHUNK):
            yield chunk


def _batch(row: Row[Any]) -> Batch:
    m = row._mapping
    return Batch(
        m["id"],
        m["root"],
        m["count"],
        m["organisation"],
        m["tx_hash"],
        m["block_number"],
        m["block_time"],
    )


def item_public(row: Row[Any]) -> dict[str, Any]:
    """An item's metadata as callers see it (never the file's bytes)."""
    m = row._mapping
    return {
        "id": m["id"],
        "content_sha256": m["content_hash"].hex(),
        "size": m["size"],
        "media_type": m["media_type"],
        "claim_id": "0x" + m["claim_id"].hex() if m["claim_id"] else None,
        "kind": m["kind"],
        "organisation": m["organisation"],
        "submitter": m["submitter"],
        "submitted_at": m["submitted_at"],
        "leaf_hash": "0x" + m["leaf_hash"].hex(),
        "batch_id": m["batch_id"],
        "leaf_index": m["leaf_index"],
    }


class EvidenceService:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.orgs = OrgService(rt)
        self.blobs = BlobStore(rt.settings.evidence_dir / "blobs")

    # ------------------------------------------------------------------ intake

    def add(self, org: str, item: NewItem) -> dict[str, Any]:
        """Store one item; returns its metadata (the same item added twice is one item)."""
        return self.add_many(org, [item])[0]

    def add_many(self, org: str, new: Sequence[NewItem]) -> list[dict[str, Any]]:
        """Store items of one organisation in one store transaction: all of them or none.
        Each file is hashed as it streams to disk; each statement is signed with the
        organisation's key."""
        account = self.orgs.account(org)
        now = int(time.time())
        rows: list[dict[str, Any]] = []
        for it in new:
            # Validate the metadata before storing a byte of the file.
            Statement(
                "0" * 64, 0, it.media_type, _claim(it.claim_id), it.kind, org, account.address, now
            )
            digest, size = self.blobs.put(
                _chunks(it.content), max_size=MAX_FILE, durable=len(new) == 1
            )
            st = Statement(
                digest.hex(),
                size,
                it.media_type,
                _claim(it.claim_id),
                it.kind,
                org,
                account.address,
                now,
            )
            text = st.canonical()
            rows.append(
                {
                    "content_hash": digest,
                    "size": size,
                    "media_type": it.media_type,
                    "claim_id": it.claim_id,
                    "kind": it.kind,
                    "organisation": org,
                    "submitter": account.address,
                    "submitted_at": now,
                    "statement": text.decode(),
                    "signature": sign(text, bytes(account.key)),
                    "leaf_hash": st.leaf_hash,
                }
            )
        if len(new) > 1:
            self.blobs.sync()  # every file on disk before any row names it
        with self.rt.engine.begin() as conn:
            # The same file of the same kind for the same claim from the same organisation
            # is the item already stored (a retried request adds nothing), and once per call.
            have: dict[tuple[bytes, str, bytes | None], bytes] = {}
            hashes = sorted({r["content_hash"] for r in rows})
            for part in _chunks_of(hashes):
                q = select(
                    items.c.content_hash, items.c.kind, items.c.claim_id, items.c.leaf_hash
                ).where(items.c.organisation == org, items.c.content_hash.in_(part))
                for h in conn.execute(q):
                    have.setdefault((h.content_hash, h.kind, h.claim_id), h.leaf_hash)
            fresh = []
            for r in rows:
                key = (r["content_hash"], r["kind"], r["claim_id"])
                if key in have:
                    r["leaf_hash"] = have[key]
                else:
                    have[key] = r["leaf_hash"]
                    fresh.append(r)
            if fresh:
                conn.execute(insert(items), fresh)
            leaves = [r["leaf_hash"] for r in rows]
            got: dict[bytes, Row[Any]] = {}
            for part in _chunks_of(sorted(set(leaves))):
                got.update(
                    (r.leaf_hash, r)
                    for r in conn.execute(select(items).where(items.c.leaf_hash.in_(part)))
                )
        return [item_public(got[leaf]) for leaf in leaves]

    # ------------------------------------------------------------------ batches

    def pending_count(self, org: str | None = None) -> int:
        q = select(func.count()).select_from(items).where(items.c.batch_id.is_(None))
        if org:
            q = q.where(items.c.organisation == org)
        with self.rt.engine.connect() as conn:
            return int(conn.execute(q).scalar_one())

    def close_batch(self, org: str, limit: int | None = None) -> Batch | None:
        """Put up to `limit` of the organisation's unbatched items, oldest first, in a new
        batch; None when it has none."""
        limit = limit or self.rt.settings.evidence_batch_size
        with self.rt.engine.begin() as conn:
            pending = conn.execute(
                select(items.c.id, items.c.leaf_hash)
                .where(items.c.batch_id.is_(None), items.c.organisation == org)
                .order_by(items.c.id)
                .limit(limit)
            ).all()
            if not pending:
                return None
            tree = MerkleTree([r.leaf_hash for r in pending])
            batch_id = conn.execute(
                insert(batches).values(
                    root=tree.root, count=len(tree), organisation=org, closed_at=time.time()
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            conn.execute(
                update(items)
                .where(items.c.id == bindparam("item"))
                .values(batch_id=batch_id, leaf_index=bindparam("index")),
                [{"item": r.id, "index": i} for i, r in enumerate(pending)],
            )
        return self.batch(int(batch_id))

    def anchor(self, batch: Batch) -> Batch:
        """Anchor the batch's root on chain (once, whatever happened before) and record where."""
        if batch.block_number is not None:
            return batch
        account = self.orgs.account(batch.organisation)
        write = Write(
            self.rt.abi("EvidenceAnchor"),
            self.rt.address("EvidenceAnchor"),
            "anchor",
            (batch.root, batch.count, batch.id.to_bytes(32, "big")),
            f"evidence-anchor:{self.rt.chain_id}:0x{batch.root.hex()}",
        )
        (entry,) = self.rt.writer.execute(account, [write])
        assert entry.block_number is not None
        block = self.rt.writer.rpc.call("eth_getBlockByNumber", [hex(entry.block_number), False])
        with self.rt.engine.begin() as conn:
            conn.execute(
                update(batches)
                .where(batches.c.id == batch.id)
                .values(
                    operation_id=entry.id,
                    tx_hash=entry.tx_hash,
                    block_number=entry.block_number,
                    block_time=int(block["timestamp"], 16),
                )
            )
        return self.batch(batch.id)

    def run(self, org: str | None = None) -> list[Batch]:
        """Close every full or waiting batch (of `org`, or of every organisation) and anchor
        every batch not yet anchored, including ones an interrupted run left behind."""
        with self.rt.engine.connect() as conn:
            q = select(items.c.organisation).where(items.c.batch_id.is_(None)).distinct()
            orgs = [org] if org else [r[0] for r in conn.execute(q)]
        for name in orgs:
            while self.close_batch(name):
                pass
        q2 = select(batches).where(batches.c.block_number.is_(None)).order_by(batches.c.id)
        if org:
            q2 = q2.where(batches.c.organisation == org)
        with self.rt.engine.connect() as conn:
            waiting = [_batch(r) for r in conn.execute(q2)]
        return [self.anchor(b) for b in waiting]

    def batch(self, batch_id: int) -> Batch:
        with self.rt.engine.connect() as conn:
            row = conn.execute(select(batches).where(batches.c.id == batch_id)).first()
        if row is None:
            raise NotFound(f"no evidence batch {batch_id}")
        return _batch(row)

    # ------------------------------------------------------------------ reads

    def item(self, item_id: int) -> dict[str, Any]:
        with self.rt.engine.connect() as conn:
            row = conn.execute(select(items).where(items.c.id == item_id)).first()
        if row is None:
            raise NotFound(f"no evidence item {item_id}")
        return item_public(row)

    def items_of_claim(self, claim_id: bytes) -> list[dict[str, Any]]:
        with self.rt.engine.connect() as conn:
            rows = conn.execute(
                select(items).where(items.c.claim_id == claim_id).order_by(items.c.id)
            ).all()
        return [item_public(r) for r in rows]

    def content_path(self, item_id: int) -> Path:
        path = self.blobs.path(bytes.fromhex(self.item(item_id)["content_sha256"]))
        if not path.exists():
            raise NotFound(f"the file of evidence item {item_id} is missing")
        return path

    def receipts(
        self, batch_id: int, only: Iterable[int] | None = None
    ) -> Iterator[tuple[int, bytes]]:
        """Receipts of an anchored batch's items (all, or the ids in `only`)."""
        batch = self.batch(batch_id)
        if batch.block_number is None or batch.tx_hash is None or batch.block_time is None:
            raise NotFound(f"evidence batch {batch_id} is not anchored yet")
        with self.rt.engine.connect() as conn:
            rows = conn.execute(
                select(items.c.id, items.c.statement, items.c.signature, items.c.leaf_hash)
                .where(items.c.batch_id == batch_id)
                .order_by(items.c.leaf_index)
            ).all()
        tree = MerkleTree([r.leaf_hash for r in rows])
        anchor = Anchor(
            chain_id=self.rt.chain_id,
            contract=self.rt.address("EvidenceAnchor"),
            tx_hash=batch.tx_hash,
            block_number=batch.block_number,
            block_time=batch.block_time,
            submitter=self.orgs.address(batch.organisation),
        )
        wanted = set(only) if only is not None else None
        rendered = render_receipts(
            (ReceiptItem(r.id, r.statement, r.signature, r.leaf_hash) for r in rows), tree, anchor
        )
        for item_id, data in rendered:
            if wanted is None or item_id in wanted:
                yield item_id, data

    def receipt(self, item_id: int) -> bytes:
        """One item's receipt; NotFound until its batch is anchored."""
        it = self.item(item_id)
        if it["batch_id"] is None:
            raise NotFound(f"evidence item {item_id} is not in a batch yet")
        for _, data in self.receipts(it["batch_id"], only=[item_id]):
            return data
        raise NotFound(f"no receipt for evidence item {item_id}")

    # ------------------------------------------------------------------ who may do what

    def check_may_add(self, principal: Principal, claim_id: bytes | None) -> None:
        """Creditors and agencies add evidence of claims they hold or are mandated on (or of
        no claim); the gateway and courts of any claim; a regulator only reads."""
        if principal.role == "REGULATOR":
            raise Forbidden("a regulator's API keys are read-only")
        if claim_id is not None and principal.role in ("CREDITOR", "AGENCY"):
            ClaimReads(self.rt.engine).get(principal, "0x" + claim_id.hex())

    def check_may_read(self, principal: Principal, item: dict[str, Any], content: bool) -> None:
        """Metadata and receipts: whoever may see the item's claim, its submitter, courts and
        regulators. The file itself (it may hold personal data): its submitter, the claim's
        owner and courts. Anyone else: not found."""
        if principal.role == "COURT" or principal.org == item["organisation"]:
            return
        if not self._may_see_claim(principal, item["claim_id"]):
            raise NotFound(f"no evidence item {item['id']}")
        if content and principal.role != "CREDITOR":
            raise Forbidden("only the submitter, the claim's owner and courts get the file")

    def visible_items_of_claim(self, principal: Principal, claim_id: bytes) -> list[dict[str, Any]]:
        """The claim's items whose metadata `principal` may read (`check_may_read`), with
        the claim's visibility looked up once, not once per item."""
        everything = self.items_of_claim(claim_id)
        if principal.role == "COURT" or self._may_see_claim(principal, "0x" + claim_id.hex()):
            return everything
        return [it for it in everything if it["organisation"] == principal.org]

    def _may_see_claim(self, principal: Principal, claim_id: str | None) -> bool:
        if principal.role == "REGULATOR":
            return True
        if claim_id is None or principal.role not in ("CREDITOR", "AGENCY"):
            return False
        try:
            ClaimReads(self.rt.engine).get(principal, claim_id)
        except NotFound:
            return False
        return True

    # ------------------------------------------------------------------ background

    def follow(self, stop: threading.Event, tick_s: float = 0.5) -> None:
        """Until `stop` is set: close and anchor batches once the waiting items reach the
        batch size, or once the oldest has waited `evidence_batch_seconds`. A failed turn
        (node down) is tried again at the next tick; nothing is lost meanwhile."""
        settings = self.rt.settings
        while not stop.is_set():
            try:
                with self.rt.engine.connect() as conn:
                    count, oldest = conn.execute(
                        select(func.count(), func.min(items.c.submitted_at)).where(
                            items.c.batch_id.is_(None)
                        )
                    ).one()
                waited = time.time() - oldest if oldest is not None else 0.0
                unanchored = self._unanchored()
                if (
                    count >= settings.evidence_batch_size
                    or (count and waited >= settings.evidence_batch_seconds)
                    or unanchored
                ):
                    self.run()
            except DebtLedgerError as exc:
                log.warning("evidence batching failed, retrying: %s", exc)
            stop.wait(tick_s)

    def _unanchored(self) -> bool:
        with self.rt.engine.connect() as conn:
            q = select(batches.c.id).where(batches.c.block_number.is_(None)).limit(1)
            return conn.execute(q).first() is not None


def _chunks_of(values: Sequence[bytes], n: int = 5_000) -> Iterator[Sequence[bytes]]:
    """IN lists of at most `n` values (databases cap the bound parameters of a statement)."""
    for i in range(0, len(values), n):
        yield values[i : i + n]


def _claim(claim_id: bytes | None) -> str | None:
    return "0x" + claim_id.hex() if claim_id else None
