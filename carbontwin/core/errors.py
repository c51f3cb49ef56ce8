"""Exceptions of carbontwin; each derives from a built-in so callers can catch broadly."""

from __future__ import annotations

__all__ = [
    "ConsistencyError",
    "ParkDefinitionError",
    "SolverError",
    "UnitError",
    "ValidationError",
]


class ValidationError(ValueError):
    """A value is not acceptable; the message names the field, the value and the fix."""


class UnitError(ValidationError):
    """A unit is unknown or has the wrong dimension."""


class ConsistencyError(ValueError):
    """Parts of a park definition or an inventory disagree with each other."""


class SolverError(RuntimeError):
    """A solver failed, or returned no usable solution; the message says why and what to try."""


class ParkDefinitionError(ValidationError):
    """A park file is invalid.

    Parameters
    ----------
    file : str
        The file name.
    problems : list of tuple of (str, str)
        ``(location, message)`` pairs; location is a path such as ``enterprises[2].uscc``.
    """

    def __init__(self, file: str, problems: list[tuple[str, str]]) -> None:
        self.file = file
        self.problems = problems
        lines = [f"{file}: {loc}: {msg}" if loc else f"{file}: {msg}" for loc, msg in problems]
        super().__init__("\n".join(lines))
