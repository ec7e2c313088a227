"""Who may call what: every mutating function of both contracts x every kind of caller.

Each case first puts a claim in the state the function needs (so only the caller decides),
then calls it as each kind of caller: allowed calls must log their event, refused calls must
revert with the function's role rule.
"""

from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import boa
import pytest
from eth_utils import keccak

KINDS = (
    "owner",
    "creditor",
    "buyer",
    "agency",
    "court",
    "regulator",
    "gateway",
    "keeper",
    "admin",
    "stranger",
)

# Y allowed, . refused; columns in KINDS order. "owner" is the creditor owning the claim;
# "buyer" is a third creditor: the proposed buyer, or for a buy-back the last seller.
# accept_admin: the admin has named the stranger (an outside account) as its successor.
MATRIX = """
                  own cre buy agy crt reg gwy kpr adm str
register           Y   Y   Y   .   .   .   .   .   .   .
register_batch     Y   Y   Y   .   .   .   .   .   .   .
propose_transfer   Y   .   .   .   .   .   .   .   .   .
propose_buy_back   Y   .   .   .   .   .   .   .   .   .
accept_transfer    .   .   Y   .   .   .   .   .   .   .
decline_transfer   .   .   Y   .   .   .   .   .   .   .
cancel_transfer    Y   .   .   .   .   .   .   .   .   .
grant_mandate      Y   .   .   .   .   .   .   .   .   .
revoke_mandate     Y   .   .   .   .   .   .   .   .   .
record_repayment   Y   .   .   .   .   .   Y   .   .   .
settle             Y   .   .   .   .   .   .   .   .   .
write_off          Y   .   .   .   .   .   .   .   .   .
dispute            Y   .   .   .   Y   .   Y   .   .   .
resolve_dispute    Y   .   .   .   Y   .   .   .   .   .
grant_role         .   .   .   .   .   .   .   .   Y   .
revoke_role        .   .   .   .   .   .   .   .   Y   .
transfer_admin     .   .   .   .   .   .   .   .   Y   .
accept_admin       .   .   .   .   .   .   .   .   .   Y
"""
ALLOWED = {
    row.split()[0]: {k for k, cell in zip(KINDS, row.split()[1:], strict=True) if cell == "Y"}
    for row in MATRIX.strip().splitlines()[1:]
}
H = keccak(text="hash")
DAY = 86_400


@dataclass(frozen=True)
class Case:
    contract: str  # "registry" or "consortium"
    setup: Callable[[Any], Any]  # returns the claim id (or None)
    call: Callable[[Any, Any], None]
    refusal: str
    event: str


def _claim(ctx: Any, owner: str | None = None) -> bytes:
    c = ctx.claim_input()
    with boa.env.prank(owner or ctx.a.creditor):
        ctx.registry.register(c.abi())
    return c.claim_id


def _offered(ctx: Any) -> bytes:
    cid = _claim(ctx)
    with boa.env.prank(ctx.a.creditor):
        ctx.registry.propose_transfer(cid, ctx.a.creditor3, H)
    return cid


def _bought_from_buyer(ctx: Any) -> bytes:
    cid = _claim(ctx, owner=ctx.a.creditor3)
    with boa.env.prank(ctx.a.creditor3):
        ctx.registry.propose_transfer(cid, ctx.a.creditor, H)
    with boa.env.prank(ctx.a.creditor):
        ctx.registry.accept_transfer(cid)
    return cid


def _mandated(ctx: Any) -> bytes:
    cid = _claim(ctx)
    with boa.env.prank(ctx.a.creditor):
        ctx.registry.grant_mandate(cid, ctx.a.agency, boa.env.timestamp + DAY)
    return cid


def _disputed(ctx: Any) -> bytes:
    cid = _claim(ctx)
    with boa.env.prank(ctx.a.creditor):
        ctx.registry.dispute(cid, H)
    return cid


def _successor_named(ctx: Any) -> None:
    with boa.env.prank(ctx.a.admin):
        ctx.consortium.transfer_admin(ctx.a.stranger)


def _nothing(ctx: Any) -> None:
    return None


NOT_OWNER = "registry: caller is not the owner"
NOT_BUYER = "registry: caller is not the proposed buyer"
NOT_ADMIN = "consortium: caller is not the admin"
R, C = "registry", "consortium"

