"""Config problems that a user can act on: file, line, dotted field path and what was expected."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the configuration."""

    file: str
    line: int | None
    path: str
    message: str

    def render(self, root: Path | None = None) -> str:
        file = self.file
        if root is not None and Path(self.file).resolve().is_relative_to(root.resolve().parent):
            file = str(Path(self.file).resolve().relative_to(root.resolve().parent))
        where = f"{file}:{self.line}" if self.line else file
        field = self.path or "(document)"
        return f"{where}: {field}: {self.message}"


class ConfigError(Exception):
    """Raised with every problem found, never a partial list of one."""

    def __init__(self, problems: list[Problem], root: Path | None = None) -> None:
        self.problems = sorted(set(problems), key=lambda p: (p.file, p.line or 0, p.path, p.message))
        self.root = root
        super().__init__(self.report())

    def report(self) -> str:
        return "\n".join(p.render(self.root) for p in self.problems)
