"""Wiring: from settings to the store, the outbox, the chain writer, the key store and the
deployment.

Services take a Runtime; nothing here knows about HTTP or the command line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import Engine

from debtledger.chain.abi import ContractABI
from debtledger.chain.committer import Committer
from debtledger.chain.compile import compile_contract
from debtledger.chain.deploy import Deployment
from debtledger.chain.events import EventReader
from debtledger.chain.keys import KeyStore
from debtledger.chain.rpc import Rpc
from debtledger.chain.writer import ChainWriter
from debtledger.config import Settings
from debtledger.privacy.keys import linkage_key, master_keys
from debtledger.privacy.pseudonym import LinkageService
from debtledger.privacy.vault import Vault
from debtledger.store.db import make_engine, migrate
from debtledger.store.indexer import Indexer
from debtledger.store.outbox import Outbox

ADMIN = "admin"


@dataclass
class Runtime:
    settings: Settings
    _abis: dict[str, ContractABI] = field(default_factory=dict)

    @cached_property
    def engine(self) -> Engine:
        """The off-chain store, its schema migrated to the newest revision on first use."""
        engine = make_engine(self.settings.database_url)
        migrate(engine)
        return engine

    @cached_property
    def outbox(self) -> Outbox:
        return Outbox(self.engine)

    @cached_property
    def chain_id(self) -> int:
        return int(Rpc(self.settings.node_url).call("eth_chainId"), 16)

    @cached_property
    def writer(self) -> ChainWriter:
        """The chain writer, its outbox reconciled with the chain before the first write."""
        writer = ChainWriter(
            self.settings.node_url,
            self.chain_id,
            self.outbox,
            local=self.settings.local_node,
            lock_dir=self.settings.node_dir if self.settings.local_node else None,
            gas_price=0 if self.settings.local_node else self.settings.gas_price_wei,
            receipt_timeout_s=self.settings.receipt_timeout_s,
        )
        writer.reconcile()
        return writer

    @cached_property
    def committer(self) -> Committer:
        """Sends stored writes in groups, in the background (started on first use)."""
        return Committer(self.writer)

    @cached_property
    def keys(self) -> KeyStore:
        return KeyStore(self.settings.keys_dir, self.settings.key_password)

    @cached_property
    def deployment(self) -> Deployment:
        return Deployment.load(self.settings.deployment_file)

    def abi(self, name: str) -> ContractABI:
        """A contract's ABI: from the deployment's build folder, compiled if absent."""
        if name not in self._abis:
            path = self.settings.data_dir / "contracts" / f"{name}.json"
            if path.exists():
                abi = json.loads(path.read_text())
            else:
                abi = compile_contract(name).abi
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(abi))
            self._abis[name] = ContractABI(abi)
        return self._abis[name]

    def address(self, name: str) -> str:
        return self.deployment.addresses[name]

    @cached_property
    def events(self) -> EventReader:
        """Events of the contracts this deployment holds (a record made before a contract
        was added to the consortium simply lacks it)."""
        addresses = self.deployment.addresses
        return EventReader(self.writer.rpc, {a: self.abi(n) for n, a in addresses.items()})

    @cached_property
    def indexer(self) -> Indexer:
        """The indexer of this deployment's registry into this runtime's store."""
        return Indexer(
            self.writer.rpc,
            self.events,
            self.engine,
            contract=self.address("ClaimRegistry"),
            chain_id=self.chain_id,
            start_block=self.deployment.block,
        )

    @cached_property
    def vault(self) -> Vault:
        """The PII vault in this runtime's store, under the configured master keys."""
        return Vault(self.engine, master_keys(self.settings))

    @cached_property
    def linkage(self) -> LinkageService:
        """The pseudonym linkage service; only creditors' services call it."""
        return LinkageService(linkage_key(self.settings))
