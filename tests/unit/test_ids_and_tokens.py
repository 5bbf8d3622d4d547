"""Identifiers sort by time; page tokens are opaque and bound to their partition."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from swarm_learning.dal.items import PageToken
from swarm_learning.dal.keys import shard_of
from swarm_learning.errors import InvalidRequestError
from swarm_learning.ids import (
    highest_recommendation_id,
    lowest_recommendation_id,
    new_recommendation_id,
    recommendation_time,
)

instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
)


@given(instants, st.integers(min_value=1, max_value=10**9))
def test_ids_minted_later_sort_later(at: datetime, later_ms: int) -> None:
    assert new_recommendation_id(at) < new_recommendation_id(at + timedelta(milliseconds=later_ms))


@given(instants)
def test_an_id_lies_within_the_bounds_of_its_instant(at: datetime) -> None:
    rid = new_recommendation_id(at)
    assert lowest_recommendation_id(at) <= rid <= highest_recommendation_id(at)
    assert abs(recommendation_time(rid) - at) < timedelta(milliseconds=1)


@given(st.text(min_size=1, max_size=80), st.integers(min_value=1, max_value=64))
def test_shards_are_stable_and_in_range(key: str, shards: int) -> None:
    assert 0 <= shard_of(key, shards) < shards
    assert shard_of(key, shards) == shard_of(key, shards)


def test_page_token_round_trips_and_is_bound_to_its_partition() -> None:
    key = {"agent_pk": {"S": "WS#a#AGENT#b"}, "pk": {"S": "x"}, "sk": {"S": "y"}}
    token = PageToken.encode(key)
    assert token is not None
    assert PageToken.decode(token, index_key="agent_pk", partition="WS#a#AGENT#b") == key
    with pytest.raises(InvalidRequestError):
        PageToken.decode(token, index_key="agent_pk", partition="WS#other#AGENT#b")
    assert PageToken.encode(None) is None
    assert PageToken.decode(None, index_key="agent_pk", partition="p") is None