CASES = {
    "register": Case(
        R,
        _nothing,
        lambda x, _: x.registry.register(x.claim_input().abi()),
        "registry: caller is not a creditor",
        "ClaimRegistered",
    ),
    "register_batch": Case(
        R,
        _nothing,
        lambda x, _: x.registry.register_batch([x.claim_input().abi()]),
        "registry: caller is not a creditor",
        "ClaimRegistered",
    ),
    "propose_transfer": Case(
        R,
        _claim,
        lambda x, cid: x.registry.propose_transfer(cid, x.a.creditor3, H),
        NOT_OWNER,
        "TransferProposed",
    ),
    "propose_buy_back": Case(
        R,
        _bought_from_buyer,
        lambda x, cid: x.registry.propose_buy_back(cid, H),
        NOT_OWNER,
        "TransferProposed",
    ),
    "accept_transfer": Case(
        R, _offered, lambda x, cid: x.registry.accept_transfer(cid), NOT_BUYER, "ClaimTransferred"
    ),
    "decline_transfer": Case(
        R, _offered, lambda x, cid: x.registry.decline_transfer(cid), NOT_BUYER, "TransferDeclined"
    ),
    "cancel_transfer": Case(
        R, _offered, lambda x, cid: x.registry.cancel_transfer(cid), NOT_OWNER, "TransferCancelled"
    ),
    "grant_mandate": Case(
        R,
        _claim,
        lambda x, cid: x.registry.grant_mandate(cid, x.a.agency, boa.env.timestamp + DAY),
        NOT_OWNER,
        "MandateGranted",
    ),
    "revoke_mandate": Case(
        R, _mandated, lambda x, cid: x.registry.revoke_mandate(cid), NOT_OWNER, "MandateRevoked"
    ),
    "record_repayment": Case(
        R,
        _claim,
        lambda x, cid: x.registry.record_repayment(cid, 1, H),
        "registry: caller is not the owner or a gateway",
        "RepaymentRecorded",
    ),
    "settle": Case(R, _claim, lambda x, cid: x.registry.settle(cid, H), NOT_OWNER, "ClaimSettled"),
    "write_off": Case(
        R, _claim, lambda x, cid: x.registry.write_off(cid), NOT_OWNER, "ClaimWrittenOff"
    ),
    "dispute": Case(
        R,
        _claim,
        lambda x, cid: x.registry.dispute(cid, H),
        "registry: caller may not dispute",
        "ClaimDisputed",
    ),
    "resolve_dispute": Case(
        R,
        _disputed,
        lambda x, cid: x.registry.resolve_dispute(cid, 1, H),
        "registry: caller may not resolve",
        "DisputeResolved",
    ),
    "grant_role": Case(
        C,
        _nothing,
        lambda x, _: x.consortium.grant_role(keccak(text="KEEPER"), boa.env.generate_address(), H),
        NOT_ADMIN,
        "RoleGranted",
    ),
    "revoke_role": Case(
        C,
        _nothing,
        lambda x, _: x.consortium.revoke_role(keccak(text="KEEPER"), x.a.keeper),
        NOT_ADMIN,
        "RoleRevoked",
    ),
    "transfer_admin": Case(
        C,
        _nothing,
        lambda x, _: x.consortium.transfer_admin(boa.env.generate_address()),
        NOT_ADMIN,
        "AdminTransferStarted",
    ),
    "accept_admin": Case(
        C,
        _successor_named,
        lambda x, _: x.consortium.accept_admin(),
        "consortium: caller is not the pending admin",
        "AdminTransferred",
    ),
}
ACCOUNT_OF = {"owner": "creditor", "creditor": "creditor2", "buyer": "creditor3"}


def test_matrix_covers_every_mutating_function(registry, consortium):
    """A new external function must be added to the matrix."""
    mutating = {
        f["name"]
        for c in (registry, consortium)
        for f in c.abi
        if f["type"] == "function" and f["stateMutability"] not in ("view", "pure")
    }
    assert mutating == set(CASES) == set(ALLOWED)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("function", list(CASES))
def test_role_matrix(registry, consortium, actors, claim_input, events, function, kind):
    case = CASES[function]
    ctx = SimpleNamespace(
        registry=registry, consortium=consortium, a=actors, claim_input=claim_input
    )
    arg = case.setup(ctx)
    caller = getattr(actors, ACCOUNT_OF.get(kind, kind))
    contract = registry if case.contract == R else consortium
    with boa.env.prank(caller):
        if kind in ALLOWED[function]:
            case.call(ctx, arg)
            assert case.event in [name for name, _ in events(contract)]
        else:
            with boa.reverts(case.refusal):
                case.call(ctx, arg)
