"""File sync (CECS 5.9.6): activity files dropped in a watched folder, processed once.

A file is picked up when its size has not changed between two scans (so a file still being
copied is left alone; names ending in ``.part`` or ``.tmp`` and hidden files are ignored).
Each file is handed to a handler exactly once, then moved to ``processed/`` (or to
``rejected/`` when it could not be read at all) with a ``<name>.result.json`` beside it that
says what became of every row. A file whose content was processed before (same SHA-256) is
moved aside as a duplicate without being handed over again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["FileResult", "FolderSync"]

_SUFFIXES = (".csv", ".xlsx")
_IGNORED = (".part", ".tmp", ".crdownload")


@dataclass
class FileResult:
    """What became of one file: ``status`` is processed, rejected or duplicate."""

    name: str
    sha256: str
    status: str
    summary: dict[str, int] = field(default_factory=dict)
    reasons: list[dict[str, str]] = field(default_factory=list)
    when: str = ""

    def to_json(self) -> str:
        """Return the result document written beside the moved file."""
        return json.dumps(self.__dict__, ensure_ascii=False, indent=2)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class FolderSync:
    """Watch ``folder`` and hand each complete new file to ``handler`` once.

    Parameters
    ----------
    folder : path
        The inbox; ``processed/`` and ``rejected/`` are created inside it.
    handler : callable
        ``handler(path) -> (status, summary, reasons)`` where status is ``processed`` or
        ``rejected``; it must land the good rows and quarantine the bad ones itself.
    """

    def __init__(
        self,
        folder: str | Path,
        handler: Callable[[Path], tuple[str, dict[str, int], list[dict[str, str]]]],
    ) -> None:
        self.folder = Path(folder)
        self.handler = handler
        self.processed = self.folder / "processed"
        self.rejected = self.folder / "rejected"
        for d in (self.folder, self.processed, self.rejected):
            d.mkdir(parents=True, exist_ok=True)
        self._sizes: dict[str, int] = {}

    def _seen_hashes(self) -> set[str]:
        seen = set()
        for d in (self.processed, self.rejected):
            for r in d.glob("*.result.json"):
                try:
                    doc = json.loads(r.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    continue
                if doc.get("status") != "duplicate":
                    seen.add(doc.get("sha256", ""))
        return seen

    def _ready(self) -> list[Path]:
        ready, sizes = [], {}
        for p in sorted(self.folder.iterdir()):
            if not p.is_file() or p.name.startswith(".") or p.name.endswith(_IGNORED):
                continue
            size = p.stat().st_size
            sizes[p.name] = size
            if self._sizes.get(p.name) == size:
                ready.append(p)
        self._sizes = sizes
        return ready

    def _move(self, path: Path, target: Path, result: FileResult) -> None:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        dest = target / f"{path.stem}.{stamp}{path.suffix}"
        shutil.move(str(path), dest)
        dest.with_name(dest.name + ".result.json").write_text(result.to_json(), encoding="utf-8")

    def scan(self) -> list[FileResult]:
        """Process every file that is complete since the previous scan.

        Call it periodically; a new file is handled on the second scan that sees it with
        the same size.
        """
        results = []
        seen = self._seen_hashes()
        for path in self._ready():
            digest = _sha256(path)
            when = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            if path.suffix.lower() not in _SUFFIXES:
                result = FileResult(
                    path.name,
                    digest,
                    "rejected",
                    {"quarantined": 0},
                    [
                        {
                            "rule": "file",
                            "reason": f"{path.name} is not a .csv "
                            "or .xlsx file; drop activity files only",
                        }
                    ],
                    when,
                )
                self._move(path, self.rejected, result)
            elif digest in seen:
                result = FileResult(
                    path.name,
                    digest,
                    "duplicate",
                    {},
                    [
                        {
                            "rule": "duplicate",
                            "reason": f"{path.name} has the same content as a "
                            "file processed before; it was not processed again",
                        }
                    ],
                    when,
                )
                self._move(path, self.processed, result)
            else:
                status, summary, reasons = self.handler(path)
                result = FileResult(path.name, digest, status, summary, reasons, when)
                self._move(path, self.processed if status == "processed" else self.rejected, result)
                seen.add(digest)
            results.append(result)
        return results
