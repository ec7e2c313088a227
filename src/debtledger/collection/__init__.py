"""Collection: how the ledger reaches a debtor, and under which rules (templates, delivery
channels, the masked contact gateway)."""
