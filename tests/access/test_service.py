"""Organisations hosted here, members and API keys against a real store and chain."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from debtledger.access.service import NOT_VALID, AccessService
from debtledger.errors import InvalidInput, NotFound, Unauthorized
from debtledger.store.models import api_keys_table
from tests.conftest import Ledger


@pytest.fixture
def access(ledger: Ledger) -> AccessService:
    service = AccessService(ledger.rt)
    service.host("bank-a", ["CREDITOR"], idem_key="host:bank-a")
    service.add_member("bank-a", "alice")
    return service


def test_key_authenticates_as_member_org_and_role(access: AccessService, ledger: Ledger) -> None:
    made = access.issue_key("bank-a", "alice", "creditor")
    who = access.authenticate(made.key)
    assert (who.org, who.member, who.role) == ("bank-a", "alice", "CREDITOR")
    assert who.address == ledger.orgs.address("bank-a")


def test_key_is_stored_hashed_only(access: AccessService, ledger: Ledger, backend: str) -> None:
    made = access.issue_key("bank-a", "alice", "CREDITOR")
    secret = made.key.rsplit("_", 1)[1]
    with ledger.rt.engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(select(api_keys_table))]
    assert [r for r in rows if made.secret_hash in r]
    assert secret not in repr(rows)
    if backend == "sqlite":  # nor anywhere in the file's bytes
        folder = ledger.settings.data_dir
        raw = b"".join(p.read_bytes() for p in folder.glob("debtledger.sqlite*"))  # with the WAL
        assert secret.encode() not in raw
        assert made.secret_hash.encode() in raw


def test_revoked_wrong_and_unknown_keys_fail_alike(access: AccessService) -> None:
    made = access.issue_key("bank-a", "alice", "CREDITOR")
    access.revoke_key(made.key_id)
    forged = made.key[:-4] + "AAAA"
    unknown = "dl_0123456789ab_" + "A" * 43
    for key in (made.key, forged, unknown, "nonsense"):
        with pytest.raises(Unauthorized) as info:
            access.authenticate(key)
        assert str(info.value) == NOT_VALID


def test_role_must_be_one_the_org_holds(access: AccessService) -> None:
    with pytest.raises(InvalidInput, match="does not hold the role AGENCY"):
        access.issue_key("bank-a", "alice", "AGENCY")


def test_unknown_member_and_duplicate_member(access: AccessService) -> None:
    with pytest.raises(NotFound, match="no member 'bob'"):
        access.issue_key("bank-a", "bob", "CREDITOR")
    with pytest.raises(InvalidInput, match="member of bank-a already"):
        access.add_member("bank-a", "alice")
