"""The `debtledger` command against a real node: JSON output, one-line errors, exit codes,
and CSV imports that never import half a file silently."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from debtledger.domain.claims import CSV_COLUMNS
from tests.conftest import Ledger

runner = CliRunner()
REGISTER = f"--as bank-a --debtor 0x{'ab' * 32} --principal-fen 5000 --due 2026-01-31"


def write_csv(path: Path, rows: list[list[object]]) -> Path:
    with open(path, "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(CSV_COLUMNS)
        out.writerows(rows)
    return path


def row(ref: str, principal: object = 1000, outstanding: object = 900) -> list[object]:
    return [ref, "0x" + "cd" * 32, principal, outstanding, "CNY", "2026-03-01"]


def test_register_show_history_in_json(cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli(f"claim register C-1 {REGISTER} --json")
    assert code == 0, out
    assert json.loads(out)["status"] == "mined"
    code, out, _ = cli("claim show C-1 --json")
    shown = json.loads(out)
    assert (shown["owner"], shown["principal_fen"], shown["outstanding_fen"]) == (
        "bank-a",
        5000,
        5000,
    )
    code, out, _ = cli("claim history C-1 --json")
    assert [e["event"] for e in json.loads(out)] == ["ClaimRegistered"]


def test_transfer_then_second_sale_is_refused(cli) -> None:  # type: ignore[no-untyped-def]
    cli(f"claim register C-2 {REGISTER}")
    code, out, _ = cli("claim transfer C-2 --as bank-a --to bank-b --price-fen 3000 --json")
    assert code == 0 and len(json.loads(out)["price_salt"]) == 66
    code, out, _ = cli("claim transfer C-2 --as bank-a --to bank-b --price-fen 3000 --json")
    assert code == 1
    assert json.loads(out) == {
        "error": "registry: claim already pending transfer",
        "kind": "Conflict",
    }
    assert cli("claim accept C-2 --as bank-b")[0] == 0
    code, _, err = cli("claim transfer C-2 --as bank-a --to bank-b --price-fen 1")
    assert code == 1
    assert err.strip() == "error: registry: caller is not the owner"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("claim", "show", "NO-SUCH"), "registry: unknown claim"),
        (
            ("claim", "repay", "NO-SUCH", "--as", "bank-a", "--amount-fen", "-3"),
            "must not be negative",
        ),
        (
            ("claim", "repay", "NO-SUCH", "--as", "bank-a", "--amount-fen", "2.50"),
            "whole number of fen",
        ),
        (("claim", "settle", "X", "--as", "nobody"), "no key for organisation 'nobody'"),
        (("org", "add", "bank-c", "--role", "BANKER"), "unknown role 'BANKER'"),
    ],
)
def test_errors_are_one_line_with_exit_code_1(cli, args: tuple[str, ...], message: str) -> None:  # type: ignore[no-untyped-def]
    code, out, err = cli(*args)
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1 and message in err


def test_duplicate_registration_is_refused(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli(f"claim register C-3 {REGISTER}")[0] == 0
    code, _, err = cli(f"claim register C-3 {REGISTER}")
    assert code == 1 and "registry: claim already registered" in err


def test_import_with_a_bad_row_imports_nothing(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write_csv(tmp_path / "c.csv", [row("I-1"), row("I-2", outstanding="-1"), row("I-3")])
    code, out, _ = cli("claim", "import", str(path), "--as", "bank-a", "--json")
    assert code == 1
    error = json.loads(out)
    assert "row 3, field 'outstanding_fen'" in error["error"]
    assert "nothing imported" in error["error"]
    assert cli("claim show I-1")[0] == 1


def test_import_skip_bad_lists_what_it_left_out(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write_csv(
        tmp_path / "c.csv", [row("J-1"), row("J-2", principal="12.5"), row("J-3"), row("J-1")]
    )
    code, out, _ = cli("claim", "import", str(path), "--as", "bank-a", "--skip-bad", "--json")
    assert code == 0, out
    report = json.loads(out)
    assert report["imported"] == 2
    assert [(s["row"], s["field"]) for s in report["skipped"]] == [
        (3, "principal_fen"),
        (5, "claim_ref"),
    ]
    assert cli("claim show J-3")[0] == 0


def test_malformed_csv_row_is_named(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "m.csv"
    path.write_text(",".join(CSV_COLUMNS) + "\nK-1,0x" + "ab" * 32 + ",100\n")
    code, out, _ = cli("claim", "import", str(path), "--as", "bank-a", "--json")
    assert code == 1 and "row 2" in json.loads(out)["error"]


def test_import_refuses_unknown_columns(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "pii.csv"
    path.write_text(",".join(CSV_COLUMNS) + ",debtor_name\n")
    code, _, err = cli("claim", "import", str(path), "--as", "bank-a")
    assert code == 1 and "unexpected column 'debtor_name'" in err


def test_import_again_registers_nothing_twice(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write_csv(tmp_path / "c.csv", [row(f"L-{i}") for i in range(30)])
    first = json.loads(cli("claim", "import", str(path), "--as", "bank-a", "--json")[1])
    again = json.loads(cli("claim", "import", str(path), "--as", "bank-a", "--json")[1])
    assert (first["imported"], again["imported"], again["already_registered"]) == (30, 0, 30)
    code, out, _ = cli("claim", "import", str(path), "--as", "bank-b", "--json")
    error = json.loads(out)["error"]
    assert code == 1
    assert "row 2, field 'claim_ref': claim already registered by another creditor" in error


def test_mandate_repay_dispute_settle(cli) -> None:  # type: ignore[no-untyped-def]
    cli(f"claim register M-1 {REGISTER}")
    assert cli("claim mandate M-1 --as bank-a --agency agency-x --until 2099-01-01")[0] == 0
    shown = json.loads(cli("claim show M-1 --json")[1])
    assert shown["mandate"]["agency"] == "agency-x"
    assert cli("claim repay M-1 --as bank-a --amount-fen 1500 --receipt P-1")[0] == 0
    assert json.loads(cli("claim show M-1 --json")[1])["outstanding_fen"] == 3500
    assert cli("claim", "dispute", "M-1", "--as", "court", "--reason", "amount contested")[0] == 0
    code, _, err = cli("claim transfer M-1 --as bank-a --to bank-b --price-fen 1")
    assert code == 1 and "registry: claim is disputed" in err
    assert cli("claim resolve M-1 --as court --outstanding-fen 3000")[0] == 0
    assert cli("claim settle M-1 --as bank-a")[0] == 0
    assert json.loads(cli("claim show M-1 --json")[1])["status"] == "settled"


def test_org_list_and_demo(cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli("demo --claims 50 --json")
    assert code == 0, out
    demo = json.loads(out)
    assert demo["import"]["imported"] == 50
    assert demo["second_sale"] == "refused by the contract: registry: caller is not the owner"
    privacy = demo["privacy"]
    assert privacy["record"].startswith("DEMO-R-000001: record hash on chain")
    # Sent, or refused by the contract outside the debtor's hours (it depends on the clock).
    assert privacy["contact"].startswith(("SMS sent", "no SMS sent", "refused: policy: contact"))
    assert privacy["evidence"].endswith("batches") and not privacy["evidence"].startswith("0 ")
    record = json.loads(cli("claim show DEMO-R-000001 --json")[1])
    assert record["mandate"]["agency"] == "agency-x"
    assert "Demo Debtor" not in json.dumps(demo) + json.dumps(record)
    again = json.loads(cli("demo --claims 50 --json")[1])
    assert again["import"] == {"imported": 0, "already_registered": 50}
    assert again["sale"].startswith("DEMO-A-000002: bank-a sold it to bank-b")
    names = {o["name"]: o["roles"] for o in json.loads(cli("org list --json")[1])}
    assert names["bank-b"] == ["CREDITOR"] and names["agency-x"] == ["AGENCY"]


def test_import_of_many_full_batches_goes_through(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Six 1,000-claim transactions are more than one HTTP body may carry: the group commit
    splits them and the node takes them all."""
    path = write_csv(tmp_path / "big.csv", [row(f"BIG-{i:05d}") for i in range(6_000)])
    code, out, _ = cli("claim", "import", str(path), "--as", "bank-a", "--json")
    assert code == 0, out
    assert json.loads(out)["imported"] == 6_000 and json.loads(out)["transactions"] == 6
    assert json.loads(cli("claim show BIG-05999 --json")[1])["principal_fen"] == 1000


