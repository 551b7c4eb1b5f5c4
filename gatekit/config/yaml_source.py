"""YAML loading that remembers where every value came from (file and line), for error messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gatekit.config.errors import Problem

Origin = tuple[str, int]  # (file, 1-based line)


@dataclass
class SourceDoc:
    """A parsed YAML mapping plus the origin of every dotted path in it."""

    data: dict[str, Any]
    origins: dict[str, Origin] = field(default_factory=dict)


class _Builder:
    """Turns a composed YAML node tree into Python values, recording origins and refusing duplicate keys
    (plain YAML silently keeps the last duplicate)."""

    def __init__(self, file: str) -> None:
        self.file = file
        # PyYAML's stubs leave the constructor's node methods untyped: the values it builds are plain YAML data (Any).
        self.constructor: Any = yaml.SafeLoader("")
        self.origins: dict[str, Origin] = {}
        self.problems: list[Problem] = []

    def build(self, node: yaml.Node, path: str = "") -> Any:
        file = self.file
        self.origins.setdefault(path, (file, node.start_mark.line + 1))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, f"{path}.{i}" if path else str(i)) for i, item in enumerate(node.value)]
        return self.constructor.construct_object(node, deep=True)

    def _mapping(self, node: yaml.MappingNode, path: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            raw_key: object = self.constructor.construct_object(key_node, deep=True)
            key = raw_key if isinstance(raw_key, str) else str(raw_key)
            child = f"{path}.{key}" if path else key
            line = key_node.start_mark.line + 1
            if key in out:
                self.problems.append(Problem(self.file, line, child, "duplicate key in the same mapping"))
                continue
            self.origins[child] = (self.file, line)
            out[key] = self.build(value_node, child)
        return out


def _compose(text: str) -> yaml.Node | None:
    # What yaml.compose does, through the loader's typed method (the stub leaves compose's stream untyped); the
    # loader holds no resources beyond this call (dispose only clears parser state).
    return yaml.SafeLoader(text).get_single_node()


def load_yaml(path: Path) -> tuple[SourceDoc | None, list[Problem]]:
    """Parse one file. Returns the document or the problems (malformed YAML is reported with its line)."""
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return None, [Problem(file, None, "", f"cannot read file: {exc.strerror}")]
    try:
        node: yaml.Node | None = _compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        what = exc.problem or "malformed YAML"
        if exc.context:
            what = f"{exc.context}, {what}"
        return None, [Problem(file, line, "", f"malformed YAML: {what}")]
    if node is None:
        return SourceDoc({}), []
    if not isinstance(node, yaml.MappingNode):
        return None, [Problem(file, node.start_mark.line + 1, "", "expected a mapping at the top of the file")]
    builder = _Builder(file)
    try:
        data = builder.build(node)
    except yaml.constructor.ConstructorError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        return None, [Problem(file, line, "", f"malformed YAML: {exc.problem}")]
    return SourceDoc(data, builder.origins), builder.problems
