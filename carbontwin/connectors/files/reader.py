r"""Activity files: CSV and XLSX ledgers read into rows for validation.

A file becomes a list of row dicts with normalised column names (English or the Chinese
headers of park ledgers) and a ``ref`` naming the file and row, ready for
:func:`carbontwin.accounting.validation.validate_entries`. A file that cannot be read
gives no rows and one quarantine record with rule ``file`` and the reason.

Examples
--------
>>> import pathlib, tempfile
>>> with tempfile.TemporaryDirectory() as tmp:
...     path = write_template(pathlib.Path(tmp) / "activity.csv")
...     with path.open("a", encoding="utf-8") as f:
...         _ = f.write(",E04-DIESEL,,2025-03-01,2025-03-31,12,t,,,,\n")
...     rows, problems = read_activity_file(path)
>>> rows[0]["source"], rows[0]["quantity"], rows[0]["ref"], problems
('E04-DIESEL', '12', 'activity.csv row 2', [])
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd
from openpyxl.utils.exceptions import InvalidFileException

from carbontwin.core.errors import ValidationError
from carbontwin.core.records import QuarantineRecord

__all__ = ["COLUMNS", "read_activity_file", "write_template"]

#: Columns of an activity file, in template order.
COLUMNS: tuple[str, ...] = (
    "id",
    "source",
    "stream",
    "start",
    "end",
    "quantity",
    "unit",
    "origin",
    "quality",
    "ref",
    "entered_by",
)
_REQUIRED: tuple[str, ...] = ("source", "start", "end", "quantity", "unit")
#: Chinese ledger headers and their column names.
_HEADERS_ZH: dict[str, str] = {
    "排放源": "source",
    "分项": "stream",
    "开始日期": "start",
    "结束日期": "end",
    "数量": "quantity",
    "单位": "unit",
    "来源": "origin",
    "质量": "quality",
    "备注": "ref",
    "凭证": "ref",
    "编号": "id",
    "录入人": "entered_by",
}
_SHEET = "activity"
_EXTENSIONS = (".csv", ".xlsx")


def _problem(path: Path, reason: str) -> tuple[list[dict[str, object]], list[QuarantineRecord]]:
    record = QuarantineRecord(
        rule="file", reason=f"file {path.name!r} {reason}", origin="file", ref=path.name
    )
    return [], [record]


def _header(name: object) -> str:
    text = "" if name is None or (isinstance(name, float) and name != name) else str(name)
    text = text.replace("\ufeff", "").strip()
    return _HEADERS_ZH.get(text, text.lower())


def _cell(value: object) -> object:
    """Return a cell with empty values as ``""``; strings are stripped, typed values kept."""
    if value is None or value is pd.NaT:
        return ""
    if isinstance(value, float) and value != value:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


def _decode(data: bytes) -> str | None:
    """Decode CSV bytes: UTF-8 (with or without BOM), else GB18030 (Chinese Excel)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _read_table(path: Path) -> pd.DataFrame | str:
    """Return the file's cells (no header handling), or the reason it cannot be read."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        try:
            data = path.read_bytes()
        except OSError as exc:
            return f"cannot be read ({exc.strerror}); check the file's permissions"
        text = _decode(data)
        if text is None:
            return "is neither UTF-8 nor GB18030 text; save it from the spreadsheet as 'CSV UTF-8'"
        try:
            return pd.read_csv(
                io.StringIO(text),
                header=None,
                dtype=str,
                keep_default_na=False,
                skip_blank_lines=False,
            )
        except pd.errors.EmptyDataError:
            return "is empty; it needs a header row and one row per activity entry"
        except pd.errors.ParserError as exc:
            return f"is not valid CSV ({exc}); check quotes and separators"
    try:
        with pd.ExcelFile(path, engine="openpyxl") as book:
            names = [str(n) for n in book.sheet_names]
            sheet = next((n for n in names if n.strip().lower() == _SHEET), names[0])
            return pd.read_excel(book, sheet_name=sheet, header=None, dtype=object)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, EOFError) as exc:
        return (
            f"is not a readable XLSX workbook ({type(exc).__name__}: {exc}); open it in a "
            "spreadsheet and save it again as .xlsx"
        )
    except OSError as exc:
        return f"cannot be read ({exc.strerror}); check the file's permissions"
    except IndexError:
        return "has no sheets"


def read_activity_file(
    path: str | Path,
) -> tuple[list[dict[str, object]], list[QuarantineRecord]]:
    """Read an activity file (.csv or .xlsx) into row dicts for validation.

    Parameters
    ----------
    path : str or pathlib.Path
        A CSV file (UTF-8 with or without BOM, or GB18030 as Chinese Excel saves it) or an
        XLSX workbook (the sheet named ``activity``, else the first sheet). The first
        non-empty row is the header: ``source, stream, start, end, quantity, unit`` and
        optionally ``id, origin, quality, ref, entered_by``, in any case, or the Chinese
        headers 排放源, 分项, 开始日期, 结束日期, 数量, 单位, 来源, 质量, 备注/凭证.

    Returns
    -------
    rows : list of dict
        One dict per non-empty row, keyed by column name; empty cells are ``""``. CSV cells
        are strings; XLSX cells keep their type (datetime, int, float). An empty ``ref``
        becomes ``"<file name> row <n>"``, ``n`` being the row number a spreadsheet shows
        (row 1 is the header when the sheet starts with it).
    problems : list of QuarantineRecord
        Empty, or one record with rule ``file`` when the file is missing, has another
        extension, is corrupt or lacks a required column (then ``rows`` is empty).
    """
    path = Path(path)
    if path.suffix.lower() not in _EXTENSIONS:
        return _problem(
            path,
            f"has extension {path.suffix or '(none)'!r}; activity files "
            "are .csv or .xlsx — save the sheet as one of these",
        )
    if not path.is_file():
        return _problem(path, "does not exist; check the path and the file name")
    table = _read_table(path)
    if isinstance(table, str):
        return _problem(path, table)

    cells = [[_cell(v) for v in row] for row in table.itertuples(index=False, name=None)]
    filled = [n for n, row in enumerate(cells) if any(v != "" for v in row)]
    if not filled:
        return _problem(path, "is empty; it needs a header row and one row per activity entry")
    top = filled[0]
    names = [_header(h) for h in cells[top]]
    missing = [c for c in _REQUIRED if c not in names]
    if missing:
        found = ", ".join(repr(n) for n in names if n) or "none"
        return _problem(
            path,
            f"lacks the column(s) {', '.join(missing)} (found {found}); "
            "start from the template, whose first row names the columns",
        )

    rows: list[dict[str, object]] = []
    for n in filled[1:]:
        row: dict[str, object] = {}
        for name, value in zip(names, cells[n], strict=False):
            if not name:
                continue
            if name not in row or row[name] == "":
                row[name] = value
        ordered = {name: row.pop(name, "") for name in COLUMNS}
        ordered.update(row)
        if ordered["ref"] == "":
            ordered["ref"] = f"{path.name} row {n + 1}"
        rows.append(ordered)
    return rows, []


def write_template(path: str | Path) -> Path:
    """Write an empty activity file with the header row, as CSV or XLSX.

    Parameters
    ----------
    path : str or pathlib.Path
        Where to write; the extension (``.csv`` or ``.xlsx``) chooses the format. A CSV is
        written as UTF-8 with a BOM so spreadsheets open Chinese text correctly; an XLSX
        has one sheet named ``activity``.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ValidationError
        If the extension is neither ``.csv`` nor ``.xlsx``.
    """
    path = Path(path)
    frame = pd.DataFrame(columns=list(COLUMNS))
    suffix = path.suffix.lower()
    if suffix == ".csv":
        frame.to_csv(path, index=False, encoding="utf-8-sig")
    elif suffix == ".xlsx":
        frame.to_excel(path, sheet_name=_SHEET, index=False, engine="openpyxl")
    else:
        msg = f"template path {str(path)!r} must end in .csv or .xlsx"
        raise ValidationError(msg)
    return path
