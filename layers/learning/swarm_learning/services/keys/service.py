"""API keys: their format, their salted hash, and their life cycle (issue, revoke, rotate,
authenticate).

A key reads ``swl_<key_id>_<secret>``. The key id is public (it names the key in listings, logs and
the admin command); the secret is 256 random bits from ``secrets`` and is shown once, when the key
is issued. Only ``sha256(salt || secret)`` is stored, with a random per-key salt. A slow password
hash (scrypt, argon2) protects low-entropy secrets from guessing; a 256-bit random secret cannot be
guessed, so a fast hash is enough, and it keeps the authorizer's cold path to one ``GetItem`` plus
microseconds. Comparison is constant-time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from swarm_learning.clock import utcnow
from swarm_learning.errors import InvalidRequestError, NotFoundError
from swarm_learning.ids import IDENTIFIER_PATTERN

KEY_PREFIX = "swl"
_KEY_ID_CHARS = 16  # base32 (lowercase): 80 random bits, unique without coordination
_SECRET_BYTES = 32
TOKEN_PATTERN = re.compile(rf"^{KEY_PREFIX}_([a-z2-7]{{{_KEY_ID_CHARS}}})_([A-Za-z0-9_-]{{43}})$")
KEY_ID_PATTERN = rf"^[a-z2-7]{{{_KEY_ID_CHARS}}}$"
MAX_WORKSPACES_PER_KEY = 50
DEFAULT_ROTATION_GRACE = timedelta(hours=24)
# Revoked and expired keys stay listed for audit, then DynamoDB TTL removes them.
PURGE_AFTER = timedelta(days=90)


class KeyStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"


class ApiKey(BaseModel):
    """A key as listed: never its secret, nor its hash."""

    model_config = ConfigDict(extra="ignore")

    key_id: str
    name: str
    workspaces: list[str]
    status: KeyStatus
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    rotated_to: str | None = None
    usage_key: str = Field(description="The API Gateway usage-plan key this caller is metered on.")

    def usable_at(self, now: datetime) -> bool:
        return self.status is KeyStatus.ACTIVE and (self.expires_at is None or now < self.expires_at)


class IssuedApiKey(ApiKey):
    """A newly issued key, with the secret token: the only time it is ever shown."""

    api_key: str


class Caller(BaseModel):
    """Who an authenticated request comes from, as the authorizer hands it to the handlers."""

    model_config = ConfigDict(frozen=True)

    key_id: str
    name: str
    workspaces: tuple[str, ...]
    usage_key: str


class KeyRequest(BaseModel):
    """What an administrator asks for when issuing a key."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128)
    workspaces: list[Annotated[str, StringConstraints(pattern=IDENTIFIER_PATTERN)]] = Field(
        min_length=1, max_length=MAX_WORKSPACES_PER_KEY
    )
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


# The authorizer's context, as API Gateway hands it to the functions (strings only).
CONTEXT_KEY_ID = "key_id"
CONTEXT_WORKSPACES = "workspaces"


def caller_context(caller: Caller) -> dict[str, str]:
    """Workspace ids cannot contain commas (``IDENTIFIER_PATTERN``), so a comma joins them."""
    return {CONTEXT_KEY_ID: caller.key_id, CONTEXT_WORKSPACES: ",".join(sorted(caller.workspaces))}


class InvalidApiKeyError(Exception):
    """The token is missing, malformed, unknown, wrong, revoked or expired. The reason is for the
    log; the caller only ever learns "unauthorized"."""


def new_token() -> tuple[str, str]:
    """(key_id, token) for a new key."""
    key_id = base64.b32encode(secrets.token_bytes(10)).decode().lower()
    secret = secrets.token_urlsafe(_SECRET_BYTES)
    return key_id, f"{KEY_PREFIX}_{key_id}_{secret}"


def parse_token(token: str) -> tuple[str, str] | None:
    """(key_id, secret) of a well-formed token, else None."""
    match = TOKEN_PATTERN.fullmatch(token)
    return (match.group(1), match.group(2)) if match else None


def hash_secret(secret: str, salt: bytes) -> str:
    return hashlib.sha256(salt + secret.encode()).hexdigest()


def secret_matches(secret: str, salt: bytes, expected_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret, salt), expected_hash)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _purge_at(at: datetime) -> int:
    return int((at + PURGE_AFTER).timestamp())


