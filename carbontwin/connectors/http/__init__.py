"""API sync (CECS 5.9.6): scheduled pull of readings from a REST source."""

from carbontwin.connectors.http.puller import RestPuller

__all__ = ["RestPuller"]
