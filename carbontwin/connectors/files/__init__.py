"""Activity and statistics files: read CSV and XLSX into rows, and write empty templates."""

from carbontwin.connectors.files.reader import read_activity_file, write_template
from carbontwin.connectors.files.statistics import read_statistics_file
from carbontwin.connectors.files.watcher import FileResult, FolderSync

__all__ = [
    "FileResult",
    "FolderSync",
    "read_activity_file",
    "read_statistics_file",
    "write_template",
]
