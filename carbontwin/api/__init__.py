"""The HTTP API: collectors and integrations push readings and entries to the platform.

Only this package imports FastAPI; every route calls a use case of
:mod:`carbontwin.runtime` and translates its result and errors to JSON.
"""

from carbontwin.api.main import create_app

__all__ = ["create_app"]
