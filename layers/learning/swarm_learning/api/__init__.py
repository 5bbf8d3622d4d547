"""Glue shared by the Lambda handlers: observability, the HTTP resolver and error mapping.

Kept apart from the domain modules so the domain imports nothing Lambda-specific.
"""
