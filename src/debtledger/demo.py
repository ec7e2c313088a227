"""Demo data: two banks, one agency, a book of claims, a sale and a refused second sale.

Safe to run again: organisations and claims that exist are reused, and each run sells a
claim that bank-a still owns.
"""

from __future__ import annotations

import contextlib
import csv
import random
from datetime import date, timedelta
from typing import Any

from debtledger.access.service import AccessService
from debtledger.claims.service import ClaimService
from debtledger.domain.claims import CSV_COLUMNS, claim_id
from debtledger.errors import Conflict, Forbidden, InvalidInput
from debtledger.orgs.service import OrgService
from debtledger.runtime import Runtime

ORGS = (
    ("bank-a", ["CREDITOR"]),
    ("bank-b", ["CREDITOR"]),
    ("agency-x", ["AGENCY"]),
    ("court", ["COURT"]),
    ("regulator", ["REGULATOR"]),
    ("gateway", ["GATEWAY"]),
    ("keeper", ["KEEPER"]),
)
# An invented debtor (valid GB 11643 check digit, reserved e-mail domain, unassigned number):
# shows a record whose personal fields live only in the vault and a masked contact.
DEMO_RECORD = {
    "debtor_name": "演示 Demo Debtor",
    "national_id": "11010519491231002X",
    "phone": "+8613800000000",
    "email": "demo.debtor@example.invalid",
    "address": "1 Demo Road, Beijing",
    "contract_no": "DEMO-LOAN-0001",
    "principal_fen": "2500000",
    "outstanding_fen": "1800000",
    "currency": "CNY",
    "due_date": "2026-03-31",
    "contract_doc_hash": "ab" * 32,
}
DEMO_RECORD_REF = "DEMO-R-000001"
DEMO_MEMBER = "demo"


def write_claims_csv(
    path: Any, count: int, *, seed: int = 7, prefix: str = "DEMO-A", digits: int = 6
) -> None:
    """A CSV of `count` plausible claims with random pseudonyms (never personal data); the
    same seed gives the same rows. The demo and the benchmarks use it."""
    rng = random.Random(seed)
    with open(path, "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(CSV_COLUMNS)
        for i in range(1, count + 1):
            principal = rng.randrange(50_000, 5_000_000)
            out.writerow(
                [
                    f"{prefix}-{i:0{digits}d}",
                    "0x" + rng.randbytes(32).hex(),
                    principal,
                    rng.randrange(principal // 4, principal + 1),
                    "CNY",
                    (date(2026, 1, 1) + timedelta(days=rng.randrange(0, 300))).isoformat(),
                ]
            )


def run_demo(rt: Runtime, count: int) -> dict[str, Any]:
    orgs = OrgService(rt)
    claims = ClaimService(rt)
    access = AccessService(rt)
    made = [access.host(name, roles, idem_key=f"demo-org:{name}") for name, roles in ORGS]
    keys = {}
    for name, roles in ORGS:
        with contextlib.suppress(InvalidInput):  # a run before made the member
            access.add_member(name, DEMO_MEMBER)
        keys[name] = access.issue_key(name, DEMO_MEMBER, roles[0]).key
    csv_path = rt.settings.data_dir / "demo-claims.csv"
    write_claims_csv(csv_path, count)
    report = claims.import_csv(csv_path, "bank-a")
    bank_a = orgs.address("bank-a")
    sold = None
    for i in range(1, count + 1):
        ref = f"DEMO-A-{i:06d}"
        info = claims.show(claim_id(ref))
        if (
            info["owner_address"] == bank_a
            and info["status"] == "active"
            and not info["pending_transfer"]
        ):
            sold = ref
            break
    steps: dict[str, Any] = {
        "organisations": made,
        "api_keys": keys,
        "import": {"imported": report.imported, "already_registered": report.already_registered},
    }
    steps["privacy"] = _privacy_and_evidence(rt)
    if sold is None:
        steps["sale"] = "no claim of bank-a left to sell"
        return steps
    cid = claim_id(sold)
    claims.propose_transfer(cid, "bank-a", "bank-b", 123_400, "CNY", idem_key=f"demo-sale:{sold}")
    claims.accept(cid, "bank-b", idem_key=f"demo-accept:{sold}")
    steps["sale"] = (
        f"{sold}: bank-a sold it to bank-b, who accepted; owner is now {claims.show(cid)['owner']}"
    )
    try:
        claims.propose_transfer(
            cid, "bank-a", "agency-x", 99_900, "CNY", idem_key=f"demo-resale:{sold}"
        )
        steps["second_sale"] = "ACCEPTED (this must never happen)"
    except (Forbidden, Conflict) as refused:
        steps["second_sale"] = f"refused by the contract: {refused.rule}"
    return steps


def _privacy_and_evidence(rt: Runtime) -> dict[str, Any]:
    """A claim registered with its full record (personal fields to the vault, pseudonym and
    record hash on chain), mandated to agency-x, an SMS reminder through the gateway (when
    the local sinks run), a call note as evidence, and every waiting item anchored."""
    from datetime import UTC, datetime

    from debtledger.collection.engine import CollectionService
    from debtledger.collection.gateway import ContactService
    from debtledger.errors import DebtLedgerError, DeliveryFailed
    from debtledger.evidence.service import EvidenceService, NewItem
    from debtledger.privacy.service import PrivacyService

    out: dict[str, Any] = {}
    cid = claim_id(DEMO_RECORD_REF)
    PrivacyService(rt).register_record(
        "bank-a", DEMO_RECORD_REF, DEMO_RECORD, idem_key="demo-record:1"
    )
    out["record"] = f"{DEMO_RECORD_REF}: record hash on chain, personal fields in the vault"
    until = datetime(2027, 12, 31, tzinfo=UTC)
    ClaimService(rt).mandate(cid, "bank-a", "agency-x", until, idem_key="demo-mandate:r1")
    # The debtor lives in Beijing (UTC+8): the contract refuses contacts outside its hours.
    CollectionService(rt).enrol(
        cid, "bank-a", policy="cn-cba-2026", tz_offset_minutes=480, idem_key="demo-enrol:r1"
    )
    try:
        sent = ContactService(rt).contact(
            ("agency-x", "AGENCY"), cid, "sms", "reminder-1", idem_key="demo-contact:r1"
        )
        out["contact"] = f"SMS {sent['status']} through the gateway; agency-x saw no number"
    except DeliveryFailed:
        out["contact"] = "no SMS sent: start `debtledger gateway sinks` for local delivery"
    except DebtLedgerError as exc:
        out["contact"] = f"refused: {exc}"
    evidence = EvidenceService(rt)
    evidence.add(
        "agency-x",
        NewItem(
            b"Call note: debtor reached, promised to pay on Friday.", "message", "text/plain", cid
        ),
    )
    anchored = evidence.run()
    out["evidence"] = f"{sum(b.count for b in anchored)} items anchored in {len(anchored)} batches"
    return out
