"""Compliance figures and reports against a real node: contacts, refusals, complaints and
dispute times per agency and per creditor, checked against a count made independently
from the chain's logs (eth_getLogs) and what the test itself recorded."""

from __future__ import annotations

import csv
import io
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from debtledger.access.service import Principal
from debtledger.collection.engine import POLICY
from debtledger.coordination.complaints import Complaints
from debtledger.coordination.monitor import Monitor
from debtledger.coordination.reports import CSV_COLUMNS, Reports, period_of
from debtledger.errors import InvalidInput, PolicyRefused
from debtledger.orgs.service import OrgService
from tests.collection.test_engine import AGENCY_X, AGENCY_Y, DAY, Env, running_env

pytestmark = pytest.mark.xdist_group("supervision")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    with running_env(tmp_path_factory.mktemp("reports")) as e:
        yield e


def logs(env: Env, contract: str) -> list[dict[str, object]]:
    reply = env.rt.writer.rpc.call(
        "eth_getLogs",
        [
            {
                "fromBlock": hex(env.rt.deployment.block),
                "toBlock": "latest",
                "address": env.rt.address(contract),
            }
        ],
    )
    assert isinstance(reply, list)
    return reply


def block_time(env: Env, number: int) -> int:
    block = env.rt.writer.rpc.call("eth_getBlockByNumber", [hex(number), False])
    return int(block["timestamp"], 16)


def test_the_report_matches_the_chain(env: Env) -> None:
    start = time.time() - 60
    orgs = OrgService(env.rt)
    a, b = orgs.address("bank-a"), orgs.address("bank-b")
    x, y = orgs.address("agency-x"), orgs.address("agency-y")
    noon = env.local(12)
    c1 = env.new_claim(dpd=3)
    c2 = env.new_claim(dpd=3)
    c3 = env.new_claim(dpd=3, owner="bank-b", agency="agency-y")
    sends = [
        (AGENCY_X, c1, noon),
        (AGENCY_X, c1, noon + 60),
        (AGENCY_X, c2, noon + 120),
        (("bank-b", "CREDITOR"), c3, noon + 180),  # the owner's own contact
        (AGENCY_Y, c3, noon + 240),
        (AGENCY_Y, c3, noon + 300),
    ]
    contact_ids = [
        env.send(who, case, "sms", "overdue-notice", at=at)["contact_id"] for who, case, at in sends
    ]
    monitor = Monitor(env.rt)
    with pytest.raises(PolicyRefused) as info:  # at 03:00 in the debtor's time
        env.send(AGENCY_Y, c3, "sms", "overdue-notice", at=env.local(3))
    assert info.value.rule == "policy: contact-hours"  # the gateway recorded the attempt
    monitor.record_refused_attempt("agency-x", c1.claim_id, "voice", "collection", "contact-hours")
    gateway = Principal("gateway", "t", "GATEWAY", orgs.address("gateway"), "t")
    Complaints(env.rt).file(gateway, c1.claim_id, category="harassment", contact_id=contact_ids[0])
    env.claims.dispute(c2.claim_id, "bank-a", "wrong amount", idem_key="d:c2")
    env.at(env.now() + 3 * DAY)
    env.claims.resolve(c2.claim_id, "bank-a", 50_000, "agreed", idem_key="r:c2")

    report = Reports(env.rt).report(
        datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(env.now() + DAY, UTC)
    )

    # Independently: every ContactAuthorized and dispute event on the chain, decoded here.
    policy_abi, registry_abi = env.rt.abi(POLICY), env.rt.abi("ClaimRegistry")
    owner_of: dict[str, str] = {}
    disputed: dict[str, int] = {}
    days: dict[str, list[float]] = defaultdict(list)
    for raw in logs(env, "ClaimRegistry"):
        ev = registry_abi.decode_log(raw)  # type: ignore[arg-type]
        assert ev is not None
        cid = bytes(ev.args["claim_id"]).hex()
        if ev.name == "ClaimRegistered":
            owner_of[cid] = ev.args["creditor"]
        elif ev.name == "ClaimDisputed":
            disputed[cid] = block_time(env, ev.block_number)
        elif ev.name == "DisputeResolved" and start <= block_time(env, ev.block_number):
            days[owner_of[cid]].append((block_time(env, ev.block_number) - disputed[cid]) / DAY)
    by_agency: Counter[str] = Counter()
    by_owner: Counter[str] = Counter()
    for raw in logs(env, POLICY):
        ev = policy_abi.decode_log(raw)  # type: ignore[arg-type]
        assert ev is not None
        if ev.name != "ContactAuthorized" or ev.args["at"] < start:
            continue
        owner = owner_of[bytes(ev.args["claim_id"]).hex()]
        by_owner[owner] += 1
        if ev.args["agency"] != owner:
            by_agency[ev.args["agency"]] += 1
    assert by_agency[x] == 3 and by_agency[y] == 2 and by_owner[b] == 3  # the setup held

    fx, fy = report.of("agency", x), report.of("agency", y)
    fa, fb = report.of("creditor", a), report.of("creditor", b)
    assert fx is not None and fy is not None and fa is not None and fb is not None
    assert (fx.contacts, fy.contacts) == (by_agency[x], by_agency[y])
    assert (fa.contacts, fb.contacts) == (by_owner[a], by_owner[b])
    assert (fx.refused_attempts, fy.refused_attempts, fb.refused_attempts) == (1, 1, 1)
    assert fx.refusal_rate == pytest.approx(1 / (by_agency[x] + 1))
    assert fb.refusal_rate == pytest.approx(1 / (by_owner[b] + 1))
    assert (fx.complaints, fa.complaints, fy.complaints, fb.complaints) == (1, 1, 0, 0)
    assert fx.complaints_per_1000_contacts == pytest.approx(1000 / by_agency[x])
    assert fa.disputes_resolved == len(days[a]) == 1
    assert fa.avg_days_to_resolve_dispute == pytest.approx(sum(days[a]) / len(days[a]))
    assert fa.avg_days_to_resolve_dispute == pytest.approx(3, abs=0.01)
    assert fx.disputes_resolved == 1  # agency-x held c2's mandate when it was disputed
    assert fb.avg_days_to_resolve_dispute is None

    # The same figures as CSV; the PDF is a PDF.
    rows = list(csv.DictReader(io.StringIO(Reports(env.rt).csv(report).decode())))
    assert tuple(rows[0]) == CSV_COLUMNS
    by_key = {(r["role"], r["address"]): r for r in rows}
    assert int(by_key[("agency", x)]["contacts"]) == by_agency[x]
    assert float(by_key[("agency", x)]["refusal_rate"]) == pytest.approx(fx.refusal_rate, 1e-3)
    assert by_key[("creditor", a)]["organisation"] == "bank-a"
    assert Reports(env.rt).pdf(report).startswith(b"%PDF-")

    # A period that ends before any of it has none of it.
    empty = Reports(env.rt).report(
        datetime.fromtimestamp(start - DAY, UTC), datetime.fromtimestamp(start, UTC)
    )
    assert empty.figures == []


def test_periods_are_checked() -> None:
    start, end = period_of("2026-12-01", "2026-12-31")
    assert (end - start).days == 31  # the end date counts whole
    with pytest.raises(InvalidInput) as info:
        period_of("2026-12-31", "2026-12-01")
    assert info.value.field == "end"
    with pytest.raises(InvalidInput) as info:
        period_of("2026-12-01T00:00:00", "2026-12-02")
    assert info.value.field == "start"
    with pytest.raises(InvalidInput):
        period_of("yesterday", "2026-12-02")
