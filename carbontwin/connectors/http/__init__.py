"""API sync (CECS 5.9.6): scheduled pull from a REST source, push of collector batches."""

from carbontwin.connectors.http.puller import RestPuller
from carbontwin.connectors.http.pusher import BATCHES_PATH, BatchPusher

__all__ = ["BATCHES_PATH", "BatchPusher", "RestPuller"]
