"""What is wrong with an article file: :class:`Problem`, reported with file and line.

>>> from pathlib import Path
>>> str(Problem(Path("kb/a.md"), 3, "error", "unknown key 'titel'", "did you mean 'title'?"))
"kb/a.md:3: error: unknown key 'titel' (did you mean 'title'?)"
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing an editor should fix, at ``path:line``."""

    path: Path
    line: int
    severity: Severity
    message: str
    hint: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.severity}: {self.message} ({self.hint})"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


def sort_key(problem: Problem) -> tuple[str, int, str]:
    """Order problems by file, then line, then message."""
    return (str(problem.path), problem.line, problem.message)
