"""Use cases: what a user does, wiring store, connectors and the compute packages."""
