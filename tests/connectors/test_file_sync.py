"""File sync: a watched folder, each file processed once and moved aside with its result."""

from __future__ import annotations

import datetime as dt
import json
import shutil

from typer.testing import CliRunner

from carbontwin.cli import app
from carbontwin.connectors.files import FolderSync
from carbontwin.runtime.accounting import demo_activity_paths, resolve_park
from carbontwin.runtime.registry import file_sync
from carbontwin.store import Store

HEADER = "source,stream,start,end,quantity,unit,ref\n"


def test_each_file_once_partial_files_wait_duplicates_skipped(tmp_path):
    calls = []

    def handler(path):
        calls.append(path.name)
        return "processed", {"accepted": 1, "quarantined": 0}, []

    inbox = tmp_path / "inbox"
    sync = FolderSync(inbox, handler)
    (inbox / "a.csv").write_text(HEADER + "x,,2025-01-01,2025-01-31,1,t,r1\n", encoding="utf-8")
    (inbox / "b.csv.part").write_text("still copying", encoding="utf-8")
    assert sync.scan() == []  # first sight: size not yet known to be stable
    results = sync.scan()
    assert [r.name for r in results] == ["a.csv"] and calls == ["a.csv"]
    assert sync.scan() == []  # never again
    moved = list((inbox / "processed").glob("a.*.csv"))
    assert len(moved) == 1
    doc = json.loads(moved[0].with_name(moved[0].name + ".result.json").read_text())
    assert doc["status"] == "processed" and len(doc["sha256"]) == 64
    # The same content under another name is a duplicate, not processed again.
    (inbox / "a-copy.csv").write_text(
        HEADER + "x,,2025-01-01,2025-01-31,1,t,r1\n", encoding="utf-8"
    )
    sync.scan()
    dup = sync.scan()
    assert dup[0].status == "duplicate" and calls == ["a.csv"]
    assert (inbox / "b.csv.part").exists()  # ignored while it is being written
    (inbox / "notes.txt").write_text("hello", encoding="utf-8")
    sync.scan()
    rejected = sync.scan()
    assert rejected[0].status == "rejected" and "not a .csv" in rejected[0].reasons[0]["reason"]


def test_file_with_a_broken_row_in_the_middle_lands_the_good_rows(tmp_path):
    park = resolve_park("demo")
    store = Store.open(f"sqlite:///{tmp_path / 's.db'}")
    sync = file_sync(store, park, tmp_path / "inbox")
    rows = (
        "E04-DIESEL,,2025-01-01,2025-01-31,12,t,jan\n"
        "E04-DIESEL,,2025-02-01,2025-02-28,twelve,t,feb broken\n"
        "E04-DIESEL,,2025-03-01,2025-03-31,11,t,mar\n"
    )
    (tmp_path / "inbox" / "ledger.csv").write_text(HEADER + rows, encoding="utf-8")
    sync.scan()
    (result,) = sync.scan()
    assert result.status == "processed"
    assert result.summary["accepted"] == 2 and result.summary["quarantined"] == 1
    assert result.reasons[0]["rule"] == "bad_value" and "twelve" in result.reasons[0]["reason"]
    assert len(store.entries(park.id, dt.date(2025, 1, 1), dt.date(2025, 12, 31))) == 2
    assert any(q["rule"] == "bad_value" for q in store.quarantined(park.id))
    # An unreadable file is rejected with a file-rule reason and nothing lands.
    (tmp_path / "inbox" / "broken.xlsx").write_bytes(b"not a workbook")
    sync.scan()
    (bad,) = sync.scan()
    assert bad.status == "rejected" and bad.reasons[0]["rule"] == "file"
    assert list((tmp_path / "inbox" / "rejected").glob("broken.*.xlsx"))
    store.close()


def test_cli_watch_once(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(demo_activity_paths()[1], inbox / "manual.csv")
    res = CliRunner().invoke(
        app, ["watch", str(inbox), "--once", "--store", f"sqlite:///{tmp_path / 'w.db'}"]
    )
    assert res.exit_code == 0, res.output
    assert "manual.csv: processed" in res.stdout and "2 quarantined" in res.stdout
