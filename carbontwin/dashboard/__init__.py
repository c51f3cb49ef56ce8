"""The web dashboard (Panel), signed in with the platform's accounts.

The pages park managers, energy managers and emission units use every day.
"""

from carbontwin.dashboard.app import PAGES, Dashboard, Session, dashboard, serve

__all__ = ["PAGES", "Dashboard", "Session", "dashboard", "serve"]
