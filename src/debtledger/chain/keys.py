"""Signing keys of the organisations, as encrypted keystore files in the data folder.

Each organisation signs its own transactions; a key file is an Ethereum keystore (v3)
encrypted under the key password from settings, never stored in the clear.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from debtledger.errors import InvalidInput, NotFound

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
# PBKDF2 rounds: the keystore is on the service's own disk; a few tens of ms per unlock.
_ITERATIONS = 50_000


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise InvalidInput(
            "use 1-63 lower-case letters, digits, '-' or '_', starting with a letter or digit",
            field="name",
        )
    return name


class KeyStore:
    """Encrypted keys by organisation name."""

    def __init__(self, folder: Path, password: str) -> None:
        self.folder = folder
        self.password = password
        self._cache: dict[str, LocalAccount] = {}

    def path(self, name: str) -> Path:
        return self.folder / f"{check_name(name)}.json"

    def create(self, name: str) -> LocalAccount:
        """Make a new key for `name`; refuses to overwrite an existing one."""
        path = self.path(name)
        if path.exists():
            raise InvalidInput(f"a key for '{name}' exists already", field="name")
        account: LocalAccount = Account.create()
        blob = Account.encrypt(account.key, self.password, kdf="pbkdf2", iterations=_ITERATIONS)
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(blob, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        self._cache[name] = account
        return account

    def load(self, name: str) -> LocalAccount:
        if name not in self._cache:
            path = self.path(name)
            if not path.exists():
                raise NotFound(f"no key for organisation '{name}'")
            key = Account.decrypt(json.loads(path.read_text()), self.password)
            self._cache[name] = Account.from_key(key)
        return self._cache[name]

    def address_of(self, name: str) -> str:
        """The key's address without unlocking it (a keystore keeps it in the clear)."""
        path = self.path(name)
        if not path.exists():
            raise NotFound(f"no key for organisation '{name}'")
        return to_checksum_address(json.loads(path.read_text())["address"])

    def names(self) -> list[str]:
        if not self.folder.exists():
            return []
        return sorted(p.stem for p in self.folder.glob("*.json"))
