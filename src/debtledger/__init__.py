"""DebtLedger: compliant, transparent debt collection on a shared permissioned EVM ledger."""

__version__ = "0.1.0"
