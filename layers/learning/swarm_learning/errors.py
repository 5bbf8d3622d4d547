"""Domain errors. The HTTP glue maps each one to a status code in one place."""

from __future__ import annotations


class LearningError(Exception):
    """Base class: every error the domain raises on purpose."""

    status_code = 500
    code = "internal_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidRequestError(LearningError):
    """The request is well-formed JSON but cannot be served (for example a bad page token)."""

    status_code = 400
    code = "invalid_request"


class InvalidFieldError(LearningError):
    """A field is well-formed but not acceptable now (for example a client-minted id whose
    timestamp is too far from the server's clock)."""

    status_code = 422
    code = "validation_error"


class NotFoundError(LearningError):
    """The named item does not exist in this workspace (or has expired)."""

    status_code = 404
    code = "not_found"


class ConflictError(LearningError):
    """The request conflicts with the item's current state."""

    status_code = 409
    code = "conflict"


class AlreadyEvaluatedError(ConflictError):
    """A recommendation can be evaluated once; a second evaluation changes nothing."""

    code = "already_evaluated"

    def __init__(self, message: str, *, field: str | None = None, stored: dict | None = None) -> None:
        super().__init__(message, field=field)
        self.stored = stored  # the evaluated recommendation as stored, when known


class IdReusedError(ConflictError):
    """A client-minted id was already used with a different body."""

    code = "id_reused"


class IdempotencyKeyReusedError(LearningError):
    """An ``Idempotency-Key`` was already used with a different body."""

    status_code = 422
    code = "idempotency_key_reused"


class RequestInProgressError(ConflictError):
    """A request with the same ``Idempotency-Key`` is still being served."""

    code = "request_in_progress"
