"""Client-minted ids, as the Python client mints them, for tests that choose their time."""

from datetime import datetime

from ulid import ULID


def minted(prefix: str, at: datetime, seed: int = 0) -> str:
    return prefix + str(ULID.from_timestamp(at.timestamp()))[:10] + f"{seed:016d}"
