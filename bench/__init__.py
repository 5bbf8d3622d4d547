"""Benchmarks: one command each (``python bench/<name>.py``), results recorded in docs/benchmarks.md."""
