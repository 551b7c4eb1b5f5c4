"""Small readers over synthesized templates."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Template


def template(stack: dict[str, Any]) -> Template:
    return Template.from_json(stack)


def only(resources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    assert len(resources) == 1, f"expected one resource, got {sorted(resources)}"
    return next(iter(resources.values()))


def containers(task_definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["Name"]: c for c in task_definition["Properties"]["ContainerDefinitions"]}


def statements(policies: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for policy in policies.values():
        out.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return out


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def text(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def task_with(resources: dict[str, dict[str, Any]], container: str) -> dict[str, Any]:
    """The one task definition that has a container named `container`."""
    matches = {k: v for k, v in resources.items() if container in containers(v)}
    return only(matches)
