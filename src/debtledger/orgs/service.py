"""Organisations of the consortium: their keys (off chain) and their roles (on chain)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount
from eth_utils import is_address, keccak, to_checksum_address

from debtledger.chain.deploy import Deployment, deploy
from debtledger.chain.writer import Write
from debtledger.errors import Forbidden, InvalidInput, NotFound
from debtledger.runtime import ADMIN, Runtime

ROLES = ("CREDITOR", "AGENCY", "COURT", "REGULATOR", "GATEWAY", "KEEPER")


@dataclass(frozen=True)
class Org:
    name: str
    address: str
    roles: tuple[str, ...]


def role_id(role: str) -> bytes:
    role = role.upper()
    if role not in ROLES:
        raise InvalidInput(f"unknown role '{role}'; one of {', '.join(ROLES)}", field="role")
    return keccak(text=role)


def org_id(name: str) -> bytes:
    return keccak(text=name)


class OrgService:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def admin(self) -> LocalAccount:
        """The consortium admin's key; only the service that deployed holds it."""
        try:
            return self.rt.keys.load(ADMIN)
        except NotFound:
            raise Forbidden(
                "this service does not hold the consortium admin's key: ask the consortium's "
                "admin to grant the role (`debtledger org add NAME --role R --address 0x…`)"
            ) from None

    def deploy(self) -> dict[str, object]:
        """Deploy the contracts as the consortium admin and record the deployment."""
        try:
            admin = self.rt.keys.load(ADMIN)
        except NotFound:
            admin = self.rt.keys.create(ADMIN)
        deployment = deploy(self.rt.writer, admin)
        deployment.save(self.rt.settings.deployment_file)
        self.rt.__dict__.pop("deployment", None)
        for name in deployment.addresses:
            self.rt.abi(name)
        return {"chain_id": deployment.chain_id, "block": deployment.block, **deployment.addresses}

    def join(self, record: Path) -> dict[str, object]:
        """Adopt another service's deployment record, once it checks out against our node."""
        theirs = Deployment.load(record)
        if theirs.chain_id != self.rt.chain_id:
            raise InvalidInput(
                f"the record is for chain {theirs.chain_id}, the node is chain {self.rt.chain_id}",
                field="file",
            )
        for name, address in theirs.addresses.items():
            if self.rt.writer.rpc.call("eth_getCode", [address, "latest"]) in (None, "0x"):
                raise InvalidInput(f"no {name} contract at {address} on this chain", field="file")
        theirs.save(self.rt.settings.deployment_file)
        self.rt.__dict__.pop("deployment", None)
        return {"chain_id": theirs.chain_id, "block": theirs.block, **theirs.addresses}

    def key(self, name: str) -> str:
        """The organisation's signing key here (made if new); returns its address, which the
        consortium admin grants roles to."""
        if name == ADMIN:
            raise InvalidInput("'admin' is the consortium's own key", field="name")
        try:
            return self.rt.keys.load(name).address
        except NotFound:
            return self.rt.keys.create(name).address

    def add(
        self, name: str, roles: Sequence[str], *, idem_key: str, address: str | None = None
    ) -> Org:
        """Grant the organisation its roles on chain (as the admin), where missing. With no
        `address` the organisation's key is held here (made if new); with one, the
        organisation's key is held by its own service."""
        if not roles:
            raise InvalidInput("give at least one role", field="role")
        ids = [role_id(r) for r in roles]
        if address is None:
            address = self.key(name)
        elif not is_address(address):
            raise InvalidInput("not an address (0x + 40 hex digits)", field="address")
        address = to_checksum_address(address)
        current = self.roles_of(address)
        abi = self.rt.abi("Consortium")
        writes = [
            Write(
                abi,
                self.rt.address("Consortium"),
                "grant_role",
                (rid, address, org_id(name)),
                f"{idem_key}:{role.upper()}",
            )
            for role, rid in zip(roles, ids, strict=True)
            if role.upper() not in current
        ]
        if writes:
            self.rt.writer.execute(self.admin(), writes)
        return Org(name, address, self.roles_of(address))

    def roles_of(self, address: str) -> tuple[str, ...]:
        abi, at = self.rt.abi("Consortium"), self.rt.address("Consortium")
        return tuple(
            r for r in ROLES if self.rt.writer.call(abi, at, "has_role", address, role_id(r))
        )

    def list(self) -> list[Org]:
        out = []
        for name in self.rt.keys.names():
            if name == ADMIN:
                continue
            address = self.rt.keys.address_of(name)
            out.append(Org(name, address, self.roles_of(address)))
        return out

    def account(self, name: str) -> LocalAccount:
        """The signing key of one of this service's organisations."""
        return self.rt.keys.load(name)

    def address(self, name_or_address: str) -> str:
        """An organisation's address, by name or given as an address."""
        if is_address(name_or_address):
            return to_checksum_address(name_or_address)
        return self.rt.keys.address_of(name_or_address)

    def name_of(self, address: str) -> str:
        """The organisation's name where this service holds its key, else the address."""
        for name in self.rt.keys.names():
            if self.rt.keys.address_of(name) == address:
                return name
        return address
