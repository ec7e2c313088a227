"""Every revert message in the contracts maps to a typed error (the table is the API)."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from debtledger.chain.reverts import REVERTS, refusal
from debtledger.errors import ContractRefused, PolicyRefused


def _messages() -> set[str]:
    found: set[str] = set()
    for f in resources.files("debtledger.contracts").iterdir():
        if f.name.endswith(".vy"):
            found |= set(re.findall(r'assert [^#\n]*?,\s*"([^"]+)"', f.read_text()))
            found |= set(re.findall(r'\),\s*"([a-z]+: [^"]+)"', f.read_text()))
    return found


def test_every_contract_message_is_in_the_table() -> None:
    messages = _messages()
    assert len(messages) > 25
    assert messages - set(REVERTS) == set()


def test_table_has_no_message_the_contracts_lost() -> None:
    assert set(REVERTS) - _messages() == set()


@pytest.mark.parametrize("message", sorted(REVERTS))
def test_refusal_carries_the_rule(message: str) -> None:
    err = refusal(message)
    assert isinstance(err, REVERTS[message])
    assert err.rule == message


def test_unknown_policy_rule_is_a_policy_refusal() -> None:
    assert isinstance(refusal("policy: outside contact hours"), PolicyRefused)
    assert type(refusal("something else")) is ContractRefused
