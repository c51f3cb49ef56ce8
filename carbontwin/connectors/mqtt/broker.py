"""A local Mosquitto broker for the demo, the tests and the benchmarks.

:class:`LocalBroker` writes a configuration (one loopback listener, per-device
passwords, an ACL that lets each gateway publish only on its own data topic, and a
persistence directory the broker can write) and runs ``mosquitto -c <conf>`` as a child
process. Production brokers are configured by their operators; this is the same layout
at the smallest size.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from carbontwin.connectors.mqtt.client import BrokerSettings
from carbontwin.connectors.mqtt.errors import ConnectorError

__all__ = ["LocalBroker", "find_mosquitto", "free_port"]

#: Where Debian installs the broker (``/usr/sbin`` is not always on a user's PATH).
_CANDIDATES = ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto")


def find_mosquitto() -> str | None:
    """Return the path of the ``mosquitto`` binary, or None when it is not installed."""
    found = shutil.which("mosquitto")
    if found:
        return found
    return next((c for c in _CANDIDATES if os.access(c, os.X_OK)), None)


def free_port() -> int:
    """Return a TCP port on the loopback interface that is free now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalBroker:
    """Run Mosquitto on a free loopback port with its own configuration and persistence.

    Parameters
    ----------
    directory : path
        Holds the configuration, password file, ACL, persistence and log.
    users : dict of str to str
        ``{username: password}``; a username starting with ``gw-`` is a gateway and may
        publish only on ``carbontwin/+/<username>/data``; the others may read
        ``carbontwin/#``.
    port : int, optional
        A free port by default.
    """

    def __init__(
        self, directory: str | Path, users: dict[str, str], port: int | None = None
    ) -> None:
        binary = find_mosquitto()
        if binary is None:
            msg = "mosquitto is not installed; install the Debian package mosquitto"
            raise ConnectorError(msg)
        self.binary = binary
        self.directory = Path(directory)
        self.users = dict(users)
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.conf = self.directory / "mosquitto.conf"
        self._write()

    def settings(self, username: str) -> BrokerSettings:
        """Return the settings a client logs in with as ``username``."""
        return BrokerSettings("127.0.0.1", self.port, username, self.users.get(username, ""))

    def _write(self) -> None:
        d = self.directory
        (d / "data").mkdir(parents=True, exist_ok=True)
        passwd = d / "passwd"
        passwd.write_text("", encoding="utf-8")
        for user, password in self.users.items():
            subprocess.run(
                [self._passwd_tool(), "-b", str(passwd), user, password],
                check=True,
                capture_output=True,
            )
        acl = ["pattern write carbontwin/+/%u/data"]
        acl += [f"user {u}\ntopic read carbontwin/#" for u in self.users if not u.startswith("gw-")]
        (d / "acl").write_text("\n".join(acl) + "\n", encoding="utf-8")
        self.conf.write_text(
            "\n".join(
                [
                    f"listener {self.port} 127.0.0.1",
                    "allow_anonymous false",
                    f"password_file {passwd}",
                    f"acl_file {d / 'acl'}",
                    "persistence true",
                    f"persistence_location {d / 'data'}/",
                    "autosave_interval 1",
                    "max_queued_messages 0",
                    "max_inflight_messages 0",
                    f"log_dest file {d / 'mosquitto.log'}",
                    "log_type error",
                    "log_type warning",
                    "log_type notice",
                    "",
                ]
            ),
            encoding="utf-8",
        )
        if os.geteuid() == 0:  # as root the broker drops to the mosquitto user
            try:
                import pwd

                entry = pwd.getpwnam("mosquitto")
            except (ImportError, KeyError):
                return
            for path in [d, *d.rglob("*")]:
                os.chown(path, entry.pw_uid, entry.pw_gid)

    def _passwd_tool(self) -> str:
        tool = shutil.which("mosquitto_passwd") or str(
            Path(self.binary).parent.parent / "bin" / "mosquitto_passwd"
        )
        if not os.access(tool, os.X_OK):
            msg = "mosquitto_passwd is not installed; install the Debian package mosquitto"
            raise ConnectorError(msg)
        return tool

    def start(self, timeout_s: float = 10.0) -> None:
        """Start the broker and wait until it accepts connections."""
        self.process = subprocess.Popen(
            [self.binary, "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = (
                    self.process.stderr.read().decode(errors="replace")
                    if self.process.stderr
                    else ""
                )
                msg = f"mosquitto exited at start ({err.strip() or self.log()[-500:]})"
                raise ConnectorError(msg)
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        msg = f"mosquitto did not listen on port {self.port} within {timeout_s} s"
        raise ConnectorError(msg)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the broker gracefully (it saves its persistence file on the way out)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def restart(self) -> None:
        """Stop and start again on the same port, with the same persistence."""
        self.stop()
        self.start()

    def log(self) -> str:
        """Return the broker's log so far."""
        path = self.directory / "mosquitto.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def __enter__(self) -> LocalBroker:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
