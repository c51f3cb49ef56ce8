"""Shapes shared by the routers: errors and the standard refusals in OpenAPI."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = ["CONFLICT", "DENIED", "INVALID", "NOT_FOUND", "ErrorOut", "Page"]


class ErrorOut(BaseModel):
    """An error: a stable code, a readable message, and the fields at fault if any."""

    code: str = Field(description="stable, machine-readable error code")
    message: str = Field(description="what is wrong and how to fix it")
    errors: list[dict[str, Any]] = Field(
        default_factory=list, description="per field: in, field, row (1-based) and message"
    )


class Page(BaseModel):
    """How many items exist and how many were returned."""

    total: int
    returned: int


#: Responses every authenticated route may give.
DENIED: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "no valid credential"},
    403: {"model": ErrorOut, "description": "the role may not, or the data is out of scope"},
    429: {"model": ErrorOut, "description": "rate limited"},
}
INVALID: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorOut, "description": "the request is not valid"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "no such record"},
}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorOut, "description": "the record's state does not allow it"},
}
