"""Client-minted, time-sortable ids: the service's own format (``rec_`` + ULID), so ``track()``
returns the id at once and an evaluation can name it before the service has seen it."""

from __future__ import annotations

import random
import time

RECOMMENDATION_PREFIX = "rec_"
OUTCOME_PREFIX = "out_"
DECISION_PREFIX = "dec_"

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32, the ULID alphabet
# Two characters per 10 bits: a 130-bit ULID (2 zero bits, 48 of time, 80 random) is 13 lookups.
_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]
_last_millis = -1
_last_prefix = ""
# Bound once: ``ulid`` runs on the caller's thread for every tracked event.
_time_ns = time.time_ns
_random_bits = random.getrandbits  # the module's generator: reseeded in a forked child


def ulid(now_ns: int | None = None, *, randomness: int | None = None) -> str:
    """A ULID: 48 bits of milliseconds since the epoch, then 80 random bits (26 characters).

    The random part needs uniqueness, not secrecy: ``random`` (reseeded from the OS in each new
    process, forks included) is several times cheaper than ``os.urandom`` on the caller's path.
    Pass ``randomness`` (80 bits) for a deterministic id, e.g. one derived from a workflow's name,
    so a re-run mints the same ids and the service stores nothing twice.
    """
    global _last_millis, _last_prefix
    millis = (_time_ns() if now_ns is None else now_ns) // 1_000_000
    t = _PAIRS  # unrolled: this runs on the caller's thread
    if millis != _last_millis:  # one encoding of the time per millisecond
        _last_millis = millis
        _last_prefix = (
            t[millis >> 40]
            + t[(millis >> 30) & 1023]
            + t[(millis >> 20) & 1023]
            + t[(millis >> 10) & 1023]
            + t[millis & 1023]
        )
    bits = _random_bits(80) if randomness is None else randomness & (2**80 - 1)
    return (
        _last_prefix
        + t[bits >> 70]
        + t[(bits >> 60) & 1023]
        + t[(bits >> 50) & 1023]
        + t[(bits >> 40) & 1023]
        + t[(bits >> 30) & 1023]
        + t[(bits >> 20) & 1023]
        + t[(bits >> 10) & 1023]
        + t[bits & 1023]
    )


def new_recommendation_id() -> str:
    return RECOMMENDATION_PREFIX + ulid()


def new_outcome_id() -> str:
    return OUTCOME_PREFIX + ulid()
