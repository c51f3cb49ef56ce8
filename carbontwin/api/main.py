"""The FastAPI application: :func:`create_app` wires a store, a park and accounts.

Every error is JSON ``{"code", "message"}`` with a stable code; a body or query that does
not validate also lists the fields at fault (``field``, ``row`` for list bodies,
``message``). Every JSON answer carries a ``Content-Digest`` header. The OpenAPI
documentation is served at ``/docs``; ``docs/api.md`` describes the areas and
``docs/security.md`` who may call what.

:func:`app_from_env` builds the application ``carbontwin serve`` runs, from
``CARBONTWIN_STORE_URL``, ``CARBONTWIN_PARK`` and ``CARBONTWIN_COLLECTOR_KEYS``.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator, Mapping
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from carbontwin.api.dependencies import ApiContext, ApiError
from carbontwin.api.middleware import (
    AccessLogMiddleware,
    DigestJSONResponse,
    RateLimitMiddleware,
)
from carbontwin.api.routers import (
    accounting,
    control,
    data,
    factors,
    forecasting,
    ingest,
    operations,
    registry,
    scenarios,
    strategies,
    system,
    users,
)
from carbontwin.api.routers import auth as sign_in
from carbontwin.core.errors import ConsistencyError, SolverError, ValidationError
from carbontwin.core.park import Park
from carbontwin.runtime.access import AccessDenied
from carbontwin.runtime.access_log import AccessLog
from carbontwin.runtime.auth import Authenticator, AuthError, AuthSettings, load_secret
from carbontwin.runtime.ingest import Ingestor
from carbontwin.store import NotFoundError, Store, StoreError
from carbontwin.twin.state import TwinState

__all__ = ["app_from_env", "create_app"]

_log = logging.getLogger(__name__)

#: HTTP status of each sign-in and credential refusal.
_AUTH_STATUS = {"disabled": 403, "locked": 403, "weak_password": 422}


def _error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return DigestJSONResponse(
        {"code": code, "message": message, **extra}, status_code=status, headers=headers
    )


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for e in exc.errors():
        loc = list(e.get("loc", ()))
        where = loc[0] if loc and loc[0] in ("body", "query", "path", "header") else "body"
        loc = [p for p in loc if p not in ("body", "query", "path", "header")]
        item: dict[str, Any] = {"in": where}
        if loc and isinstance(loc[0], int):
            item["row"] = loc[0] + 1
            loc = loc[1:]
        # Union members (float | str) add the type tried to the path; the field is first.
        names = [str(p) for p in loc if isinstance(p, str | int)]
        item["field"] = ".".join(names[:1] if "row" in item else names) or where
        item["message"] = str(e.get("msg", "is not valid"))
        out.append(item)
    return out


def _permission(dependant: Any) -> str | None:
    for dep in dependant.dependencies:
        found = getattr(dep.call, "permission", None) or _permission(dep)
        if found:
            return found
    return None


def _document_permissions(router: APIRouter) -> None:
    """Write each route's permission into its OpenAPI description (once)."""
    for route in router.routes:
        if isinstance(route, APIRoute):
            perm = _permission(route.dependant)
            if perm and "Permission: `" not in (route.description or ""):
                route.description = (route.description or "") + f"\n\nPermission: `{perm}`."


