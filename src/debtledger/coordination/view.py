"""The unified view of one debtor: every claim of the pseudonym across every creditor, with
its owner, stage, mandate, plan, last contact and whether a contact would be allowed now.

A creditor sees its own claims in full and the others only as counts and stages, with its
share of the debtor's total exposure from a Paillier round (withheld under three creditors,
when the total would give the others' amounts away). A regulator or a coordinator (KEEPER)
sees every claim. Nothing here is personal data: the read model holds pseudonyms only.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from debtledger.access.service import Principal
from debtledger.collection.engine import (
    PLANS,
    POLICY,
    STAGE_NAMES,
    ChainContract,
    chain_now,
)
from debtledger.collection.plans import STATES as PLAN_STATES
from debtledger.domain.policies import Channel, Kind
from debtledger.errors import Forbidden, NotFound, TooFewParties
from debtledger.orgs.service import OrgService
from debtledger.privacy.aggregation import DEFAULT_KEY_BITS
from debtledger.privacy.service import PrivacyService
from debtledger.privacy.trail import check_debtor
from debtledger.runtime import Runtime
from debtledger.store.models import claims_table

VIEWERS = ("CREDITOR", "REGULATOR", "KEEPER")
NOT_ENROLLED = "not enrolled"
WITHHELD = "share withheld (fewer than 3 creditors)"
# The contact the view asks the policy about, as the example of "may we contact now".
EXAMPLE_CHANNEL, EXAMPLE_KIND = Channel.VOICE, Kind.COLLECTION


def _iso(ts: float | int | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()


class DebtorView:
    """Builds the view; `key_bits` sets the Paillier key size of a creditor's exposure round."""

    def __init__(self, rt: Runtime, *, key_bits: int = DEFAULT_KEY_BITS) -> None:
        self.rt = rt
        self.key_bits = key_bits
        self.orgs = OrgService(rt)
        self._names: dict[str, str] = {}

    def view(self, principal: Principal, debtor: bytes) -> dict[str, Any]:
        """The debtor's claims as `principal` may see them. Raises Forbidden for roles other
        than creditor, regulator and keeper, NotFound when the debtor has no claim (for a
        creditor: none of its own)."""
        check_debtor(debtor)
        if principal.role not in VIEWERS:
            raise Forbidden("the debtor view is for creditors, regulators and coordinators")
        pseudonym = "0x" + debtor.hex()
        c = claims_table.c
        with self.rt.engine.connect() as conn:
            rows = [
                dict(r)
                for r in conn.execute(
                    select(claims_table).where(c.debtor == pseudonym).order_by(c.claim_id)
                ).mappings()
            ]
        mine = principal.role != "CREDITOR" or any(
            r["owner"].lower() == principal.address.lower() for r in rows
        )
        if not rows or not mine:
            raise NotFound(f"no claim of debtor {pseudonym} visible to {principal.org}")
        shown = rows
        if principal.role == "CREDITOR":
            shown = [r for r in rows if r["owner"].lower() == principal.address.lower()]
        details = self._details(rows)
        out: dict[str, Any] = {
            "debtor": pseudonym,
            "as": {"organisation": principal.org, "role": principal.role},
            "as_of": _iso(details["now"]),
            "claims": [self._claim(r, details) for r in shown],
        }
        owners = {r["owner"].lower() for r in rows}
        if principal.role == "CREDITOR":
            others = [r for r in rows if r["owner"].lower() != principal.address.lower()]
            out["others"] = {
                "creditors": len({r["owner"].lower() for r in others}),
                "claims": len(others),
                "stages": dict(Counter(details["stage"][r["claim_id"]] for r in others)),
                "statuses": dict(Counter(r["status"] for r in others)),
            }
            out["exposure"] = self._exposure(principal, debtor, shown)
        else:
            outstanding: Counter[str] = Counter()
            for r in rows:
                if r["status"] == "active":
                    outstanding[r["currency"]] += int(r["outstanding"])
            out["totals"] = {
                "creditors": len(owners),
                "claims": len(rows),
                "stages": dict(Counter(details["stage"][r["claim_id"]] for r in rows)),
                "outstanding_fen": dict(outstanding),
            }
        return out

    # ------------------------------------------------------------------ parts

    def _claim(self, r: dict[str, Any], details: dict[str, Any]) -> dict[str, Any]:
        cid, now = r["claim_id"], details["now"]
        mandate = None
        if r["mandate_agency"] is not None:
            expiry = int(r["mandate_expiry"] or 0)
            mandate = {
                "agency": r["mandate_agency"],
                "agency_name": self._name(r["mandate_agency"]),
                "expiry": _iso(expiry),
                "live": expiry > now,
            }
        return {
            "claim_id": cid,
            "owner": r["owner"],
            "owner_name": self._name(r["owner"]),
            "status": r["status"],
            "currency": r["currency"],
            "principal_fen": int(r["principal"]),
            "outstanding_fen": int(r["outstanding"]),
            "due_date": r["due_date"].isoformat(),
            "stage": details["stage"][cid],
            "days_past_due": details["dpd"].get(cid),
            "mandate": mandate,
            "plan": details["plan"].get(cid),
            "last_contact": _iso(details["last_contact"].get(cid)),
            "next_contact": details["next_contact"].get(cid, ""),
        }

    def _details(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        """What the chain says of the claims now: stages, the example contact's verdict and
        plans (a few JSON-RPC batches), and the last authorised contact of each."""
        ids = [r["claim_id"] for r in rows]
        raw = [bytes.fromhex(i[2:]) for i in ids]
        now = chain_now(self.rt)
        stage: dict[str, str] = dict.fromkeys(ids, NOT_ENROLLED)
        dpd: dict[str, int] = {}
        next_contact: dict[str, Any] = {}
        plans: dict[str, Any] = {}
        addresses = self.rt.deployment.addresses
        if POLICY in addresses:
            policy = ChainContract(self.rt, POLICY)
            enrolled = policy.calls([("is_enrolled", (c,)) for c in raw])
            chosen = [(r, c) for r, c, e in zip(rows, raw, enrolled, strict=True) if e]
            calls: list[tuple[str, tuple[Any, ...]]] = []
            for r, c in chosen:
                live = r["mandate_agency"] is not None and int(r["mandate_expiry"] or 0) > now
                requester = r["mandate_agency"] if live else r["owner"]
                calls.append(("stage_of", (c,)))
                calls.append(
                    ("check_contact", (c, int(EXAMPLE_CHANNEL), int(EXAMPLE_KIND), requester))
                )
            answers = policy.calls(calls) if calls else []
            for i, (r, _) in enumerate(chosen):
                (_stored, due_stage, days), verdict = answers[2 * i], answers[2 * i + 1]
                cid = r["claim_id"]
                stage[cid] = STAGE_NAMES[int(due_stage)]
                dpd[cid] = int(days)
                next_contact[cid] = {
                    "channel": EXAMPLE_CHANNEL.name.lower(),
                    "kind": EXAMPLE_KIND.name.lower(),
                    "allowed": verdict == "",
                    "rule": verdict or None,
                }
        if PLANS in addresses:
            found = ChainContract(self.rt, PLANS).calls([("plan_of", (c,)) for c in raw])
            for cid, plan in zip(ids, found, strict=True):
                state, count, nxt, grace, _paid, _digest = plan
                if int(state):
                    plans[cid] = {
                        "state": PLAN_STATES[int(state)],
                        "instalments": int(count),
                        "next_instalment": int(nxt),
                        "grace_days": int(grace),
                    }
        last_at: dict[str, int] = {}
        if POLICY in addresses:
            # From the chain's logs (one query): the view does not wait for an indexer.
            for event in self.rt.events.events(
                self.rt.deployment.block,
                claim_ids=raw,
                names=["ContactAuthorized"],
                address=self.rt.address(POLICY),
            ):
                cid = "0x" + bytes(event.args["claim_id"]).hex()
                last_at[cid] = max(last_at.get(cid, 0), int(event.args["at"]))
        return {
            "now": now,
            "stage": stage,
            "dpd": dpd,
            "next_contact": next_contact,
            "plan": plans,
            "last_contact": last_at,
        }

    def _exposure(
        self, principal: Principal, debtor: bytes, own: list[dict[str, Any]]
    ) -> dict[str, Any] | str:
        """The creditor's share of the debtor's exposure in its main currency, or why not."""
        active = [r for r in own if r["status"] == "active"]
        if not active:
            return "no active claim of yours"
        currency = Counter(r["currency"] for r in active).most_common(1)[0][0]
        try:
            done = PrivacyService(self.rt, key_bits=self.key_bits).exposure(
                principal, debtor, currency=currency
            )
        except TooFewParties:
            return WITHHELD
        return {
            "currency": done.currency,
            "own_fen": done.own_fen,
            "share_bps": done.share_bps,
            "creditors": done.creditors,
        }

    def _name(self, address: str) -> str:
        if address not in self._names:
            self._names[address] = self.orgs.name_of(address)
        return self._names[address]
