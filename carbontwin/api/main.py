"""The FastAPI application: :func:`create_app` wires a store, a park and credentials.

Every error is JSON ``{"code", "message"}`` with a stable code; a body that does not
validate also lists the fields at fault (``field``, ``row`` for list bodies, ``message``).
The OpenAPI documentation is served at ``/docs``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from carbontwin.api.dependencies import ApiContext, ApiError
from carbontwin.api.routers import ingest
from carbontwin.core.errors import ConsistencyError, ValidationError
from carbontwin.core.park import Park
from carbontwin.runtime.ingest import Ingestor
from carbontwin.store import Store, StoreError

__all__ = ["create_app"]


def _error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, **extra}, status_code=status)


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for e in exc.errors():
        loc = [p for p in e.get("loc", ()) if p != "body"]
        item: dict[str, Any] = {}
        if loc and isinstance(loc[0], int):
            item["row"] = loc[0] + 1
            loc = loc[1:]
        # Union members (float | str) add the type tried to the path; the field is first.
        names = [str(p) for p in loc if isinstance(p, str | int)]
        item["field"] = ".".join(names[:1] if "row" in item else names) or "body"
        item["message"] = str(e.get("msg", "is not valid"))
        out.append(item)
    return out


def create_app(
    store: Store,
    park: Park,
    keys: Mapping[str, bytes],
    *,
    api_keys: Mapping[str, str] | None = None,
    ingestor: Ingestor | None = None,
) -> FastAPI:
    """Return the platform's HTTP API for ``park``.

    Parameters
    ----------
    store : Store
        Where pushed readings and entries, quarantined rows and the audit go.
    park : Park
        The park served.
    keys : mapping of str to bytes
        The registered collectors' keys (collector id → secret).
    api_keys : mapping of str to str, optional
        API keys of devices and integrations (key → account name); none by default,
        which refuses every entry push.
    ingestor : Ingestor, optional
        The live pipeline readings run through; one for ``store`` and ``park`` by default.

    Returns
    -------
    FastAPI
        The application; serve it with any ASGI server.
    """
    app = FastAPI(
        title="carbontwin",
        summary="Push readings and activity entries to the carbon management platform.",
        docs_url="/docs",
    )
    app.state.context = ApiContext(
        store=store,
        park=park,
        collector_keys=dict(keys),
        api_keys=dict(api_keys or {}),
        ingestor=ingestor or Ingestor(store, park, actor="api"),
    )
    app.include_router(ingest.router)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _field_errors(exc)
        listed = "; ".join(
            (f"row {e['row']}: " if "row" in e else "") + f"{e['field']}: {e['message']}"
            for e in errors
        )
        message = f"the request body is not valid — {listed}"
        return _error(422, "invalid_request", message, errors=errors)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed"}
        return _error(exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail))

    @app.exception_handler(ValidationError)
    @app.exception_handler(ConsistencyError)
    async def _rejected(request: Request, exc: ValueError) -> JSONResponse:
        return _error(422, "rejected", str(exc))

    @app.exception_handler(StoreError)
    async def _store(request: Request, exc: StoreError) -> JSONResponse:
        return _error(503, "store_unavailable", str(exc))

    return app
