"""EvidenceAnchor fixtures: one anchor bound to the session's consortium (rolled back after
every test by the parent conftest)."""

from __future__ import annotations

from importlib import resources
from typing import Any

import boa
import pytest

from debtledger.chain.compile import EVM_VERSION

from ..conftest import Actors


@pytest.fixture(scope="session")
def anchor_deployer() -> Any:
    path = resources.files("debtledger.contracts").joinpath("EvidenceAnchor.vy")
    return boa.load_partial(str(path), compiler_args={"evm_version": EVM_VERSION})


@pytest.fixture(scope="session")
def anchor_deployment(anchor_deployer: Any, deployment: tuple[Any, Any, Actors]) -> Any:
    consortium, _, actors = deployment
    with boa.env.prank(actors.admin):
        return anchor_deployer.deploy(consortium.address)


@pytest.fixture
def anchor(anchor_deployment: Any) -> Any:
    """The EvidenceAnchor, bound to `consortium`."""
    return anchor_deployment
