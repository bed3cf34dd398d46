"""Typed refusals that map straight onto the API: an HTTP status and a stable ``error_id``.

Every capability raises these; the route table turns them into JSON bodies.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    status = 409

    def __init__(self, error_id: str, message: str, status: int | None = None, **details: Any) -> None:
        super().__init__(message)
        self.error_id = error_id
        self.message = message
        self.details = details
        if status is not None:
            self.status = status

    def to_json(self) -> dict[str, Any]:
        return {"error_id": self.error_id, "message": self.message, **self.details}


def invalid(field: str, message: str) -> ApiError:
    return ApiError("invalid-field", f"{field}: {message}", 422, field=field)


def forbidden(message: str) -> ApiError:
    return ApiError("forbidden", message, 403)


def not_found(what: str, key: object) -> ApiError:
    return ApiError("not-found", f"no {what} {key}", 404, what=what)
