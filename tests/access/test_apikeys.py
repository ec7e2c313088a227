"""API keys: shown once, stored hashed, compared in constant time; bad keys are refused."""

from __future__ import annotations

import pytest

from debtledger.access.apikeys import new_api_key, secret_matches, split_key
from debtledger.errors import Unauthorized


def test_key_round_trip() -> None:
    made = new_api_key()
    key_id, secret = split_key(made.key)
    assert key_id == made.key_id
    assert secret_matches(secret, made.secret_hash)
    assert made.secret_hash != secret and secret not in made.secret_hash


def test_wrong_secret_does_not_match() -> None:
    made, other = new_api_key(), new_api_key()
    assert not secret_matches(split_key(other.key)[1], made.secret_hash)


@pytest.mark.parametrize("key", ["", "dl_short_x", "Bearer abc", "dl_0123456789ab_" + "!" * 43])
def test_malformed_keys_are_unauthorized(key: str) -> None:
    with pytest.raises(Unauthorized, match="malformed"):
        split_key(key)
