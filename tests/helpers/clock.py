"""The instant tests run at."""

from datetime import UTC, datetime

# Every test module starts at this instant, on a clock that steps 1 ms per reading (ids keep their
# order) and never goes back within the module (a module may share one store between its tests):
# what a test asserts about days, windows and expiry holds whatever the calendar says.
FIXED_NOW = datetime(2026, 11, 24, 5, 0, tzinfo=UTC)
