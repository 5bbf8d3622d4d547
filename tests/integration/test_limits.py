"""Abuse limits through the real interface: each answers its documented status and stores nothing."""

from __future__ import annotations

import json

from tests.helpers.api import Api, recommendation
from tests.helpers.store import store_snapshot

TRACK = "/api/v1/learning/recommendations/track"


def _refused(api: Api, raw_body: str, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    before = store_snapshot()
    status, body = api.call("POST", TRACK, raw_body=raw_body, headers=headers)
    assert store_snapshot() == before
    return status, body


def test_a_body_over_512_kib_is_413(api: Api) -> None:
    oversized = json.dumps(recommendation(reasoning="x" * (600 * 1024)))
    status, body = _refused(api, oversized)
    assert (status, body["error"]) == (413, "payload_too_large")


def test_a_body_nested_too_deeply_is_400_even_when_it_would_crash_a_parser(api: Api) -> None:
    status, body = _refused(api, "[" * 100_000 + "]" * 100_000)
    assert (status, body["error"]) == (400, "too_deeply_nested")
    deep: object = 1
    for _ in range(40):
        deep = {"d": deep}
    status, body = _refused(api, json.dumps(recommendation(evidence=deep)))
    assert (status, body["error"]) == (400, "too_deeply_nested")


def test_free_form_objects_nest_at_most_8_levels_and_the_field_is_named(api: Api) -> None:
    deep: object = 1
    for _ in range(9):
        deep = {"d": deep}
    status, body = _refused(api, json.dumps(recommendation(evidence=deep)))
    assert status == 422
    assert body["details"][0]["field"] == "evidence"


def test_a_body_that_is_not_json_is_415(api: Api) -> None:
    for content_type in ("text/plain", "multipart/form-data", "application/x-www-form-urlencoded"):
        status, body = _refused(api, json.dumps(recommendation()), {"Content-Type": content_type})
        assert (status, body["error"]) == (415, "unsupported_media_type"), content_type


def test_numbers_sent_as_strings_are_refused(api: Api) -> None:
    status, body = _refused(api, json.dumps(recommendation(confidence_score="0.5")))
    assert status == 422
    assert body["details"][0]["field"] == "confidence_score"
