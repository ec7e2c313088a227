"""Privacy building blocks: selectively disclosable claim records, debtor pseudonyms, the
encrypted PII vault with its access trail, and Paillier sums of exposure across creditors.

Each module is usable on its own; services wire them to the store, the chain and the API.
docs/PRIVACY.md has the threat model.
"""

from __future__ import annotations

from debtledger.privacy.aggregation import (
    Aggregate,
    Aggregator,
    CoordinationKeyHolder,
    PublicKey,
    Share,
    encrypt_exposure,
    exposure_shares,
    share,
)
from debtledger.privacy.keys import MasterKeys, linkage_key, master_keys
from debtledger.privacy.pseudonym import LinkageService, normalise_national_id
from debtledger.privacy.records import (
    NON_PERSONAL_FIELDS,
    PERSONAL_FIELDS,
    Disclosure,
    Opening,
    SealedRecord,
    add_openings,
    recover_signer,
    seal_record,
    sign_record,
    verify_disclosure,
    verify_signer,
)
from debtledger.privacy.trail import Accessor, AccessRecord, AccessTrail
from debtledger.privacy.vault import ErasureRecord, Vault

__all__ = [
    "NON_PERSONAL_FIELDS",
    "PERSONAL_FIELDS",
    "AccessRecord",
    "AccessTrail",
    "Accessor",
    "Aggregate",
    "Aggregator",
    "CoordinationKeyHolder",
    "Disclosure",
    "ErasureRecord",
    "LinkageService",
    "MasterKeys",
    "Opening",
    "PublicKey",
    "SealedRecord",
    "Share",
    "Vault",
    "add_openings",
    "encrypt_exposure",
    "exposure_shares",
    "linkage_key",
    "master_keys",
    "normalise_national_id",
    "recover_signer",
    "seal_record",
    "share",
    "sign_record",
    "verify_disclosure",
    "verify_signer",
]
