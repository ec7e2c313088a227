"""Every store-backed fixture here (settings, ledger, ...) runs on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from debtledger.config import Settings


@pytest.fixture
def settings(store_settings: Settings) -> Settings:
    return store_settings
