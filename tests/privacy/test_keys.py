"""Key material from settings, and local-mode keys made once in the data folder."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from debtledger.config import Settings
from debtledger.errors import ConfigError, VaultError
from debtledger.privacy.keys import (
    LINKAGE_FILE,
    MASTER_FILE,
    SECRETS_DIR,
    MasterKeys,
    linkage_key,
    master_keys,
)

HEX_A = "a1" * 32
HEX_B = "b2" * 32


def local(tmp_path: Path, **overrides: object) -> Settings:
    return Settings(data_dir=tmp_path / "data", **overrides)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# ------------------------------------------------------------------ from settings


def test_keys_from_settings(tmp_path: Path) -> None:
    settings = local(
        tmp_path, linkage_key="0x" + HEX_A, vault_master_keys=f"new:{HEX_B},old:{HEX_A}"
    )
    assert linkage_key(settings) == bytes.fromhex(HEX_A)
    keys = master_keys(settings)
    assert keys.current_id == "new" and keys.ids == ["new", "old"]
    assert keys.current == bytes.fromhex(HEX_B) and keys.get("old") == bytes.fromhex(HEX_A)
    assert not (tmp_path / "data" / SECRETS_DIR).exists()  # nothing written


@pytest.mark.parametrize("bad", ["abc", HEX_A[:-1], HEX_A + "0", "zz" * 32, "00" * 32])
def test_bad_linkage_key_is_refused_without_echoing_it(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ConfigError) as info:
        linkage_key(local(tmp_path, linkage_key=bad))
    assert "DEBTLEDGER_LINKAGE_KEY" in str(info.value)
    assert bad not in str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"k1{HEX_A}", "entry 1 must be 'id:hex'"),
        (f"k1:{HEX_A},", "entry 2 must be 'id:hex'"),
        (f"k1:{HEX_A},k1:{HEX_B}", "given twice"),
        (f"k1:{HEX_A[:10]}", "64 hex digits"),
        (f"bad id:{HEX_A}", "entry 1"),
    ],
)
def test_bad_master_keys_are_refused_without_echoing_them(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        master_keys(local(tmp_path, vault_master_keys=text))
    assert message in str(info.value)
    assert HEX_A not in str(info.value) and HEX_A[:10] not in str(info.value)


def test_unknown_master_key_id_is_a_vault_error() -> None:
    keys = MasterKeys.parse(f"k1:{HEX_A}")
    with pytest.raises(VaultError):
        keys.get("k2")
    assert HEX_A not in repr(keys)


def test_rotation_steps_put_the_new_key_first() -> None:
    keys = MasterKeys.parse(f"k1:{HEX_A}").with_new_key("k2")
    assert keys.ids == ["k2", "k1"] and keys.current_id == "k2"
    assert len(keys.current) == 32 and keys.current != keys.get("k1")
    assert MasterKeys.parse(keys.to_text()).ids == ["k2", "k1"]
    assert keys.without("k1").ids == ["k2"]


# ------------------------------------------------------------------ local mode


def test_local_keys_are_made_once_private_and_reused(tmp_path: Path) -> None:
    settings = local(tmp_path)
    first_link, first_master = linkage_key(settings), master_keys(settings)
    folder = tmp_path / "data" / SECRETS_DIR
    assert mode(folder) == 0o700
    assert mode(folder / LINKAGE_FILE) == 0o600 and mode(folder / MASTER_FILE) == 0o600
    assert sorted(p.name for p in folder.iterdir()) == sorted([LINKAGE_FILE, MASTER_FILE])
    assert len(first_link) == 32 and len(first_master.current) == 32
    again = local(tmp_path)
    assert linkage_key(again) == first_link
    assert master_keys(again).current == first_master.current
    assert linkage_key(local(tmp_path / "elsewhere")) != first_link


def test_processes_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    settings = local(tmp_path)
    start = threading.Barrier(8)
    got: list[bytes] = []

    def make() -> None:
        start.wait()
        got.append(linkage_key(settings))

    threads = [threading.Thread(target=make) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(got) == 8 and len(set(got)) == 1


def test_a_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    settings = local(tmp_path)
    linkage_key(settings)
    path = tmp_path / "data" / SECRETS_DIR / LINKAGE_FILE
    path.chmod(0o644)
    with pytest.raises(ConfigError) as info:
        linkage_key(settings)
    assert "chmod 600" in str(info.value)


def test_a_damaged_key_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    settings = local(tmp_path)
    master_keys(settings)
    path = tmp_path / "data" / SECRETS_DIR / MASTER_FILE
    path.write_text("local-1:1234\n")
    with pytest.raises(ConfigError) as info:
        master_keys(settings)
    assert str(path) in str(info.value)


def test_outside_local_mode_unset_keys_are_refused(tmp_path: Path) -> None:
    settings = local(tmp_path, mode="consortium")
    with pytest.raises(ConfigError) as info:
        linkage_key(settings)
    assert "DEBTLEDGER_LINKAGE_KEY" in str(info.value)
    with pytest.raises(ConfigError) as info:
        master_keys(settings)
    assert "DEBTLEDGER_VAULT_MASTER_KEYS" in str(info.value)
    assert not (tmp_path / "data").exists()
