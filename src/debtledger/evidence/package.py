"""Court packages: everything a court needs about one claim in one zip file, checkable with
one command.

    manifest.json        the SHA-256 of every other file in the package
    claim.json           the claim's state and its full history, from the chain's events
    evidence/<file>      every evidence file of the claim, as submitted
    receipts/<id>.json   one receipt per evidence item (see receipt.schema.json)
    report.html/.pdf     a readable list of the items, their anchors and how to verify them
    README.txt           how to verify, by hand or with `debtledger evidence verify-package`
"""

from __future__ import annotations

import hashlib
import html
import json
import mimetypes
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF

from debtledger.errors import InvalidInput, VerificationFailed
from debtledger.evidence.receipts import ChainView, Step, verify_receipt

FORMAT = "debtledger-court-package/1"
README = """DebtLedger court package ({format})

Claim: {claim_id}

Every file in this package is listed with its SHA-256 in manifest.json. Each file under
evidence/ has a receipt under receipts/ that proves the file existed, exactly as it is, no
later than the block time of the transaction that anchored its batch's Merkle root.

Verify the whole package (offline; add --rpc URL to check the anchors on chain):

    debtledger evidence verify-package {name} --rpc URL

Verify one item by hand: SHA-256 of the file = statement.content_sha256 in its receipt;
SHA-256(0x00 || canonical statement) = leaf_hash; the Merkle path leads to the root
(RFC 6962); the root is anchored at the receipt's contract on the receipt's chain
(EvidenceAnchor.anchored(root)). The receipt format is described in receipt.schema.json.
"""


@dataclass(frozen=True)
class PackageItem:
    item: dict[str, Any]  # the item's metadata (EvidenceService.item)
    content: Path
    receipt: bytes


def _file_name(item: dict[str, Any]) -> str:
    ext = mimetypes.guess_extension(item["media_type"]) or ".bin"
    return f"evidence/{item['id']:08d}-{item['content_sha256'][:16]}{ext}"


def _time(ts: int | None) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if ts else "-"


