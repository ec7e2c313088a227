"""Coordination across creditors, and the supervision of collection."""
