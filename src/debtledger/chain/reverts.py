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
}


def refusal(message: str) -> ContractRefused:
    """The typed error for a contract's revert message."""
    kind = REVERTS.get(message)
    if kind is None:
        kind = PolicyRefused if message.startswith("policy:") else ContractRefused
    return kind(message)
