"""Fixtures of the privacy tests: a migrated store on each backend (SQLite, PostgreSQL),
master keys, and the hypothesis example count."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from debtledger.privacy.keys import MasterKeys
from debtledger.store.db import make_engine, migrate
from tests.conftest import StoreDatabases

# DEBTLEDGER_HYPOTHESIS_EXAMPLES tunes every property test here (default 60).
EXAMPLES = int(os.environ.get("DEBTLEDGER_HYPOTHESIS_EXAMPLES", "60"))


@pytest.fixture
def engine(store_dbs: StoreDatabases) -> Iterator[Engine]:
    """A fresh store at the newest migration, on the test's backend."""
    engine = make_engine(store_dbs.new("privacy"))
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def keys() -> MasterKeys:
    return MasterKeys.generate("k1")
