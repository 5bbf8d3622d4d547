"""The learning API's paths and calls."""

from __future__ import annotations

from typing import Any

from tests.helpers.api import Api

PREFIX = "/api/v1/learning"
WS = "ws_learn"


def trigger(api: Api, workspace: str = WS, **body: Any) -> tuple[int, Any]:
    return api.call("POST", f"{PREFIX}/learning-cycles/trigger", body={"workspace_id": workspace, **body})


def get(api: Api, path: str, **query: Any) -> tuple[int, Any]:
    return api.call("GET", f"{PREFIX}{path}", query={"workspace_id": WS, **query})
