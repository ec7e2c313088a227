"""The one adapter to the chain: node management, compile and deploy, sending writes through
the durable outbox, calls, revert decoding and events."""
