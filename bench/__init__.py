"""Benchmarks: one command each (``python -m bench.<name>``), results recorded in docs/benchmarks.md."""
