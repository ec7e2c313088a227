"""Organisations hosted by this service, their members and the members' API keys.

Each organisation signs with its own key (chain/keys.py) and holds its roles on chain; a
member acts through an API key bound to one organisation and one of its roles.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from debtledger.access.apikeys import NewKey, new_api_key, secret_matches, split_key
from debtledger.chain.keys import check_name
from debtledger.errors import InvalidInput, NotFound, Unauthorized
from debtledger.orgs.service import OrgService
from debtledger.runtime import Runtime
from debtledger.store.db import take_turns
from debtledger.store.models import api_keys_table as api_keys
from debtledger.store.models import members_table as members
from debtledger.store.models import organisations_table as organisations

NOT_VALID = "the API key is not valid"  # one message for every failure: no oracle


@dataclass(frozen=True)
class Principal:
    """Who a request acts as."""

    org: str
    member: str
    role: str
    address: str
    key_id: str


class AccessService:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.engine = rt.engine

    def host(self, name: str, roles: Sequence[str], *, idem_key: str) -> dict[str, object]:
        """Host an organisation here: its key, its roles on chain, its row."""
        org = OrgService(self.rt).add(name, roles, idem_key=idem_key)
        row = {"name": org.name, "address": org.address, "roles": ",".join(org.roles)}
        with self.engine.begin() as conn:
            take_turns(conn, f"organisations:{name}")  # two hosts of one name: not both insert
            found = conn.execute(
                select(organisations.c.name).where(organisations.c.name == name)
            ).first()
            if found:
                conn.execute(
                    update(organisations).where(organisations.c.name == name).values(**row)
                )
            else:
                conn.execute(insert(organisations).values(**row, created_at=time.time()))
        return {**row, "roles": list(org.roles)}

    def orgs(self) -> list[dict[str, object]]:
        """The organisations this service hosts."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(organisations).order_by(organisations.c.name)).all()
        return [{"name": r.name, "address": r.address, "roles": r.roles.split(",")} for r in rows]

    def org(self, name: str) -> dict[str, object]:
        with self.engine.connect() as conn:
            row = conn.execute(select(organisations).where(organisations.c.name == name)).first()
        if row is None:
            raise NotFound(f"no organisation '{name}' is hosted here")
        return {"name": row.name, "address": row.address, "roles": row.roles.split(",")}

    def add_member(self, org: str, name: str) -> int:
        self.org(org)
        if not name.strip() or len(name) > 100:
            raise InvalidInput("a member's name is 1-100 characters", field="name")
        try:
            with self.engine.begin() as conn:
                result = conn.execute(
                    insert(members).values(org=org, name=name.strip(), created_at=time.time())
                )
                return int(result.inserted_primary_key[0])  # type: ignore[index]
        except IntegrityError:
            raise InvalidInput(f"'{name}' is a member of {org} already", field="name") from None

    def member_id(self, org: str, name: str) -> int:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(members.c.id).where(members.c.org == org, members.c.name == name)
            ).first()
        if row is None:
            raise NotFound(f"no member '{name}' in {org}")
        return int(row.id)

    def issue_key(self, org: str, member: str, role: str) -> NewKey:
        """A new API key for `member` of `org` acting in `role`; the key is shown once."""
        check_name(org)
        roles = self.org(org)["roles"]
        role = role.upper()
        if role not in roles:  # type: ignore[operator]
            raise InvalidInput(f"{org} does not hold the role {role}", field="role")
        member_id = self.member_id(org, member)
        made = new_api_key()
        with self.engine.begin() as conn:
            conn.execute(
                insert(api_keys).values(
                    key_id=made.key_id,
                    member_id=member_id,
                    org=org,
                    role=role,
                    secret_hash=made.secret_hash,
                    created_at=time.time(),
                )
            )
        return made

    def revoke_key(self, key_id: str) -> None:
        with self.engine.begin() as conn:
            done = conn.execute(
                update(api_keys)
                .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=time.time())
            )
        if done.rowcount == 0:
            raise NotFound(f"no live API key {key_id}")

    def authenticate(self, key: str) -> Principal:
        """The principal of a presented key; Unauthorized for anything else."""
        try:
            key_id, secret = split_key(key)
        except Unauthorized:
            raise Unauthorized(NOT_VALID) from None
        q = (
            select(api_keys, members.c.name.label("member"), organisations.c.address)
            .join(members, members.c.id == api_keys.c.member_id)
            .join(organisations, organisations.c.name == api_keys.c.org)
            .where(api_keys.c.key_id == key_id)
        )
        with self.engine.connect() as conn:
            row = conn.execute(q).first()
        if row is None or row.revoked_at is not None or not secret_matches(secret, row.secret_hash):
            raise Unauthorized(NOT_VALID)
        return Principal(
            org=row.org, member=row.member, role=row.role, address=row.address, key_id=key_id
        )
