"""Operator commands for a deployed stack or the local server (``python -m admin``)."""
