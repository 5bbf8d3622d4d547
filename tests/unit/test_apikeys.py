"""API keys: the token format, the salted hash and the life cycle against the key store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from localdev import runtime
from swarm_learning.dal.api_keys import get_key_store
from swarm_learning.errors import ConflictError, InvalidRequestError, NotFoundError
from swarm_learning.services.keys.service import (
    ApiKeyService,
    InvalidApiKeyError,
    KeyRequest,
    bearer_token,
    hash_secret,
    new_token,
    parse_token,
    secret_matches,
)

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def test_a_new_token_parses_back_to_its_key_id() -> None:
    key_id, token = new_token()
    assert token.startswith(f"swl_{key_id}_")
    parsed = parse_token(token)
    assert parsed is not None
    assert parsed[0] == key_id
    assert len(parsed[1]) == 43  # 32 random bytes, url-safe base64


def test_tokens_are_unique() -> None:
    assert len({new_token()[1] for _ in range(1000)}) == 1000


@given(st.text(max_size=120))
@settings(max_examples=300, derandomize=True)
def test_anything_that_is_not_a_token_does_not_parse(text: str) -> None:
    if not text.startswith("swl_"):
        assert parse_token(text) is None


@given(
    st.binary(min_size=16, max_size=16), st.binary(min_size=16, max_size=16), st.text(min_size=1, max_size=60)
)
@settings(max_examples=200, derandomize=True)
def test_the_hash_depends_on_the_salt_and_only_the_right_secret_matches(
    salt: bytes, other: bytes, secret: str
) -> None:
    digest = hash_secret(secret, salt)
    assert secret_matches(secret, salt, digest)
    assert not secret_matches(secret + "x", salt, digest)
    if other != salt:
        assert hash_secret(secret, other) != digest


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer   abc  ", "abc"),
        ("Basic abc", None),
        ("Bearer", None),
        ("", None),
        (None, None),
    ],
)
def test_bearer_token(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token


@pytest.fixture
def keys(functions: runtime.LocalFunctions) -> ApiKeyService:
    return ApiKeyService(get_key_store())


def test_only_a_salted_hash_is_stored(keys: ApiKeyService) -> None:
    issued = keys.issue(KeyRequest(name="ci", workspaces=["ws_a", "ws_b", "ws_a"]), now=NOW)
    stored = get_key_store().get_key(issued.key_id)
    assert stored is not None
    secret = issued.api_key.split("_", 2)[2]
    assert secret not in str(stored)
    assert stored["secret_hash"] != hash_secret(secret, b"")  # salted
    assert stored["workspaces"] == ["ws_a", "ws_b"]
    listed = keys.listed()
    assert [k.key_id for k in listed] == [issued.key_id]
    assert "secret_hash" not in listed[0].model_dump()


def test_authenticate_valid_invalid_revoked_expired(keys: ApiKeyService) -> None:
    issued = keys.issue(KeyRequest(name="ci", workspaces=["ws_a"], expires_in_days=30), now=NOW)
    caller = keys.authenticate(issued.api_key, now=NOW)
    assert (caller.key_id, caller.workspaces) == (issued.key_id, ("ws_a",))
    for token, reason in [
        (None, "missing"),
        ("", "missing"),
        ("swl_x", "malformed"),
        (f"swl_{'a' * 16}_{'A' * 43}", "unknown"),
        (f"swl_{issued.key_id}_{'A' * 43}", "wrong secret"),
    ]:
        with pytest.raises(InvalidApiKeyError, match=reason):
            keys.authenticate(token, now=NOW)
    with pytest.raises(InvalidApiKeyError, match="expired"):
        keys.authenticate(issued.api_key, now=NOW + timedelta(days=31))
    revoked = keys.revoke(issued.key_id, now=NOW)
    assert revoked.status == "revoked"
    assert keys.revoke(issued.key_id, now=NOW + timedelta(days=1)).revoked_at == NOW  # idempotent
    with pytest.raises(InvalidApiKeyError, match="revoked"):
        keys.authenticate(issued.api_key, now=NOW)


def test_rotation_is_one_transaction_and_happens_once(keys: ApiKeyService) -> None:
    issued = keys.issue(KeyRequest(name="ci", workspaces=["ws_a"]), now=NOW)
    successor = keys.rotate(issued.key_id, grace=timedelta(hours=2), now=NOW)
    old = keys.get(issued.key_id)
    assert old.expires_at == NOW + timedelta(hours=2)
    assert old.rotated_to == successor.key_id
    with pytest.raises(ConflictError):
        keys.rotate(issued.key_id, now=NOW)  # already rotated: one successor only
    assert len(keys.listed()) == 2
    keys.revoke(successor.key_id, now=NOW)
    with pytest.raises(InvalidRequestError):
        keys.rotate(successor.key_id, now=NOW)


def test_unknown_keys_are_404(keys: ApiKeyService) -> None:
    with pytest.raises(NotFoundError):
        keys.revoke("a" * 16)
    with pytest.raises(NotFoundError):
        keys.rotate("a" * 16)


def test_a_key_request_is_validated() -> None:
    with pytest.raises(ValidationError):
        KeyRequest(name="x", workspaces=[])
    with pytest.raises(ValidationError):
        KeyRequest(name="x", workspaces=["a,b"])  # commas would break the authorizer's context
    with pytest.raises(ValidationError):
        KeyRequest(name="", workspaces=["ws"])
