"""docs/security.md prints the role matrix the code enforces."""

from __future__ import annotations

from pathlib import Path

from carbontwin.runtime.access import matrix_markdown

DOC = Path(__file__).parents[2] / "docs" / "security.md"


def test_security_doc_has_the_current_role_matrix():
    assert matrix_markdown() in DOC.read_text(encoding="utf-8"), (
        "the role matrix changed: paste carbontwin.runtime.access.matrix_markdown() "
        "into docs/security.md"
    )