def build_package(
    out: Path, claim: dict[str, Any], history: list[dict[str, Any]], items: list[PackageItem]
) -> dict[str, Any]:
    """Write the package for `claim` to `out` (atomically: a temp file renamed into place);
    returns its manifest."""
    files: list[dict[str, Any]] = []
    tmp = out.with_name(out.name + ".part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:

        def put(name: str, data: bytes) -> None:
            zf.writestr(name, data)
            files.append({"path": name, "sha256": hashlib.sha256(data).hexdigest()})

        put("claim.json", json.dumps({"claim": claim, "history": history}, indent=2).encode())
        rows = []
        for p in items:
            name = _file_name(p.item)
            zf.write(p.content, name)
            files.append({"path": name, "sha256": p.item["content_sha256"]})
            receipt = json.loads(p.receipt)
            put(f"receipts/{p.item['id']:08d}.json", json.dumps(receipt, indent=2).encode())
            rows.append((name, p.item, receipt))
        put("report.html", _html(claim, history, rows).encode())
        put("report.pdf", _pdf(claim, history, rows))
        put(
            "README.txt",
            README.format(format=FORMAT, claim_id=claim["claim_id"], name=out.name).encode(),
        )
        manifest = {
            "format": FORMAT,
            "claim_id": claim["claim_id"],
            "created_at": int(time.time()),
            "items": len(items),
            "files": files,
        }
        zf.writestr("manifest.json", json.dumps(manifest, indent=2))
    tmp.replace(out)
    return manifest


def _html(claim: dict[str, Any], history: list[dict[str, Any]], rows: list[Any]) -> str:
    e = html.escape
    trs = "\n".join(
        f"<tr><td>{item['id']}</td><td>{e(item['kind'])}</td><td>{e(item['organisation'])}</td>"
        f"<td>{_time(item['submitted_at'])}</td><td><code>{e(name)}</code><br>"
        f"<small>SHA-256 {item['content_sha256']}</small></td>"
        f"<td>root <code>{r['merkle']['root']}</code><br>leaf {r['merkle']['leaf_index']} of "
        f"{r['merkle']['tree_size']}<br>chain {r['anchor']['chain_id']}, block "
        f"{r['anchor']['block_number']} ({_time(r['anchor']['block_time'])})<br>"
        f"tx <code>{r['anchor']['tx_hash']}</code></td></tr>"
        for name, item, r in rows
    )
    events = "\n".join(f"<li>block {h['block']}: {e(h['event'])}</li>" for h in history)
    facts = "".join(
        f"<tr><th>{e(str(k))}</th><td>{e(str(v))}</td></tr>"
        for k, v in claim.items()
        if not isinstance(v, dict | list)
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Court package {e(claim["claim_id"])}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #999;padding:4px;vertical-align:top;text-align:left}}
code{{font-size:85%;word-break:break-all}}</style></head><body>
<h1>Court package</h1>
<p>Claim <code>{e(claim["claim_id"])}</code> — {len(rows)} evidence items.</p>
<h2>Claim</h2><table>{facts}</table>
<h2>History (from the chain's events)</h2><ol>{events}</ol>
<h2>Evidence</h2>
<table><tr><th>Item</th><th>Kind</th><th>Submitted by</th><th>Submitted</th><th>File</th>
<th>Anchor</th></tr>
{trs}</table>
<h2>How to verify</h2>
<p>Run <code>debtledger evidence verify-package PACKAGE.zip --rpc URL</code>, or for one item
<code>debtledger evidence verify FILE RECEIPT --rpc URL</code>. Each receipt names its
file's SHA-256, its place in an RFC 6962 Merkle tree and the transaction that anchored
the tree's root; see README.txt.</p>
</body></html>
"""


def _latin(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def _pdf(claim: dict[str, Any], history: list[dict[str, Any]], rows: list[Any]) -> bytes:
    pdf = FPDF()
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, "Court package", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)

    def line(text: str) -> None:
        pdf.multi_cell(0, 5, _latin(text), new_x="LMARGIN", new_y="NEXT")

    line(f"Claim {claim['claim_id']} - {len(rows)} evidence items")
    for k, v in claim.items():
        if not isinstance(v, dict | list):
            line(f"{k}: {v}")
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, "History", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    for h in history:
        line(f"block {h['block']}: {h['event']}")
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, "Evidence", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=8)
    for name, item, r in rows:
        line(
            f"#{item['id']} {item['kind']} by {item['organisation']} at "
            f"{_time(item['submitted_at'])}\n  file {name}\n  SHA-256 {item['content_sha256']}\n"
            f"  root {r['merkle']['root']} (leaf {r['merkle']['leaf_index']} of "
            f"{r['merkle']['tree_size']})\n  chain {r['anchor']['chain_id']} block "
            f"{r['anchor']['block_number']} ({_time(r['anchor']['block_time'])}) tx "
            f"{r['anchor']['tx_hash']}"
        )
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, "How to verify", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    line("debtledger evidence verify-package PACKAGE.zip --rpc URL (see README.txt)")
    return bytes(pdf.output())


def verify_package(
    path: Path,
    *,
    rpc_url: str | None = None,
    on_step: Callable[[Step], None] | None = None,
) -> dict[str, Any]:
    """Check a court package: every file against the manifest, every evidence file against
    its receipt (and, with `rpc_url`, every anchor on chain), every item of this claim.
    Returns a summary; raises VerificationFailed naming the check (and file) that failed."""
    if not path.is_file():
        raise InvalidInput(f"no such package: {path.name}", field="package")
    chain = ChainView(rpc_url) if rpc_url else None
    steps: list[Step] = []

    def fail(check: str, detail: str) -> VerificationFailed:
        step = Step(check, False, detail)
        steps.append(step)
        if on_step:
            on_step(step)
        return VerificationFailed(check, detail, list(steps))

    def ok(check: str, detail: str) -> None:
        step = Step(check, True, detail)
        steps.append(step)
        if on_step:
            on_step(step)

    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise fail("manifest", "not a zip file") from None
    with zf:
        names = set(zf.namelist())
        if "manifest.json" not in names:
            raise fail("manifest", "manifest.json is missing")
        try:
            manifest = json.loads(zf.read("manifest.json"))
            listed = {f["path"]: f["sha256"] for f in manifest["files"]}
            claim_id = manifest["claim_id"]
        except (ValueError, KeyError, TypeError):
            raise fail("manifest", "manifest.json is not a package manifest") from None
        if manifest.get("format") != FORMAT:
            raise fail("manifest", f"unknown package format {manifest.get('format')!r}")
        extra = names - set(listed) - {"manifest.json"}
        if extra:
            raise fail("manifest", f"file not in the manifest: {sorted(extra)[0]}")
        for name, digest in listed.items():
            if name not in names:
                raise fail("manifest", f"{name} is listed but missing")
            if hashlib.sha256(zf.read(name)).hexdigest() != digest:
                raise fail("manifest", f"{name} does not match its SHA-256 in the manifest")
        ok("manifest", f"{len(listed)} files match the manifest")
        evidence = sorted(n for n in listed if n.startswith("evidence/"))
        receipts = {n for n in listed if n.startswith("receipts/")}
        if len(evidence) != len(receipts):
            raise fail("manifest", f"{len(evidence)} evidence files but {len(receipts)} receipts")
        for name in evidence:
            item_id = int(name.split("/")[1].split("-")[0])
            rname = f"receipts/{item_id:08d}.json"
            if rname not in receipts:
                raise fail("manifest", f"{name} has no receipt")
            receipt = json.loads(zf.read(rname))
            try:
                verify_receipt(receipt, zf.read(name), chain=chain)
            except VerificationFailed as exc:
                raise fail(exc.check, f"{name}: {exc}") from None
            if receipt["statement"]["claim_id"] != claim_id:
                raise fail("claim", f"{name} belongs to another claim")
        ok("receipts", f"{len(evidence)} items verified" + (" on chain" if chain else " offline"))
    return {"claim_id": claim_id, "items": len(evidence), "on_chain": chain is not None}
