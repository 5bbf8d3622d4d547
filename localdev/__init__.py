"""Local run tooling: the real handlers behind an HTTP server, on an embedded DynamoDB.

Everything here is read from ``template.yaml`` (tables, functions, routes, environment), so the
local service and the deployed one never drift.
"""
