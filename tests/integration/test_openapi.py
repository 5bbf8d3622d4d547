"""The committed OpenAPI document is the one the handlers generate."""

from __future__ import annotations

import json
import re

from localdev import template as tpl
from localdev.openapi import ALERT_EVENTS_FILE, OPENAPI_FILE, alert_events_schema, openapi_document


def test_committed_openapi_matches_the_code() -> None:
    assert OPENAPI_FILE.read_text() == openapi_document(), "run `make openapi` and commit docs/openapi.json"


def test_committed_alert_event_schema_matches_the_code() -> None:
    assert ALERT_EVENTS_FILE.read_text() == alert_events_schema(), "run `make openapi` and commit it"


def test_openapi_paths_are_the_template_routes() -> None:
    document = json.loads(OPENAPI_FILE.read_text())
    documented = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}
    routed = {
        (route.method, route.path) for spec in tpl.functions(tpl.load_template()) for route in spec.routes
    }
    assert documented == routed


def test_the_api_guide_names_every_operation_of_the_contract_and_no_other() -> None:
    document = json.loads(OPENAPI_FILE.read_text())
    prefix = "/api/v1/learning"
    contract = {
        (method.upper(), path.removeprefix(prefix))
        for path, ops in document["paths"].items()
        for method in ops
    }
    guide = (OPENAPI_FILE.parent / "api.md").read_text()
    # Each operation is introduced as `METHOD /path` (a query string may follow the path).
    named = set(re.findall(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`?\s]*)", guide))
    assert named == contract
