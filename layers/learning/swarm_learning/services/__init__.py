"""Use cases: what the handlers call (tracking, trust, routing, learning, ingestion, retention, keys)."""
