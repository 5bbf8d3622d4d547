"""Data access: one module per DynamoDB table; only this package knows table, key and index names."""
