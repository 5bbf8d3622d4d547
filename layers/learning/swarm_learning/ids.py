"""Time-sortable identifiers (ULIDs with a type prefix), so time windows are key ranges."""

from __future__ import annotations

from datetime import datetime

from ulid import ULID

RECOMMENDATION_PREFIX = "rec_"
DECISION_PREFIX = "dec_"
OUTCOME_PREFIX = "out_"
ULID_PATTERN = "[0-9A-HJKMNP-TV-Z]{26}"
DECISION_PREFIX = "dec_"
RECOMMENDATION_ID_PATTERN = rf"^{RECOMMENDATION_PREFIX}{ULID_PATTERN}$"
OUTCOME_ID_PATTERN = rf"^{OUTCOME_PREFIX}{ULID_PATTERN}$"
DECISION_ID_PATTERN = rf"^{DECISION_PREFIX}{ULID_PATTERN}$"
# Workspace, agent and workflow ids: what a DynamoDB key and a URL carry without escaping.
MAX_ID_LENGTH = 64
IDENTIFIER_PATTERN = rf"^[A-Za-z0-9][A-Za-z0-9_.:\-]{{0,{MAX_ID_LENGTH - 1}}}$"

_RANDOM_BYTES = 10


def new_recommendation_id(at: datetime) -> str:
    return RECOMMENDATION_PREFIX + str(ULID.from_datetime(at))


def new_outcome_id(at: datetime) -> str:
    return OUTCOME_PREFIX + str(ULID.from_datetime(at))


def _bound(at: datetime, fill: int) -> str:
    millis = int(at.timestamp() * 1000)
    return str(ULID.from_bytes(millis.to_bytes(6, "big") + bytes([fill]) * _RANDOM_BYTES))


def lowest_id(prefix: str, at: datetime) -> str:
    """The smallest ``prefix`` id that could have been minted at ``at``."""
    return prefix + _bound(at, 0x00)


def highest_id(prefix: str, at: datetime) -> str:
    """The largest ``prefix`` id that could have been minted at ``at``."""
    return prefix + _bound(at, 0xFF)


def lowest_recommendation_id(at: datetime) -> str:
    """The smallest recommendation id that could have been minted at ``at``."""
    return RECOMMENDATION_PREFIX + _bound(at, 0x00)


def highest_recommendation_id(at: datetime) -> str:
    """The largest recommendation id that could have been minted at ``at``."""
    return RECOMMENDATION_PREFIX + _bound(at, 0xFF)


def recommendation_time(recommendation_id: str) -> datetime:
    return ULID.from_str(recommendation_id.removeprefix(RECOMMENDATION_PREFIX)).datetime


def outcome_time(outcome_id: str) -> datetime:
    return ULID.from_str(outcome_id.removeprefix(OUTCOME_PREFIX)).datetime
