"""Activity files: read CSV and XLSX ledgers into rows, and write empty templates."""

from carbontwin.connectors.files.reader import read_activity_file, write_template

__all__ = ["read_activity_file", "write_template"]
