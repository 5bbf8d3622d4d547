"""The errors the client raises."""

from __future__ import annotations

from typing import Any


class SwarmLearningError(Exception):
    """Base class for every error this client raises."""


class ApiError(SwarmLearningError):
    """The service answered with an error: its status, code, message and the field at fault."""

    def __init__(self, status: int, body: Any) -> None:
        body = body if isinstance(body, dict) else {}
        self.status = status
        self.error: str = str(body.get("error", "http_error"))
        self.message: str = str(body.get("message", f"HTTP {status}"))
        details = body.get("details") or []
        self.field: str | None = details[0].get("field") if details and isinstance(details[0], dict) else None
        self.request_id: str | None = body.get("request_id")
        self.body = body
        where = f" ({self.field})" if self.field else ""
        super().__init__(f"{status} {self.error}: {self.message}{where}")


class TransportError(SwarmLearningError):
    """The service could not be reached (after the retries)."""


class CycleTimeoutError(SwarmLearningError):
    """A learning cycle did not finish within the time ``wait_for_cycle`` was given."""
