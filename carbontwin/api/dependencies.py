"""What the routes share: the application context, JSON errors, the API-key check."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from carbontwin.core.park import Park
from carbontwin.runtime import push
from carbontwin.runtime.ingest import Ingestor
from carbontwin.store import Store

__all__ = ["API_KEY_HEADER", "ApiContext", "ApiError", "account", "context"]

API_KEY_HEADER = "X-Api-Key"


class ApiError(Exception):
    """An error answered as JSON ``{"code", "message"}`` with an HTTP status."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class ApiContext:
    """The store, park, credentials and live pipeline one application serves.

    ``lock`` serialises writes: the routes run in a thread pool and the ingestor keeps
    state between calls.
    """

    store: Store
    park: Park
    collector_keys: Mapping[str, bytes]
    api_keys: Mapping[str, str]
    ingestor: Ingestor
    lock: threading.Lock = field(default_factory=threading.Lock)


def context(request: Request) -> ApiContext:
    """Return the application's context."""
    return request.app.state.context


_key_header = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,
    description="The device's or integration's API key.",
)


def account(
    request: Request,
    ctx: Annotated[ApiContext, Depends(context)],
    key: Annotated[str | None, Depends(_key_header)],
) -> str:
    """Return the account whose API key the request carries; 401 when there is none."""
    client = request.client.host if request.client else ""
    try:
        with ctx.lock:
            return push.authenticate(ctx.store, ctx.park, ctx.api_keys, key, client=client)
    except push.PushRefused as exc:
        raise ApiError(401, exc.code, str(exc)) from None
