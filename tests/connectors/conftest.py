"""A real Mosquitto for the MQTT tests: own port, configuration and persistence."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from carbontwin.connectors.mqtt import LocalBroker, find_mosquitto

#: Per-device credentials: the gateway of zone 2, a second gateway and the platform.
USERS = {"gw-z2": "gw-z2-secret", "gw-sim": "gw-sim-secret", "ingest": "ingest-secret"}


@pytest.fixture
def broker():
    if find_mosquitto() is None:
        reason = (
            "mosquitto is not installed (apt-get install mosquitto); the MQTT integration "
            "tests need a real broker"
        )
        if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
            pytest.fail(f"{reason} — CI must provide it")
        pytest.skip(reason)
    # Not under pytest's tmp_path: as root the broker runs as the mosquitto user, who
    # cannot enter pytest's private temporary directories.
    directory = Path(tempfile.mkdtemp(prefix="carbontwin-mqtt-"))
    directory.chmod(0o755)
    b = LocalBroker(directory / "broker", USERS)
    b.start()
    try:
        yield b
    finally:
        b.stop()
        shutil.rmtree(directory, ignore_errors=True)