def test_org_keys_members_and_api_keys(cli) -> None:  # type: ignore[no-untyped-def]
    address = json.loads(cli("org key bank-z --json")[1])["address"]
    code, _, err = cli("org add bank-z --role CREDITOR --address nonsense")
    assert code == 1 and "field 'address'" in err
    assert cli(f"org add bank-z --role CREDITOR --address {address}")[0] == 0
    assert json.loads(cli("org host bank-z --role CREDITOR --json")[1])["address"] == address
    assert cli("org member bank-z ops")[0] == 0
    issued = json.loads(cli("org apikey bank-z ops --role CREDITOR --json")[1])
    assert issued["api_key"].startswith(f"dl_{issued['key_id']}_")
    assert cli(f"org revoke-key {issued['key_id']}")[0] == 0
    code, _, err = cli(f"org revoke-key {issued['key_id']}")
    assert code == 1 and "no live API key" in err


def test_join_refuses_a_record_of_another_chain(cli, ledger: Ledger, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    record = json.loads(ledger.settings.deployment_file.read_text())
    wrong = tmp_path / "other.json"
    wrong.write_text(json.dumps({**record, "chain_id": 999}))
    code, _, err = cli("join", str(wrong))
    assert code == 1 and "the record is for chain 999" in err
    missing = tmp_path / "gone.json"
    missing.write_text(json.dumps({**record, "addresses": {"ClaimRegistry": "0x" + "11" * 20}}))
    code, _, err = cli("join", str(missing))
    assert code == 1 and "no ClaimRegistry contract" in err
