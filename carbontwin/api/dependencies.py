"""What the routes share: the application context, JSON errors, who is asking and may they.

Every route that touches data depends on :func:`require` with one permission of
:data:`carbontwin.runtime.access.PERMISSIONS`; the principal it returns carries the
enterprise scope the route must apply (through the helpers of
:mod:`carbontwin.runtime.access`). Credentials are a bearer access token (people, from
``POST /api/v1/auth/token``) or an ``X-Api-Key`` header (service accounts).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer

from carbontwin.core.park import Park
from carbontwin.runtime.access import Principal
from carbontwin.runtime.auth import Authenticator, AuthError
from carbontwin.runtime.ingest import Ingestor
from carbontwin.store import Store

__all__ = [
    "API_KEY_HEADER",
    "ApiContext",
    "ApiError",
    "Caller",
    "client_address",
    "context",
    "principal",
    "require",
]

API_KEY_HEADER = "X-Api-Key"
TOKEN_URL = "/api/v1/auth/token"


class ApiError(Exception):
    """An error answered as JSON ``{"code", "message"}`` with an HTTP status."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


@dataclass
class ApiContext:
    """The store, park, accounts and live pipeline one application serves.

    ``lock`` serialises the live pipeline: the routes run in a thread pool and the
    ingestor keeps state between calls. ``park`` is the park's current definition; the
    registry routes replace it when they save a change. ``cache`` holds pre-computed
    answers keyed by what they depend on (see :mod:`carbontwin.runtime.overview`).
    """

    store: Store
    park: Park
    auth: Authenticator
    collector_keys: Mapping[str, bytes]
    ingestor: Ingestor
    lock: threading.Lock = field(default_factory=threading.Lock)
    cache: dict[Any, Any] = field(default_factory=dict)


def context(request: Request) -> ApiContext:
    """Return the application's context."""
    return request.app.state.context


def client_address(request: Request) -> str:
    """Return where a request came from (the peer's address)."""
    return request.client.host if request.client else ""


_bearer = OAuth2PasswordBearer(
    tokenUrl=TOKEN_URL,
    auto_error=False,
    description="An access token from POST /api/v1/auth/token (people).",
)
_key_header = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,
    description="A service account's API key (BMS integrations, collectors, ERP pushes).",
)


async def principal(
    request: Request,
    ctx: Annotated[ApiContext, Depends(context)],
    token: Annotated[str | None, Depends(_bearer)],
    key: Annotated[str | None, Depends(_key_header)],
) -> Principal:
    """Return who the request speaks for; 401 without a valid credential.

    The principal is also kept on the request for the audit middleware.
    """
    if token:
        who = ctx.auth.principal_from_token(token)
    elif key:
        who = ctx.auth.principal_from_api_key(key)
    else:
        raise AuthError(
            code="not_authenticated",
            message=(
                "no credential was sent; send 'Authorization: Bearer <access token>' "
                f"(from POST {TOKEN_URL}) or an '{API_KEY_HEADER}' header"
            ),
        )
    request.state.principal = who
    who.require_park(ctx.park.id)
    return who


Caller = Annotated[Principal, Depends(principal)]


def require(permission: str) -> Callable[..., Any]:
    """Return a dependency that admits only principals whose role holds ``permission``.

    Routes declare it as ``who: Annotated[Principal, Depends(require("entries.read"))]``;
    the permission is also listed in the route's OpenAPI description.
    """

    async def dependency(who: Caller) -> Principal:
        who.require(permission)
        return who

    dependency.permission = permission  # type: ignore[attr-defined]
    return dependency
