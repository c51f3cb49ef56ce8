"""Activity files: templates, CSV and XLSX round trips, Chinese headers and encodings."""

from __future__ import annotations

import csv
import datetime as dt
import functools

import pandas as pd
import pytest

from carbontwin.accounting.validation import validate_entries
from carbontwin.connectors.files import read_activity_file, write_template
from carbontwin.connectors.files.reader import COLUMNS
from carbontwin.core import ValidationError, demo_park_path, load_park

TODAY = dt.date(2026, 1, 31)


@functools.cache
def demo_park():
    return load_park(demo_park_path())


def test_csv_template_round_trip(tmp_path):
    path = write_template(tmp_path / "activity.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM, so spreadsheets read UTF-8
    rows, problems = read_activity_file(path)
    assert (rows, problems) == ([], [])
    with path.open("a", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            [
                "A1",
                "E04-DIESEL",
                "",
                "2025-03-01",
                "2025-03-31",
                "12",
                "吨",
                "manual",
                "invoice",
                "",
                "li",
            ]
        )
        writer.writerow(
            [
                "",
                "E04-ELEC",
                "",
                "2025/03/01",
                "2025/03/31",
                "1.2",
                "MWh",
                "",
                "",
                "bill 2025-03",
                "",
            ]
        )
    rows, problems = read_activity_file(path)
    assert problems == []
    assert list(rows[0]) == list(COLUMNS)
    assert rows[0]["ref"] == "activity.csv row 2"
    assert rows[1]["ref"] == "bill 2025-03"
    assert rows[1]["origin"] == ""  # empty cells are ""
    result = validate_entries(demo_park(), rows, today=TODAY)
    assert result.summary() == {"accepted": 2, "quarantined": 0, "findings": 0}
    diesel, elec = result.entries
    assert (diesel.id, diesel.origin, diesel.quality, diesel.entered_by) == (
        "A1",
        "manual",
        "invoice",
        "li",
    )
    assert (elec.quantity, elec.unit, elec.origin) == (1200.0, "kWh", "file")


def test_xlsx_template_round_trip_keeps_typed_cells(tmp_path):
    path = write_template(tmp_path / "activity.xlsx")
    template = pd.read_excel(path, sheet_name="activity")
    assert list(template.columns) == list(COLUMNS)
    filled = pd.DataFrame(
        [
            {
                "source": "E04-DIESEL",
                "start": dt.datetime(2025, 3, 1),
                "end": dt.datetime(2025, 3, 31),
                "quantity": 12.5,
                "unit": "t",
                "quality": "measured",
            },
            {
                "source": "E04-DIESEL",
                "start": dt.datetime(2025, 4, 1),
                "end": dt.datetime(2025, 4, 30),
                "quantity": 12000,
                "unit": "kg",
                "ref": "invoice 88",
            },
        ],
        columns=list(COLUMNS),
    )
    filled.to_excel(path, sheet_name="activity", index=False, engine="openpyxl")
    rows, problems = read_activity_file(path)
    assert problems == []
    assert isinstance(rows[0]["start"], dt.datetime)
    assert isinstance(rows[0]["quantity"], float)
    assert rows[0]["stream"] == ""
    assert [r["ref"] for r in rows] == ["activity.xlsx row 2", "invoice 88"]
    result = validate_entries(demo_park(), rows, today=TODAY)
    assert result.quarantine == []
    assert [e.quantity for e in result.entries] == [12.5, 12.0]


def test_xlsx_sheet_named_activity_is_preferred(tmp_path):
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        pd.DataFrame({"note": ["cover sheet"]}).to_excel(writer, sheet_name="Cover", index=False)
        pd.DataFrame(
            [
                {
                    "Source": "E04-DIESEL",
                    "Start": "2025-03-01",
                    "End": "2025-03-31",
                    "Quantity": 12,
                    "Unit": "t",
                }
            ]
        ).to_excel(writer, sheet_name="Activity", index=False)
    rows, problems = read_activity_file(path)
    assert problems == []
    assert rows[0]["source"] == "E04-DIESEL"


def test_chinese_headers(tmp_path):
    path = tmp_path / "台账.csv"
    text = (
        "排放源,分项,开始日期,结束日期,数量,单位,来源,质量,备注\n"
        "E01-CHP-OUT,electricity,2025-01-01,2025-01-31,36136.3,兆瓦时,manual,measured,"
        "月报 1\n"
        "E04-DIESEL,,2025-01-01,2025-01-31,12,吨,,,\n"
    )
    path.write_text(text, encoding="utf-8-sig")
    rows, problems = read_activity_file(path)
    assert problems == []
    assert rows[0]["source"] == "E01-CHP-OUT"
    assert rows[0]["stream"] == "electricity"
    assert rows[0]["ref"] == "月报 1"
    assert rows[1]["ref"] == "台账.csv row 3"
    result = validate_entries(demo_park(), rows, today=TODAY)
    assert len(result.entries) == 2


def test_voucher_header_is_ref_and_headers_are_normalised(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text(
        "  SOURCE ,Start,END,quantity,Unit,凭证\nE04-DIESEL,2025-01-01,2025-01-31,12,t,V-17\n",
        encoding="utf-8",
    )
    rows, _ = read_activity_file(path)
    assert rows[0]["source"] == "E04-DIESEL"
    assert rows[0]["ref"] == "V-17"


def test_gb18030_file(tmp_path):
    path = tmp_path / "ledger.csv"
    text = (
        "排放源,开始日期,结束日期,数量,单位,备注\nE04-DIESEL,2025/01/01,2025/01/31,12,吨,柴油发票\n"
    )
    path.write_bytes(text.encode("gb18030"))
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    rows, problems = read_activity_file(path)
    assert problems == []
    assert rows[0]["unit"] == "吨"
    assert rows[0]["ref"] == "柴油发票"
    result = validate_entries(demo_park(), rows, today=TODAY)
    assert result.entries[0].quantity == 12.0


def test_blank_lines_are_skipped_and_rows_keep_their_line_numbers(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text(
        "source,start,end,quantity,unit\n\nE04-DIESEL,2025-01-01,2025-01-31,12,t\n",
        encoding="utf-8",
    )
    rows, _ = read_activity_file(path)
    assert len(rows) == 1
    assert rows[0]["ref"] == "a.csv row 3"


def test_corrupt_xlsx_is_a_file_problem(tmp_path):
    path = tmp_path / "ledger.xlsx"
    path.write_bytes(b"PK\x03\x04 truncated workbook")
    rows, problems = read_activity_file(path)
    assert rows == []
    assert len(problems) == 1
    assert problems[0].rule == "file"
    assert problems[0].reason.startswith("file 'ledger.xlsx' is not a readable XLSX workbook")
    assert "save it again as .xlsx" in problems[0].reason


@pytest.mark.parametrize(
    ("name", "content", "phrase"),
    [
        ("missing.csv", None, "does not exist"),
        ("ledger.txt", b"source\n", "has extension '.txt'"),
        ("empty.csv", b"", "is empty"),
        (
            "columns.csv",
            b"source,start\nE04-DIESEL,2025-01-01\n",
            "lacks the column(s) end, quantity, unit",
        ),
    ],
)
def test_unreadable_files(tmp_path, name, content, phrase):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    rows, problems = read_activity_file(path)
    assert rows == []
    assert [p.rule for p in problems] == ["file"]
    assert phrase in problems[0].reason
    assert problems[0].ref == name


def test_template_needs_a_known_extension(tmp_path):
    with pytest.raises(ValidationError, match=r"must end in \.csv or \.xlsx"):
        write_template(tmp_path / "activity.ods")
