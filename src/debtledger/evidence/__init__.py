"""Evidence: tamper-evident batches of collection records, provable one record at a time.

A batch's Merkle root is anchored on chain; an inclusion proof shows a court that a record
was in that batch without handing over the others.
"""
