"""Tracking: recording recommendations and outcomes (one at a time, idempotently, in batches) and reading them back."""
