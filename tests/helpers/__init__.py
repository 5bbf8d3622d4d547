"""What tests share besides fixtures: clients for the API, payload builders, store snapshots and
seeding. Fixtures stay in ``tests/conftest.py``; import helpers from their modules here."""
