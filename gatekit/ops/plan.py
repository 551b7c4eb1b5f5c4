"""Destructive operations are plans: a list of steps, each a sentence and the call that performs it. Without
confirmation a plan is printed (exactly what would happen) and nothing is called."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Echo = Callable[[str], None]


@dataclass
class Step:
    text: str
    run: Callable[[], Any]


@dataclass
class Plan:
    title: str
    steps: list[Step] = field(default_factory=list)
    confirm_flag: str = "--yes"

    def add(self, text: str, run: Callable[[], Any]) -> None:
        self.steps.append(Step(text, run))

    def execute(self, confirmed: bool, echo: Echo) -> list[Any]:
        if not confirmed:
            echo(f"DRY RUN: {self.title}")
            for i, step in enumerate(self.steps, 1):
                echo(f"  {i}. would {step.text}")
            echo(f"Nothing changed. Re-run with {self.confirm_flag} to apply.")
            return []
        echo(self.title)
        results: list[Any] = []
        for i, step in enumerate(self.steps, 1):
            echo(f"  {i}. {step.text}")
            results.append(step.run())
        return results
