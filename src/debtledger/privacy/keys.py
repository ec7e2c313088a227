"""Key material of the privacy layer: the linkage service's PRF key and the vault's master
keys, read from settings or, in local mode when unset, made once in the data folder.

Settings give `linkage_key` as 64 hex digits and `vault_master_keys` as "id:hex,id:hex"
(the first wraps new data keys; the others only unwrap old ones until rotation is done).
Local files live in `<data_dir>/secrets` (folder 0700, files 0600), written atomically and
never overwritten, so two processes starting together agree on one key. Errors name the
setting or file, never the key.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path

from debtledger.config import Settings
from debtledger.errors import ConfigError, VaultError

KEY_SIZE = 32
SECRETS_DIR = "secrets"
LINKAGE_FILE = "linkage.key"
MASTER_FILE = "vault-master.keys"
LOCAL_MASTER_ID = "local-1"

_KEY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
_HEX64 = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")


def _key_from_hex(text: str, where: str) -> bytes:
    text = text.strip()
    if not _HEX64.match(text):
        raise ConfigError(f"{where} must be 64 hex digits (32 bytes)")
    key = bytes.fromhex(text.removeprefix("0x"))
    if key == bytes(KEY_SIZE):
        raise ConfigError(f"{where} must not be all zeros")
    return key


class MasterKeys:
    """The vault's master keys by id; `current_id` (the first given) wraps new data keys."""

    def __init__(self, keys: Mapping[str, bytes] | Iterable[tuple[str, bytes]]) -> None:
        items = list(keys.items() if isinstance(keys, Mapping) else keys)
        if not items:
            raise ConfigError("at least one vault master key is needed")
        self._keys: dict[str, bytes] = {}
        for key_id, key in items:
            if not _KEY_ID.match(key_id):
                raise ConfigError("a vault master key id is 1-32 letters, digits, '.', '_' or '-'")
            if key_id in self._keys:
                raise ConfigError(f"vault master key id '{key_id}' is given twice")
            if not isinstance(key, bytes) or len(key) != KEY_SIZE:
                raise ConfigError(f"vault master key '{key_id}' must be {KEY_SIZE} bytes")
            self._keys[key_id] = key
        self.current_id = items[0][0]

    def __repr__(self) -> str:
        return f"MasterKeys(ids={self.ids}, current={self.current_id!r})"

    @property
    def ids(self) -> list[str]:
        return list(self._keys)

    @property
    def current(self) -> bytes:
        return self._keys[self.current_id]

    def get(self, key_id: str) -> bytes:
        """The key with that id; VaultError when it is not configured."""
        try:
            return self._keys[key_id]
        except KeyError:
            raise VaultError(f"vault master key '{key_id}' is not configured") from None

    @classmethod
    def parse(cls, text: str, where: str = "DEBTLEDGER_VAULT_MASTER_KEYS") -> MasterKeys:
        """Parse "id:hex,id:hex" (the first is current)."""
        items: list[tuple[str, bytes]] = []
        for i, entry in enumerate(text.split(","), start=1):
            key_id, sep, hex_key = entry.strip().partition(":")
            if not sep or not _KEY_ID.match(key_id.strip()):
                raise ConfigError(
                    f"{where}: entry {i} must be 'id:hex' with an id of 1-32 letters, "
                    "digits, '.', '_' or '-'"
                )
            items.append((key_id.strip(), _key_from_hex(hex_key, f"{where}: key '{key_id}'")))
        return cls(items)

    def to_text(self) -> str:
        """The "id:hex,id:hex" form, current first (what `parse` reads)."""
        return ",".join(f"{i}:{k.hex()}" for i, k in self._keys.items())

    @classmethod
    def generate(cls, key_id: str = LOCAL_MASTER_ID) -> MasterKeys:
        """One new random master key."""
        return cls([(key_id, secrets.token_bytes(KEY_SIZE))])

    def with_new_key(self, key_id: str) -> MasterKeys:
        """These keys plus a new random one in front (it becomes current): the first step
        of a rotation, before `Vault.rotate`."""
        return MasterKeys([(key_id, secrets.token_bytes(KEY_SIZE)), *self._keys.items()])

    def without(self, key_id: str) -> MasterKeys:
        """These keys less one (the last step of a rotation: the old key retired)."""
        return MasterKeys([(i, k) for i, k in self._keys.items() if i != key_id])


def linkage_key(settings: Settings) -> bytes:
    """The pseudonym PRF key: `settings.linkage_key`, or in local mode a random key made
    once in the data folder."""
    if settings.linkage_key:
        return _key_from_hex(settings.linkage_key, "DEBTLEDGER_LINKAGE_KEY")
    path = _local_file(settings, LINKAGE_FILE, "DEBTLEDGER_LINKAGE_KEY")
    _create_once(path, (secrets.token_bytes(KEY_SIZE).hex() + "\n").encode())
    return _key_from_hex(_read_secret(path), str(path))


def master_keys(settings: Settings) -> MasterKeys:
    """The vault's master keys: `settings.vault_master_keys`, or in local mode one random
    key made once in the data folder."""
    if settings.vault_master_keys:
        return MasterKeys.parse(settings.vault_master_keys)
    path = _local_file(settings, MASTER_FILE, "DEBTLEDGER_VAULT_MASTER_KEYS")
    _create_once(path, (MasterKeys.generate().to_text() + "\n").encode())
    return MasterKeys.parse(_read_secret(path), str(path))


def _local_file(settings: Settings, name: str, setting: str) -> Path:
    if settings.mode != "local":
        raise ConfigError(f"set {setting} outside local mode")
    return settings.data_dir / SECRETS_DIR / name


def _read_secret(path: Path) -> str:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(f"{path} is readable by others (mode {mode:o}): chmod 600 it")
    return path.read_text()


def _create_once(path: Path, content: bytes) -> None:
    """Write `path` with `content` unless it exists: a private temp file, fsynced, then
    hard-linked into place (which fails if another process got there first)."""
    if path.exists():
        return
    folder = path.parent
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    tmp = folder / f".{path.name}.{secrets.token_hex(6)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(FileExistsError):  # another process won: use its key
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
