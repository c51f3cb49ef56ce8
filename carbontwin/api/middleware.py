"""ASGI middleware of the API: the access log, rate limits and the response digest.

* :class:`AccessLogMiddleware` records every request under ``/api/`` (except the health
  check): who (the principal the route resolved, else ``anonymous``), what (method, route
  and query), when, from where (the peer address), the outcome (``ok``, ``denied``,
  ``invalid``, ``error``) and the status and latency; see
  :class:`carbontwin.runtime.access_log.AccessLog`.
* :class:`RateLimitMiddleware` limits requests per client (the credential when one is sent,
  else the address) with a sliding window, and sign-in attempts per address more tightly;
  over the limit the answer is 429 ``rate_limited`` with ``Retry-After``.
* :class:`DigestJSONResponse` answers JSON with a ``Content-Digest`` header (RFC 9530,
  ``sha-256=:<base64>:``) so a client can check the body it received.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import time
from typing import Any

from limits import RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import SlidingWindowCounterRateLimiter
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from carbontwin.runtime.access_log import AccessLog

__all__ = [
    "AccessLogMiddleware",
    "DigestJSONResponse",
    "RateLimitMiddleware",
    "content_digest",
    "kept_response",
    "render_json",
]

_UNLOGGED = frozenset({"/api/v1/health"})


def content_digest(body: bytes) -> str:
    """Return the ``Content-Digest`` value of ``body``: ``sha-256=:<base64 SHA-256>:``."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"


def render_json(content: Any) -> bytes:
    """Return ``content`` as compact UTF-8 JSON (NaN refused), as every answer is sent."""
    return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode(
        "utf-8"
    )


def kept_response(content: Any) -> tuple[bytes, str]:
    """Render ``content`` once for an answer kept for later: its body and its digest."""
    body = render_json(content)
    return body, content_digest(body)


class DigestJSONResponse(JSONResponse):
    """JSON (UTF-8, NaN refused) with a ``Content-Digest`` header of its body."""

    _digest = ""

    def render(self, content: Any) -> bytes:
        """Serialise ``content``; keep its digest for the headers (built after)."""
        body = render_json(content)
        self._digest = content_digest(body)
        return body

    def init_headers(self, headers: Any = None) -> None:
        """Build the standard headers and add ``Content-Digest`` (not to answers without body)."""
        super().init_headers(headers)
        if self._digest and self.status_code >= 200 and self.status_code not in (204, 304):
            self.raw_headers.append((b"content-digest", self._digest.encode()))


def _outcome(status: int) -> str:
    if status < 400:
        return "ok"
    if status in (401, 403, 429):
        return "denied"
    if status < 500:
        return "invalid"
    return "error"


class AccessLogMiddleware:
    """Write one access-log record per API request (see the module notes)."""

    def __init__(self, app: ASGIApp, log: AccessLog) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on and record it once the response has started."""
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/api/") or path in _UNLOGGED:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            who = scope.get("state", {}).get("principal")
            route = scope.get("route")
            method = scope.get("method", "")
            client = scope.get("client")
            self.log.put(
                {
                    "actor": who.name if who is not None else "anonymous",
                    "action": "api.read" if method in ("GET", "HEAD") else "api.write",
                    "object": getattr(route, "path", path),
                    "detail": {
                        "method": method,
                        "path": path,
                        "query": scope.get("query_string", b"").decode("latin-1")[:500],
                        "status": status,
                        "ms": round((time.perf_counter() - started) * 1000, 2),
                        "role": who.role if who is not None else None,
                    },
                    "outcome": _outcome(status),
                    "client": client[0] if client else "",
                }
            )


class RateLimitMiddleware:
    """Limit requests per client with a sliding window (see the module notes).

    Parameters
    ----------
    app : ASGI app
        The application.
    per_second : int
        Requests per second allowed to one client.
    sign_in_per_minute : int
        Sign-in attempts per minute allowed from one address.
    """

    def __init__(
        self, app: ASGIApp, *, per_second: int = 200, sign_in_per_minute: int = 30
    ) -> None:
        self.app = app
        self.limiter = SlidingWindowCounterRateLimiter(MemoryStorage())
        self.general = RateLimitItemPerSecond(per_second)
        self.sign_in = RateLimitItemPerMinute(sign_in_per_minute)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer 429 when the client is over its limit, else pass the request on."""
        if scope["type"] != "http" or not scope.get("path", "").startswith("/api/"):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = client[0] if client else "unknown"
        credential = ""
        for name, value in scope.get("headers", ()):
            if name in (b"authorization", b"x-api-key"):
                credential = hashlib.blake2b(value, digest_size=8).hexdigest()
                break
        if scope["path"] == "/api/v1/auth/token":
            item, key, what = self.sign_in, ("sign-in", address), "sign-in attempts"
        else:
            item, key, what = self.general, ("client", credential or address), "requests"
        if not self.limiter.hit(item, *key):
            reset, _ = self.limiter.get_window_stats(item, *key)
            retry = max(1, math.ceil(reset - time.time()))
            body = json.dumps(
                {
                    "code": "rate_limited",
                    "message": (
                        f"too many {what} from this client (limit {item.amount} per "
                        f"{item.GRANULARITY.name}); retry in {retry} s"
                    ),
                }
            ).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 429,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"retry-after", str(retry).encode()),
                        (b"content-length", str(len(body)).encode()),
                        (b"content-digest", content_digest(body).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)