def create_app(
    store: Store,
    park: Park,
    keys: Mapping[str, bytes] | None = None,
    *,
    auth: Authenticator | AuthSettings | None = None,
    ingestor: Ingestor | None = None,
    rate_per_second: int = 200,
    sign_in_per_minute: int = 30,
    access_log_flush_s: float = 0.25,
) -> FastAPI:
    """Return the platform's HTTP API for ``park``.

    Parameters
    ----------
    store : Store
        Where everything is kept: registry, readings, entries, inventories, accounts,
        setpoints, quarantine and the audit log.
    park : Park
        The park served (its current definition; registered in the store if new).
    keys : mapping of str to bytes, optional
        The registered collectors' keys (collector id → secret).
    auth : Authenticator or AuthSettings, optional
        Accounts and tokens; by default settings with the key of :func:`load_secret`.
    ingestor : Ingestor, optional
        The live pipeline readings run through; one for ``store`` and ``park`` by default.
    rate_per_second, sign_in_per_minute : int
        Rate limits per client and of sign-in attempts per address.
    access_log_flush_s : float
        Longest time an access-log record waits to be written.

    Returns
    -------
    FastAPI
        The application; serve it with any ASGI server.
    """
    if auth is None:
        auth = AuthSettings(secret=load_secret())
    authenticator = auth if isinstance(auth, Authenticator) else Authenticator(store, auth)
    access_log = AccessLog(store, flush_s=access_log_flush_s)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        access_log.close()

    app = FastAPI(
        title="carbontwin",
        summary="The carbon management platform of an industrial park: registry, data, "
        "accounting, overview, twin and control.",
        version="1",
        docs_url="/docs",
        default_response_class=DigestJSONResponse,
        lifespan=lifespan,
    )
    app.state.context = ApiContext(
        store=store,
        park=park,
        auth=authenticator,
        collector_keys=dict(keys or {}),
        ingestor=ingestor or Ingestor(store, park, TwinState.for_park(park), actor="api"),
    )
    app.state.access_log = access_log
    for module in (
        system,
        sign_in,
        users,
        registry,
        data,
        ingest,
        accounting,
        factors,
        operations,
        control,
        forecasting,
        strategies,
        scenarios,
    ):
        _document_permissions(module.router)
        app.include_router(module.router)
    app.add_middleware(AccessLogMiddleware, log=access_log)
    app.add_middleware(
        RateLimitMiddleware, per_second=rate_per_second, sign_in_per_minute=sign_in_per_minute
    )

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.code, exc.message, **exc.extra)

    @app.exception_handler(AuthError)
    async def _auth(request: Request, exc: AuthError) -> JSONResponse:
        return _error(_AUTH_STATUS.get(exc.code, 401), exc.code, str(exc))

    @app.exception_handler(AccessDenied)
    async def _denied(request: Request, exc: AccessDenied) -> JSONResponse:
        return _error(403, exc.code, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _field_errors(exc)
        listed = "; ".join(
            (f"row {e['row']}: " if "row" in e else "") + f"{e['field']}: {e['message']}"
            for e in errors
        )
        message = f"the request is not valid — {listed}"
        return _error(422, "invalid_request", message, errors=errors)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed"}
        message = str(exc.detail)
        where = f"{request.method} {request.url.path}"
        if exc.status_code == 400:  # a body that cannot be read at all: an invalid request
            message = f"the request body cannot be read ({message}); send UTF-8 JSON or a form"
            errors = [{"in": "body", "field": "body", "message": message}]
            return _error(422, "invalid_request", message, errors=errors)
        if exc.status_code == 404 and message == "Not Found":  # the router's: no such route
            message = f"there is no route {where}; the routes are listed at /docs"
        elif exc.status_code == 405 and message == "Method Not Allowed":
            message = f"{where} is not allowed; the methods of each route are listed at /docs"
        return _error(exc.status_code, codes.get(exc.status_code, "http_error"), message)

    @app.exception_handler(NotFoundError)
    async def _not_found(request: Request, exc: NotFoundError) -> JSONResponse:
        return _error(404, "not_found", str(exc))

    @app.exception_handler(ValidationError)
    async def _rejected(request: Request, exc: ValidationError) -> JSONResponse:
        return _error(422, "rejected", str(exc))

    @app.exception_handler(ConsistencyError)
    async def _conflict(request: Request, exc: ConsistencyError) -> JSONResponse:
        return _error(409, "conflict", str(exc))

    @app.exception_handler(SolverError)
    async def _unsolvable(request: Request, exc: SolverError) -> JSONResponse:
        return _error(422, "infeasible", str(exc))

    @app.exception_handler(StoreError)
    async def _store(request: Request, exc: StoreError) -> JSONResponse:
        return _error(503, "store_unavailable", str(exc))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        _log.exception("unexpected error serving %s %s", request.method, request.url.path)
        return _error(500, "internal_error", "the server failed to answer; the error is in its log")

    return app


def app_from_env() -> FastAPI:
    """Build the application from the environment (what ``carbontwin serve`` runs).

    ``CARBONTWIN_STORE_URL`` (default: the SQLite file in the carbontwin home),
    ``CARBONTWIN_PARK`` (a park YAML or ``demo``; default ``demo``),
    ``CARBONTWIN_COLLECTOR_KEYS`` (a JSON file of collector keys, optional).
    """
    from carbontwin.runtime.offline import collector_keys
    from carbontwin.runtime.registry import serving_park

    store = Store.open(os.environ.get("CARBONTWIN_STORE_URL") or None)
    park = serving_park(store, os.environ.get("CARBONTWIN_PARK") or "demo")
    keys_file = os.environ.get("CARBONTWIN_COLLECTOR_KEYS")
    keys = collector_keys(keys_file) if keys_file else {}
    return create_app(store, park, keys)
