"""The one error root of DebtLedger and its families.

The API turns these into problem responses and the CLI into a message and exit code 1.
"""

from __future__ import annotations


class DebtLedgerError(Exception):
    """Raised when DebtLedger cannot do what was asked; the root of every error here."""


class ConfigError(DebtLedgerError):
    """Raised when settings are missing or unsafe."""


class InvalidInput(DebtLedgerError):
    """Raised when input is malformed; names the field (and row) that was wrong."""

    def __init__(self, message: str, *, field: str | None = None, row: int | None = None) -> None:
        where = []
        if row is not None:
            where.append(f"row {row}")
        if field is not None:
            where.append(f"field '{field}'")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)
        self.field = field
        self.row = row
        self.reason = message


class InvalidProof(DebtLedgerError):
    """Raised when a Merkle proof does not show its leaf is in the tree it names."""


class Unauthorized(DebtLedgerError):
    """Raised when a request carries no valid API key."""


class NotFound(DebtLedgerError):
    """Raised when the claim, organisation or record asked for does not exist."""


class StoreError(DebtLedgerError):
    """Raised when the off-chain store holds data that does not fit the chain it is used with."""


class ChainError(DebtLedgerError):
    """Raised when the chain node cannot be reached or does not behave as expected."""


class NodeUnavailable(ChainError):
    """Raised when the node does not answer (stopped, killed or unreachable)."""


class ContractRefused(ChainError):
    """Raised when a contract refuses a call; `rule` is the contract's own message."""

    def __init__(self, rule: str) -> None:
        super().__init__(rule)
        self.rule = rule


class Forbidden(ContractRefused):
    """Raised when the caller's role or ownership does not allow the call."""


class Conflict(ContractRefused):
    """Raised when the claim's state does not allow the call (pending, closed, duplicate)."""


class ClaimNotFound(ContractRefused, NotFound):
    """Raised when the chain has no claim with that id."""


class PolicyRefused(ContractRefused):
    """Raised when a collection rule refuses the action; `rule` names it."""


class Rejected(ContractRefused):
    """Raised when a contract refuses input values (amounts, dates, empty fields)."""


class VerificationFailed(InvalidProof):
    """Raised when an evidence receipt or package does not verify; `check` names the check
    that failed and `steps` holds every check made, in order."""

    def __init__(self, check: str, message: str, steps: list[object] | None = None) -> None:
        super().__init__(f"{check}: {message}")
        self.check = check
        self.steps = steps or []


class VaultError(DebtLedgerError):
    """Raised when the PII vault cannot decrypt: wrong or missing master key, tampered or
    moved ciphertext; never says which byte was wrong."""


class Erased(VaultError):
    """Raised when the debtor's personal data was erased (its data key destroyed)."""


class DeliveryFailed(DebtLedgerError):
    """Raised when a channel could not hand a message over; says why and the provider's
    status, never the address or number it was for."""

    def __init__(self, channel: str, reason: str, *, status: int | str | None = None) -> None:
        suffix = f" (status {status})" if status is not None else ""
        super().__init__(f"{channel} delivery failed: {reason}{suffix}")
        self.channel = channel
        self.reason = reason
        self.status = status


class TooFewParties(Conflict):
    """Raised when a privacy-preserving sum has too few contributors to hide each one's
    amount (with two, each would learn the other's from the total)."""
