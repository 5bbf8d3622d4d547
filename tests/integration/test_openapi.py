"""The committed OpenAPI document is the one the handlers generate."""

from __future__ import annotations

import json

from localdev import template as tpl
from localdev.openapi import OPENAPI_FILE, openapi_document


def test_committed_openapi_matches_the_code() -> None:
    assert OPENAPI_FILE.read_text() == openapi_document(), "run `make openapi` and commit docs/openapi.json"


def test_openapi_paths_are_the_template_routes() -> None:
    document = json.loads(OPENAPI_FILE.read_text())
    documented = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}
    routed = {
        (route.method, route.path) for spec in tpl.functions(tpl.load_template()) for route in spec.routes
    }
    assert documented == routed
