"""Contract unit-test fixtures: one Consortium + ClaimRegistry deployment per session,
rolled back after every test with a boa anchor."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from importlib import resources
from typing import Any, NamedTuple

import boa
import pytest
from eth_utils import keccak

from debtledger.chain.compile import EVM_VERSION
from debtledger.domain.claims import pack_claim
from debtledger.domain.policies import PRESETS, to_params

# The closed and disputed states, with the refusal each gives a call that needs an active claim.
NOT_ACTIVE = pytest.mark.parametrize(
    ("status", "reason"),
    [
        ("settled", "registry: claim is settled"),
        ("written_off", "registry: claim is written off"),
        ("disputed", "registry: claim is disputed"),
    ],
)


class ClaimInput(NamedTuple):
    """A claim's registration fields, unpacked (as the ClaimRegistered event carries them);
    `abi()` is the registry's packed `ClaimInput` struct."""

    claim_id: bytes
    debtor: bytes
    principal: int
    outstanding: int
    currency: bytes
    due_date: int
    record_hash: bytes

    def abi(self) -> tuple[bytes, bytes, int, int, bytes]:
        return pack_claim(*self)


@dataclass(frozen=True)
class Actors:
    """Every kind of account the contracts know, each its own organisation."""

    admin: str  # consortium admin (deployer of both contracts)
    creditor: str  # owns the claims the fixtures register
    creditor2: str  # another creditor: the usual buyer
    creditor3: str  # a third creditor: the proposed buyer in the role matrix
    agency: str
    court: str
    regulator: str
    gateway: str
    keeper: str
    stranger: str  # no role at all


@pytest.fixture(scope="session")
def deployers() -> dict[str, Any]:
    """Both contracts compiled once for the production EVM version, ready to deploy."""
    out = {}
    for name in ("Consortium", "ClaimRegistry"):
        path = resources.files("debtledger.contracts").joinpath(f"{name}.vy")
        out[name] = boa.load_partial(str(path), compiler_args={"evm_version": EVM_VERSION})
    return out


@pytest.fixture(scope="session")
def deployment(deployers: dict[str, Any]) -> tuple[Any, Any, Actors]:
    """Deploy both contracts once and grant every actor its role."""
    addr = {f.name: boa.env.generate_address(alias=f.name) for f in fields(Actors)}
    actors = Actors(**addr)
    with boa.env.prank(actors.admin):
        consortium = deployers["Consortium"].deploy()
        registry = deployers["ClaimRegistry"].deploy(consortium.address)
        roles = {
            "creditor": "CREDITOR",
            "creditor2": "CREDITOR",
            "creditor3": "CREDITOR",
            "agency": "AGENCY",
            "court": "COURT",
            "regulator": "REGULATOR",
            "gateway": "GATEWAY",
            "keeper": "KEEPER",
        }
        for field, role in roles.items():
            consortium.grant_role(keccak(text=role), addr[field], keccak(text=f"org:{field}"))
    return consortium, registry, actors


@pytest.fixture(autouse=True)
def _rollback(deployment: tuple[Any, Any, Actors]) -> Iterator[None]:
    """Undo every state change (and time travel) of a test."""
    with boa.env.anchor():
        yield


@pytest.fixture
def consortium(deployment: tuple[Any, Any, Actors]) -> Any:
    return deployment[0]


@pytest.fixture
def registry(deployment: tuple[Any, Any, Actors]) -> Any:
    return deployment[1]


@pytest.fixture
def actors(deployment: tuple[Any, Any, Actors]) -> Actors:
    return deployment[2]


@pytest.fixture
def role() -> Callable[[str], bytes]:
    """Role id by name: keccak256 of the name, as both contracts define it."""
    return lambda name: keccak(text=name)


@pytest.fixture
def events() -> Callable[[Any], list[tuple[str, dict[str, Any]]]]:
    """The events the contract's last call logged, as (name, fields) in log order.

    Call it straight after the transaction: any later call, views included, replaces them.
    """

    def decoded(contract: Any) -> list[tuple[str, dict[str, Any]]]:
        out = []
        for log in contract.get_logs():
            values = log._asdict()
            assert values.pop("address") == contract.address
            out.append((type(log).__name__, values))
        return out

    return decoded


@pytest.fixture
def claim_input() -> Callable[..., ClaimInput]:
    """A valid claim (fresh id each call); keyword arguments override fields."""
    ids = itertools.count(1)

    def build(**overrides: Any) -> ClaimInput:
        n = next(ids)
        base = ClaimInput(
            claim_id=keccak(text=f"claim-{n}"),
            debtor=keccak(text=f"debtor-{n}"),
            principal=10_000,
            outstanding=8_000,
            currency=b"CNY",
            due_date=1_767_225_600,
            record_hash=keccak(text=f"record-{n}"),
        )
        return base._replace(**overrides)

    return build


@pytest.fixture
def register(
    registry: Any, actors: Actors, claim_input: Callable[..., ClaimInput]
) -> Callable[..., bytes]:
    """Register a claim (owner: `actors.creditor` unless `owner=`); returns its id."""

    def do(owner: str | None = None, **overrides: Any) -> bytes:
        c = claim_input(**overrides)
        with boa.env.prank(owner or actors.creditor):
            registry.register(c.abi())
        return c.claim_id

    return do


