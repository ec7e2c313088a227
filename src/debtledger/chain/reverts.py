"""Contract revert messages → typed errors. The messages are part of the contracts' API;
this table is the one place that says what each means to a caller (a test checks every
message in the sources is here)."""

from __future__ import annotations

from debtledger.errors import (
    ClaimNotFound,
    Conflict,
    ContractRefused,
    Forbidden,
    PolicyRefused,
    Rejected,
)

REVERTS: dict[str, type[ContractRefused]] = {
    # Consortium
    "consortium: caller is not the admin": Forbidden,
    "consortium: caller is not the pending admin": Forbidden,
    "consortium: unknown role": Rejected,
    "consortium: zero address": Rejected,
    "consortium: empty organisation id": Rejected,
    "consortium: account belongs to another organisation": Conflict,
    "consortium: role already granted": Conflict,
    "consortium: role not granted": Conflict,
    # ClaimRegistry: who may call
    "registry: caller is not a creditor": Forbidden,
    "registry: caller is not the owner": Forbidden,
    "registry: caller is not the proposed buyer": Forbidden,
    "registry: caller is not the owner or a gateway": Forbidden,
    "registry: caller may not dispute": Forbidden,
    "registry: caller may not resolve": Forbidden,
    # ClaimRegistry: the claim's state
    "registry: unknown claim": ClaimNotFound,
    "registry: claim already registered": Conflict,
    "registry: claim already pending transfer": Conflict,
    "registry: claim is settled": Conflict,
    "registry: claim is written off": Conflict,
    "registry: claim is disputed": Conflict,
    "registry: claim is not disputed": Conflict,
    "registry: owner may not raise the amount": Forbidden,
    "registry: claim was never sold": Conflict,
    "registry: no pending transfer": Conflict,
    "registry: no mandate": Conflict,
    # ClaimRegistry: the values given
    "registry: empty batch": Rejected,
    "registry: empty claim id": Rejected,
    "registry: empty debtor pseudonym": Rejected,
    "registry: principal must be positive": Rejected,
    "registry: outstanding exceeds principal": Rejected,
    "registry: missing due date": Rejected,
    "registry: missing currency": Rejected,
    "registry: malformed terms": Rejected,
    "registry: buyer is the owner": Rejected,
    "registry: buyer is not a creditor": Rejected,
    "registry: mandatee is not an agency": Rejected,
    "registry: mandate expiry is in the past": Rejected,
    "registry: amount must be positive": Rejected,
    # EvidenceAnchor
    "anchor: caller may not anchor": Forbidden,
    "anchor: empty root": Rejected,
    "anchor: empty batch": Rejected,
    "anchor: batch too large": Rejected,
    "anchor: root already anchored": Conflict,
    # CollectionPolicy: who may call
    "collection: caller is not the admin": Forbidden,
    "collection: caller may not set policies": Forbidden,
    "collection: policy belongs to the consortium": Forbidden,
    "collection: policy belongs to another creditor": Forbidden,
    "collection: caller is not the owner": Forbidden,
    "collection: caller is not the agency or a gateway": Forbidden,
    "collection: caller is not a keeper": Forbidden,
    "collection: caller is not the plans contract": Forbidden,
    # CollectionPolicy: the claim's state
    "collection: claim not enrolled": Conflict,
    "collection: already paused": Conflict,
    "collection: not paused": Conflict,
    "collection: outcome already recorded": Conflict,
    # CollectionPolicy: the values given
    "collection: empty policy id": Rejected,
    "collection: unknown policy": Rejected,
    "collection: stage days must rise from 1": Rejected,
    "collection: mask out of range": Rejected,
    "collection: bad contact window": Rejected,
    "collection: cap above 7": Rejected,
    "collection: legal stage above 4": Rejected,
    "collection: empty debtor pseudonym": Rejected,
    "collection: time zone offset out of range": Rejected,
    "collection: due date out of range": Rejected,
    "collection: unknown channel": Rejected,
    "collection: unknown kind": Rejected,
    "collection: unknown outcome": Rejected,
    "collection: unknown contact": Rejected,
    "collection: resume time in the future": Rejected,
    "collection: one part per creditor": Rejected,
    "collection: creditor listed twice": Rejected,
    "collection: shares for a non-creditor": Rejected,
    "collection: parts above 7": Rejected,
    # CollectionPolicy: the contact rules (debtledger.domain.policies.RULE_NAMES)
    "policy: not-mandated": PolicyRefused,
    "policy: claim-inactive": PolicyRefused,
    "policy: not-enrolled": PolicyRefused,
    "policy: collection-paused": PolicyRefused,
    "policy: channel-not-allowed": PolicyRefused,
    "policy: kind-not-allowed": PolicyRefused,
    "policy: contact-hours": PolicyRefused,
    "policy: daily-attempts": PolicyRefused,
    "policy: weekly-contacts": PolicyRefused,
    "policy: creditor-budget": PolicyRefused,
    "policy: calendar": PolicyRefused,
    "policy: cooling-off": PolicyRefused,
    "policy: third-party": PolicyRefused,
    "policy: credit-report-wait": PolicyRefused,
    "policy: legal-stage": PolicyRefused,
    "policy: time-barred": PolicyRefused,
    # RepaymentPlan: who may call
    "plan: caller is not the owner": Forbidden,
    "plan: caller is not a gateway": Forbidden,
    "plan: caller is not the owner or a gateway": Forbidden,
    # RepaymentPlan: the claim's and the plan's state
    "plan: claim is not active": Conflict,
    "plan: claim not enrolled": Conflict,
    "plan: plan already active": Conflict,
    "plan: no proposed plan": Conflict,
    "plan: no active plan": Conflict,
    "plan: no plan to re-age": Conflict,
    # RepaymentPlan: the values given
    "plan: empty schedule": Rejected,
    "plan: empty consent": Rejected,
    "plan: instalment amount must be positive": Rejected,
    "plan: malformed instalment": Rejected,
    "plan: due dates must be in the future and rise": Rejected,
}


def refusal(message: str) -> ContractRefused:
    """The typed error for a contract's revert message."""
    kind = REVERTS.get(message)
    if kind is None:
        kind = PolicyRefused if message.startswith("policy:") else ContractRefused
    return kind(message)
