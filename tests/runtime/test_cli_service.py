"""The service commands: users, verify and serve (a real uvicorn on a free port)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx2
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from carbontwin.cli import app
from carbontwin.store import Store

runner = CliRunner()
PASSWORD = "Carbon-Peak-2030"


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("CARBONTWIN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CARBONTWIN_SECRET_KEY", raising=False)
    return tmp_path


@pytest.fixture
def url(home):
    return f"sqlite:///{home / 'ct.db'}"


def test_users_add_list_disable_and_key(url):
    added = runner.invoke(
        app, ["users", "add", "li.na", "--role", "park_manager", "--store", url], input=PASSWORD
    )
    assert added.exit_code == 0, added.output
    assert "li.na" in added.stdout
    weak = runner.invoke(
        app, ["users", "add", "wang", "--role", "park_manager", "--store", url], input="short"
    )
    assert weak.exit_code == 2 and "too weak" in weak.output
    unit = runner.invoke(
        app,
        ["users", "add", "e04", "--role", "emission_unit", "--store", url],
        input=PASSWORD,
    )
    assert unit.exit_code == 2 and "--enterprise" in unit.output
    service = runner.invoke(
        app, ["users", "add", "bms", "--role", "integration", "--service", "--store", url]
    )
    assert service.exit_code == 0, service.output
    assert "ctk_" in service.stdout
    listed = runner.invoke(app, ["users", "list", "--store", url])
    assert listed.exit_code == 0
    assert "li.na" in listed.stdout and "bms" in listed.stdout and "active" in listed.stdout
    assert runner.invoke(app, ["users", "disable", "li.na", "--store", url]).exit_code == 0
    assert "disabled" in runner.invoke(app, ["users", "list", "--store", url]).stdout
    key = runner.invoke(app, ["users", "key", "bms", "--label", "second", "--store", url])
    assert key.exit_code == 0 and "ctk_" in key.stdout
    assert runner.invoke(app, ["users", "key", "li.na", "--store", url]).exit_code == 2
    assert runner.invoke(app, ["users", "disable", "nobody", "--store", url]).exit_code == 2
    with Store.open(url) as store:
        actions = {r["action"] for r in store.audit_log(limit=50)}
    assert {"users.add", "users.update", "api_keys.add"} <= actions


def test_verify_passes_then_names_the_tampered_batch(url):
    with Store.open(url) as store:
        store.insert_readings([("M1", 0, 1.0, 0), ("M1", 900_000, 2.0, 0)])
        store.insert_readings([("M2", 0, 5.0, 0)])
    ok = runner.invoke(app, ["verify", "--store", url])
    assert ok.exit_code == 0, ok.output
    assert "intact" in ok.stdout
    with Store.open(url) as store, store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE readings SET value = 9.0 WHERE point_id = 'M2'"))
        second = conn.execute(
            sa.text("SELECT batch_id FROM readings WHERE point_id = 'M2'")
        ).scalar()
    bad = runner.invoke(app, ["verify", "--store", url])
    assert bad.exit_code == 1
    assert f"batch {second}" in bad.output and "readings" in bad.output
    as_json = runner.invoke(app, ["verify", "--store", url, "--json"])
    assert as_json.exit_code == 1 and '"ok": false' in as_json.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_answers_over_http(url, home):
    added = runner.invoke(
        app, ["users", "add", "li.na", "--role", "park_manager", "--store", url], input=PASSWORD
    )
    assert added.exit_code == 0, added.output
    port = _free_port()
    cli = [sys.executable, "-m", "carbontwin.cli", "serve", "--store", url, "--port", str(port)]
    proc = subprocess.Popen(
        cli, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx2.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            assert proc.poll() is None, proc.stdout.read().decode()
            assert time.monotonic() < deadline, "the server did not start in 30 s"
            time.sleep(0.2)
        token = httpx2.post(
            f"{base}/auth/token", data={"username": "li.na", "password": PASSWORD}
        ).json()["access_token"]
        me = httpx2.get(f"{base}/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200 and me.json()["role"] == "park_manager"
        assert me.headers["content-digest"].startswith("sha-256=:")
        assert httpx2.get(f"{base}/auth/me").status_code == 401
        docs = httpx2.get(f"http://127.0.0.1:{port}/docs")
        assert docs.status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_serve_refuses_an_in_memory_database(home):
    res = runner.invoke(app, ["serve", "--store", "sqlite://"])
    assert res.exit_code == 2 and "in-memory" in res.output