@pytest.fixture
def claim(register: Callable[..., bytes]) -> bytes:
    """An active claim of `actors.creditor`: principal 10,000, outstanding 8,000."""
    return register()


@pytest.fixture
def sold_claim(registry: Any, actors: Actors, claim: bytes) -> bytes:
    """The `claim`, sold by `creditor` to `creditor2` (so a buy-back can return it)."""
    with boa.env.prank(actors.creditor):
        registry.propose_transfer(claim, actors.creditor2, keccak(text="price"))
    with boa.env.prank(actors.creditor2):
        registry.accept_transfer(claim)
    return claim


@pytest.fixture
def move_to(registry: Any, actors: Actors) -> Callable[..., None]:
    """Have the owner settle, write off or dispute a claim (owner: `actors.creditor`)."""

    def do(claim_id: bytes, status: str, owner: str | None = None) -> None:
        with boa.env.prank(owner or actors.creditor):
            if status == "settled":
                registry.settle(claim_id, keccak(text="settlement"))
            elif status == "written_off":
                registry.write_off(claim_id)
            elif status == "disputed":
                registry.dispute(claim_id, keccak(text="reason"))
            else:
                raise ValueError(status)

    return do


# ---------------------------------------------------------------- collection engine
# CollectionPolicy and RepaymentPlan, deployed once per session next to the registry, bound
# to each other as `debtledger deploy` binds them, with both policy presets installed.

DUE = 1_767_225_600  # 2026-01-01 00:00 UTC: the due date of the claims `enrolled` makes
FAR = 2**63  # a mandate expiry no test reaches
CN = "cn-cba-2026"
US = "us-reg-f"


@dataclass(frozen=True)
class Collection:
    """The collection contracts and the extra agency the shared-budget tests need."""

    policy: Any
    plans: Any
    agency2: str  # a second agency (the session's `agency` is the first)


@pytest.fixture(scope="session")
def collection_deployment(deployment: tuple[Any, Any, Actors]) -> Collection:
    consortium, registry, actors = deployment
    contracts = resources.files("debtledger.contracts")
    policy_deployer, plans_deployer = (
        boa.load_partial(
            str(contracts.joinpath(f"{n}.vy")), compiler_args={"evm_version": EVM_VERSION}
        )
        for n in ("CollectionPolicy", "RepaymentPlan")
    )
    agency2 = boa.env.generate_address(alias="agency2")
    with boa.env.prank(actors.admin):
        policy = policy_deployer.deploy(consortium.address, registry.address)
        plans = plans_deployer.deploy(consortium.address, registry.address, policy.address)
        policy.set_plans(plans.address)
        consortium.grant_role(keccak(text="GATEWAY"), plans.address, keccak(text="org:plans"))
        consortium.grant_role(keccak(text="AGENCY"), agency2, keccak(text="org:agency2"))
        for rules in PRESETS.values():
            policy.set_policy(rules.policy_id, to_params(rules))
    return Collection(policy, plans, agency2)


@pytest.fixture
def policy(collection_deployment: Collection) -> Any:
    """The CollectionPolicy, with both presets installed and `plans` as its plan contract."""
    return collection_deployment.policy


@pytest.fixture
def plans(collection_deployment: Collection) -> Any:
    """The RepaymentPlan contract (it holds the GATEWAY role)."""
    return collection_deployment.plans


@pytest.fixture
def agency2(collection_deployment: Collection) -> str:
    return collection_deployment.agency2


@pytest.fixture
def at() -> Callable[[int], int]:
    """Set the block time (unix seconds); returns it."""

    def set_time(timestamp: int) -> int:
        boa.env.evm.patch.timestamp = timestamp
        return timestamp

    return set_time


@pytest.fixture
def enrolled(
    registry: Any,
    actors: Actors,
    collection_deployment: Collection,
    register: Callable[..., bytes],
) -> Callable[..., bytes]:
    """Register a claim due at DUE, mandate an agency and enrol it; returns its id.

    Keywords: preset (name, default CN), tz (UTC offset in minutes, default +480), debtor
    (pseudonym bytes), owner and agency (an Actors field name, "agency2" or an address;
    agency None: no mandate), due.
    """

    def address(name: str) -> str:
        if name == "agency2":
            return collection_deployment.agency2
        return str(getattr(actors, name, name))

    def make(
        *,
        preset: str = CN,
        tz: int = 480,
        debtor: bytes | None = None,
        owner: str = "creditor",
        agency: str | None = "agency",
        due: int = DUE,
    ) -> bytes:
        debtor = debtor or keccak(text="shared-debtor")
        cid = register(owner=address(owner), debtor=debtor, due_date=due)
        with boa.env.prank(address(owner)):
            if agency is not None:
                registry.grant_mandate(cid, address(agency), FAR)
            collection_deployment.policy.enrol(cid, keccak(text=preset), debtor, tz)
        return cid

    return make
