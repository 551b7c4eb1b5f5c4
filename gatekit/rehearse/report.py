"""The rehearsal's result: one entry per check (pass/fail + evidence), plus every platform behaviour that was not
reproduced and why. `--json` prints `as_dict()`; the text form is for people."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from gatekit.rehearse.spec import NotReproduced

CHECKS = (
    "db_connected",
    "migrations",
    "virtual_key",
    "spend_recorded",
    "budget_enforced",
    "route_sweep",  # security (issue 12): gatekit.rehearse.sweep_check
    "hot_reload",
    "drain",
)
Status = Literal["pass", "fail"]


@dataclass
class CheckResult:
    name: str
    status: Status
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.status == "pass"


@dataclass
class Report:
    target: str
    env_name: str
    checks: list[CheckResult] = field(default_factory=list)
    not_reproduced: list[NotReproduced] = field(default_factory=list)
    processes: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def add(self, name: str, passed: bool, **evidence: Any) -> CheckResult:
        result = CheckResult(name, "pass" if passed else "fail", evidence)
        self.checks.append(result)
        return result

    def check(self, name: str) -> CheckResult | None:
        return next((c for c in self.checks if c.name == name), None)

    @property
    def passed(self) -> bool:
        """Every required check ran and passed, and the run did not abort."""
        ran = {c.name for c in self.checks}
        return self.error is None and set(CHECKS) <= ran and all(c.passed for c in self.checks)

    def missing(self) -> list[str]:
        ran = {c.name for c in self.checks}
        return [name for name in CHECKS if name not in ran]

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "env": self.env_name,
            "passed": self.passed,
            "error": self.error,
            "checks": [{"name": c.name, "status": c.status, "evidence": c.evidence} for c in self.checks],
            "not_run": self.missing(),
            "not_reproduced": [{"what": n.what, "reason": n.reason} for n in self.not_reproduced],
            "processes": self.processes,
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2, default=str)

    def to_text(self) -> str:
        lines = [f"rehearsal of `{self.env_name}` ({self.target}): {'PASS' if self.passed else 'FAIL'}"]
        for c in self.checks:
            detail = ", ".join(f"{k}={v}" for k, v in c.evidence.items())
            lines.append(f"  {c.status:<4}  {c.name:<16} {detail[:300]}")
        for name in self.missing():
            lines.append(f"  fail  {name:<16} not run")
        if self.error:
            lines.append(f"  error: {self.error}")
        for n in self.not_reproduced:
            lines.append(f"  not_reproduced  {n.what}: {n.reason}")
        return "\n".join(lines)
