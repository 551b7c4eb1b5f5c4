"""The policy pack's primitives: a validator's context, the policy record, and how input properties are read."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast


@dataclass(frozen=True)
class Secret:
    """A secret input value (the plan's view of a Pulumi secret). Never printed."""

    value: Any

    def __repr__(self) -> str:
        return "[secret]"


@dataclass(frozen=True)
class Context:
    required_tags: Sequence[str] = ("project", "environment", "owner")
    secrets_marked: bool = False


Validator = Callable[[str, dict[str, Any], Context], list[str]]


@dataclass(frozen=True)
class Policy:
    name: str
    description: str
    validate: Validator
    mandatory: bool = True
    types: tuple[str, ...] = field(default=())


def get(props: Any, path: str) -> Any:
    """props["a"]["b"] for "a.b"; None when any step is missing. Secret wrappers are looked through."""
    node: Any = props
    for part in path.split("."):
        if isinstance(node, Secret):
            node = node.value
        if not isinstance(node, dict):
            return None
        node = cast(dict[str, Any], node).get(part)
    return node.value if isinstance(node, Secret) else node


def dicts(value: Any) -> list[dict[str, Any]]:
    """The mapping items of a list-valued property (anything else in it, or a missing list, yields nothing)."""
    if not isinstance(value, list):
        return []
    return [cast(dict[str, Any], v) for v in cast(list[Any], value) if isinstance(v, dict)]


def mapping(value: Any) -> dict[str, Any]:
    """A mapping-valued property, or an empty one when missing or not a mapping."""
    return cast(dict[str, Any], value) if isinstance(value, dict) else {}


def items_of(value: Any) -> list[Any]:
    """A list-valued property, or an empty list when missing or not a list."""
    return cast(list[Any], value) if isinstance(value, list) else []
