"""`debtledger evidence` against a real node: add, batch, receipt, verify (each failure
naming its check, exit code 1) and the court package round trip."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from debtledger.evidence.service import EvidenceService
from tests.conftest import Ledger, block_producing_node, new_claim

pytestmark = pytest.mark.xdist_group("evidence-cli")
runner = CliRunner()


def _anchored_item(cli, tmp_path: Path, ledger: Ledger) -> tuple[Path, Path, dict]:  # type: ignore[no-untyped-def,type-arg]
    ledger.claims.register("bank-a", new_claim("EVC-1"), idem_key="evc-1")
    recording = tmp_path / "call.wav"
    recording.write_bytes(b"RIFF" + bytes(range(256)) * 400)
    code, out, err = cli(
        f"evidence add {recording} --as bank-a --kind call-recording --claim EVC-1 --json"
    )
    assert code == 0, err
    item = json.loads(out)
    assert item["media_type"] == "audio/x-wav" and item["batch_id"] is None
    code, out, err = cli("evidence batch --json")
    assert code == 0, err
    (batch,) = json.loads(out)
    assert batch["items"] == 1 and batch["block"] is not None
    receipt = tmp_path / "call.receipt.json"
    code, out, err = cli(f"evidence receipt {item['id']} -o {receipt}")
    assert code == 0, err
    return recording, receipt, item


def test_verify_prints_every_step_and_passes_on_chain(cli, ledger: Ledger, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    recording, receipt, _ = _anchored_item(cli, tmp_path, ledger)
    url = ledger.settings.node_url
    code, out, _ = cli(f"evidence verify {recording} {receipt} --rpc {url}")
    assert code == 0, out
    for check in (
        "content-hash",
        "statement",
        "signature",
        "merkle-path",
        "chain-id",
        "anchor-root",
        "anchor-transaction",
    ):
        assert f"ok   {check}:" in out
    assert out.strip().endswith("verified")
    code, out, _ = cli(f"evidence verify {recording} {receipt} --json")  # offline
    assert code == 0 and json.loads(out)["ok"] is True


@pytest.mark.parametrize(
    ("tamper", "check"),
    [
        ("file", "content-hash"),
        ("path", "merkle-path"),
        ("statement", "statement"),
        ("signature", "signature"),
        ("root", "anchor-root"),
        ("chain", "chain-id"),
        ("schema", "format"),
    ],
)
def test_each_tampering_fails_naming_its_check(  # type: ignore[no-untyped-def]
    cli, ledger: Ledger, tmp_path: Path, tamper: str, check: str
) -> None:
    recording, receipt_path, _ = _anchored_item(cli, tmp_path, ledger)
    r = json.loads(receipt_path.read_text())
    if tamper == "file":
        data = bytearray(recording.read_bytes())
        data[100] ^= 1
        recording.write_bytes(bytes(data))
    elif tamper == "path":
        r["merkle"]["path"] = ["0x" + "11" * 32]
        r["merkle"]["tree_size"] = 2
    elif tamper == "statement":
        r["statement"]["submitted_at"] += 1
    elif tamper == "signature":
        sig = bytearray(bytes.fromhex(r["signature"][2:]))
        sig[5] ^= 1
        r["signature"] = "0x" + sig.hex()
    elif tamper == "root":
        # A self-consistent receipt whose root was never anchored: a two-leaf tree.
        sibling = b"\x22" * 32
        root = hashlib.sha256(b"\x01" + bytes.fromhex(r["leaf_hash"][2:]) + sibling).digest()
        r["merkle"] |= {"root": "0x" + root.hex(), "path": ["0x" + sibling.hex()], "tree_size": 2}
    elif tamper == "chain":
        r["anchor"]["chain_id"] = 1
    elif tamper == "schema":
        del r["anchor"]
    receipt_path.write_text(json.dumps(r))
    code, out, err = cli(
        f"evidence verify {recording} {receipt_path} --rpc {ledger.settings.node_url} --json"
    )
    assert code == 1
    report = json.loads(out)
    assert report["ok"] is False and report["failed_check"] == check
    assert report["steps"][-1] == {**report["steps"][-1], "check": check, "ok": False}


def test_receipt_from_another_chain_with_the_same_id_fails_the_anchor(  # type: ignore[no-untyped-def]
    cli, ledger: Ledger, tmp_path: Path
) -> None:
    recording, receipt, _ = _anchored_item(cli, tmp_path, ledger)
    with block_producing_node() as other:  # another chain: same chain id, no such anchor
        code, out, _ = cli(f"evidence verify {recording} {receipt} --rpc {other} --json")
    assert code == 1
    assert json.loads(out)["failed_check"] == "anchor-root"


def test_court_package_round_trip_and_tampered_package(  # type: ignore[no-untyped-def]
    cli, ledger: Ledger, tmp_path: Path
) -> None:
    recording, _, _ = _anchored_item(cli, tmp_path, ledger)
    notes = tmp_path / "promise.txt"
    notes.write_text("debtor promised to pay 500 on Friday")
    code, _, err = cli(f"evidence add {notes} --as bank-a --kind promise-to-pay --claim EVC-1")
    assert code == 0, err
    ledger.claims.repay(new_claim("EVC-1").claim_id, "bank-a", 500, "bank ref 1", idem_key="r1")
    package = tmp_path / "EVC-1.zip"
    code, out, err = cli(f"evidence package EVC-1 -o {package} --json")  # anchors the waiting
    assert code == 0, err
    assert json.loads(out)["items"] == 3  # recording, promise, and the repayment's own record
    with zipfile.ZipFile(package) as zf:
        names = set(zf.namelist())
        assert {"manifest.json", "claim.json", "report.html", "report.pdf", "README.txt"} <= names
        assert zf.read("report.pdf").startswith(b"%PDF")
        history = json.loads(zf.read("claim.json"))["history"]
        assert [h["event"] for h in history] == ["ClaimRegistered", "RepaymentRecorded"]
        assert "debtledger evidence verify-package" in zf.read("report.html").decode()
    url = ledger.settings.node_url
    code, out, _ = cli(f"evidence verify-package {package} --rpc {url} --json")
    assert code == 0, out
    assert json.loads(out)["items"] == 3

    # One byte of one evidence file changed (and the manifest fixed up to match): the
    # receipt check still catches it.
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(package) as src, zipfile.ZipFile(tampered, "w") as dst:
        manifest = json.loads(src.read("manifest.json"))
        for name in src.namelist():
            data = src.read(name)
            if name.startswith("evidence/") and name.endswith(".txt"):
                data = data.replace(b"500", b"900")
                for f in manifest["files"]:
                    if f["path"] == name:
                        f["sha256"] = hashlib.sha256(data).hexdigest()
            if name != "manifest.json":
                dst.writestr(name, data)
        dst.writestr("manifest.json", json.dumps(manifest))
    code, out, _ = cli(f"evidence verify-package {tampered} --json")
    assert code == 1 and json.loads(out)["failed_check"] == "content-hash"

    # A file changed without fixing the manifest: the manifest check names it.
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(package) as src, zipfile.ZipFile(broken, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            dst.writestr(name, data + b" " if name == "claim.json" else data)
    code, out, _ = cli(f"evidence verify-package {broken} --json")
    assert code == 1 and json.loads(out)["failed_check"] == "manifest"


def test_bad_input_is_one_line_and_exit_1(cli, ledger: Ledger, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "x.txt"
    f.write_text("x")
    code, _, err = cli(f"evidence add {f} --as bank-a --kind gossip")
    assert code == 1 and "kind" in err and len(err.strip().splitlines()) == 1
    code, _, err = cli(f"evidence verify {tmp_path / 'missing'} {f}")
    assert code == 1 and "no such file" in err
    code, _, err = cli("evidence receipt 999")
    assert code == 1 and "no evidence item 999" in err
    assert EvidenceService(ledger.rt).pending_count() == 0