class ApiKeyService:
    """Issue, list, revoke, rotate and authenticate keys against the key store."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def issue(self, request: KeyRequest, *, now: datetime | None = None) -> IssuedApiKey:
        now = now or utcnow()
        expires_at = now + timedelta(days=request.expires_in_days) if request.expires_in_days else None
        record, token = self._new_record(request.name, request.workspaces, now=now, expires_at=expires_at)
        self._store.put_new_key(record)
        return IssuedApiKey(**self._public(record), api_key=token)

    def get(self, key_id: str) -> ApiKey:
        record = self._store.get_key(key_id)
        if record is None:
            raise NotFoundError(f"no API key {key_id}", field="key_id")
        return ApiKey(**self._public(record))

    def listed(self) -> list[ApiKey]:
        keys = [ApiKey(**self._public(r)) for r in self._store.list_keys()]
        return sorted(keys, key=lambda k: k.created_at)

    def revoke(self, key_id: str, *, now: datetime | None = None) -> ApiKey:
        """Revoke at once (within the authorizer's cache time). Revoking twice changes nothing."""
        now = now or utcnow()
        record = self._store.revoke_key(key_id, revoked_at=now.isoformat(), purge_at=_purge_at(now))
        if record is None:
            raise NotFoundError(f"no API key {key_id}", field="key_id")
        return ApiKey(**self._public(record))

    def rotate(
        self, key_id: str, *, grace: timedelta = DEFAULT_ROTATION_GRACE, now: datetime | None = None
    ) -> IssuedApiKey:
        """Issue a successor with the same name and workspaces; the old key keeps working for
        ``grace`` (so callers can switch without downtime), then expires. One transaction."""
        now = now or utcnow()
        old = self.get(key_id)
        if not old.usable_at(now):
            raise InvalidRequestError(f"API key {key_id} is {old.status} or expired", field="key_id")
        old_expiry = now + grace
        if old.expires_at is not None:
            old_expiry = min(old_expiry, old.expires_at)
        record, token = self._new_record(old.name, old.workspaces, now=now, expires_at=old.expires_at)
        self._store.rotate_key(
            key_id,
            record,
            old_expires_at=old_expiry.isoformat(),
            old_purge_at=_purge_at(old_expiry),
        )
        return IssuedApiKey(**self._public(record), api_key=token)

    def authenticate(self, token: str | None, *, now: datetime | None = None) -> Caller:
        if not token:
            raise InvalidApiKeyError("missing")
        parsed = parse_token(token)
        if parsed is None:
            raise InvalidApiKeyError("malformed")
        key_id, secret = parsed
        record = self._store.get_key(key_id)
        if record is None:
            raise InvalidApiKeyError(f"unknown key {key_id}")
        if not secret_matches(secret, base64.b64decode(record["salt"]), record["secret_hash"]):
            raise InvalidApiKeyError(f"wrong secret for key {key_id}")
        key = ApiKey(**self._public(record))
        if not key.usable_at(now or utcnow()):
            raise InvalidApiKeyError(f"key {key_id} is {key.status} or expired")
        return Caller(
            key_id=key.key_id, name=key.name, workspaces=tuple(key.workspaces), usage_key=key.usage_key
        )

    @staticmethod
    def _new_record(
        name: str, workspaces: list[str], *, now: datetime, expires_at: datetime | None
    ) -> tuple[dict[str, Any], str]:
        key_id, token = new_token()
        _, secret = parse_token(token) or ("", "")
        salt = secrets.token_bytes(16)
        record: dict[str, Any] = {
            "key_id": key_id,
            "name": name,
            "workspaces": sorted(set(workspaces)),
            "status": KeyStatus.ACTIVE.value,
            "created_at": now.isoformat(),
            "expires_at": expires_at.isoformat() if expires_at else None,
            "purge_at": _purge_at(expires_at) if expires_at else None,
            "salt": base64.b64encode(salt).decode(),
            "secret_hash": hash_secret(secret, salt),
            # API Gateway meters usage plans on this value (ApiKeySourceType AUTHORIZER). It is an
            # identifier, not a credential: it opens nothing without the secret.
            "usage_key": secrets.token_urlsafe(30),
        }
        return record, token

    @staticmethod
    def _public(record: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in record.items() if k not in ("salt", "secret_hash", "purge_at")}


@cache
def get_key_service() -> ApiKeyService:
    from swarm_learning.dal.api_keys import get_key_store

    return ApiKeyService(get_key_store())
