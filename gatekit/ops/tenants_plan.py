"""The diff between `tenants:` and the live gateway: create / update / rotate / delete per team, user and key.

Only principals gatekit marked as managed are ever deleted; a live principal with a configured name is compared and
adopted (marked) by apply. Values are compared as LiteLLM stores them; key values only through their hash."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from gatekit.ops.tenants_state import KINDS, Principal

Action = str  # create | update | rotate | delete


@dataclass
class Change:
    action: Action
    kind: str
    name: str
    diff: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # field -> (live, desired)
    desired: Principal | None = None
    live: Principal | None = None

    def line(self) -> str:
        sign = {"create": "+", "update": "~", "rotate": "±", "delete": "-"}[self.action]
        head = f"{sign} {self.kind} {self.name}: {self.action}"
        if self.action == "create" and self.desired is not None:
            shown = {k: v for k, v in self.desired.fields.items() if v not in (None, [])}
            return head + (" (" + ", ".join(f"{k}={v}" for k, v in shown.items()) + ")" if shown else "")
        if self.action == "rotate":
            return head + " (the referenced secret holds a different key: the old key is revoked, the new registered)"
        if self.diff:
            return head + " (" + ", ".join(f"{k}: {a!r} -> {b!r}" for k, (a, b) in self.diff.items()) + ")"
        return head

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "kind": self.kind,
            "name": self.name,
            "diff": {k: {"live": a, "desired": b} for k, (a, b) in self.diff.items()},
        }


@dataclass
class Plan:
    changes: list[Change]
    unchanged: int
    unmanaged: dict[str, int]  # live principals gatekit neither manages nor configures, by kind (left alone)
    unchecked_secrets: list[str]  # keys whose value was not readable here (rotation not checked)

    @property
    def empty(self) -> bool:
        return not self.changes

    def counts(self) -> dict[str, int]:
        out = {a: 0 for a in ("create", "update", "rotate", "delete")}
        for change in self.changes:
            out[change.action] += 1
        return out

    def lines(self) -> list[str]:
        out = [c.line() for c in self.changes]
        c = self.counts()
        summary = (
            f"Plan: {c['create']} to create, {c['update']} to update, {c['rotate']} to rotate, "
            f"{c['delete']} to delete, {self.unchanged} unchanged."
        )
        out.append("No changes: the gateway matches `tenants:`. " + summary if self.empty else summary)
        unmanaged = ", ".join(f"{n} {k}(s)" for k, n in self.unmanaged.items() if n)
        if unmanaged:
            out.append(f"Not managed by gatekit (left alone): {unmanaged}.")
        if self.unchecked_secrets:
            out.append("Key values not readable here, rotation not checked: " + ", ".join(self.unchecked_secrets))
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "changes": [c.to_json() for c in self.changes],
            "counts": {**self.counts(), "unchanged": self.unchanged},
            "unmanaged": self.unmanaged,
            "unchecked_secrets": self.unchecked_secrets,
        }


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    return bool(a == b)


def diff_fields(live: dict[str, Any], desired: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {k: (live.get(k), v) for k, v in desired.items() if not _same(live.get(k), v)}


def make_plan(desired: list[Principal], live: list[Principal]) -> Plan:
    live_by = {(p.kind, p.name): p for p in live}
    want_by = {(p.kind, p.name): p for p in desired}
    changes: list[Change] = []
    unchanged = 0
    unchecked: list[str] = []
    for kind in KINDS:  # creates and updates: teams, users, keys (references resolve in that order)
        for want in (p for p in desired if p.kind == kind):
            have = live_by.get((kind, want.name))
            if have is None:
                changes.append(Change("create", kind, want.name, desired=want))
                continue
            if kind == "key" and want.token is None:
                unchecked.append(want.name)
            if kind == "key" and want.token is not None and want.token != have.token:
                changes.append(Change("rotate", kind, want.name, desired=want, live=have))
                continue
            diff = diff_fields(have.fields, want.fields)
            if not have.managed:
                diff["metadata.gatekit_managed"] = (None, True)
            if diff:
                changes.append(Change("update", kind, want.name, diff, desired=want, live=have))
            else:
                unchanged += 1
    unmanaged = {k: 0 for k in KINDS}
    for kind in reversed(KINDS):  # deletes: keys, users, teams
        for have in (p for p in live if p.kind == kind):
            if (kind, have.name) in want_by:
                continue
            if have.managed:
                changes.append(Change("delete", kind, have.name, live=have))
            else:
                unmanaged[kind] += 1
    return Plan(changes, unchanged, unmanaged, unchecked)
