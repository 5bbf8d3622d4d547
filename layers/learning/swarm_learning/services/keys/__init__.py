"""API keys: issuing, verifying, rotating and revoking the keys callers present."""
