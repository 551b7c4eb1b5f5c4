"""JSON Schema for editors and the Markdown config reference, both generated from the model."""

from __future__ import annotations

import types
import typing
from typing import Any, cast

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from gatekit.config.environment import Environment


def _drop_required(node: Any) -> None:
    if isinstance(node, dict):
        mapping = cast(dict[str, Any], node)
        mapping.pop("required", None)
        for value in mapping.values():
            _drop_required(value)
    elif isinstance(node, list):
        for value in cast(list[Any], node):
            _drop_required(value)


def environment_file_schema() -> dict[str, Any]:
    """Schema of one file in config/: every field optional (files are overlays merged through `extends`)."""
    schema = Environment.model_json_schema()
    _drop_required(schema)
    schema["properties"].pop("name", None)
    schema["properties"]["extends"] = {
        "type": "string",
        "description": "Parent: `base` or another environment. Mappings merge; lists and scalars replace.",
    }
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "gatekit environment file"
    return schema


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if origin in (typing.Union, types.UnionType):
        return " \\| ".join(_type_name(a) for a in args)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin is list:
        return f"list[{_type_name(args[0])}]"
    if origin is dict:
        return f"map[{_type_name(args[0])}, {_type_name(args[1])}]"
    if annotation is type(None):
        return "null"
    return getattr(annotation, "__name__", str(annotation))


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        try:
            value = field.default_factory()  # type: ignore[call-arg]
        except TypeError:
            return ""
        return "" if isinstance(value, BaseModel) else f"`{value}`"
    if field.default is PydanticUndefined:
        return "**required**"
    return f"`{field.default}`"


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        # Open LiteLLM sections (gatekit/config/litellm_fields.py) list hundreds of names: not expanded here.
        return [] if getattr(annotation, "gatekit_open_section", False) else [annotation]
    return [m for a in typing.get_args(annotation) for m in _models_in(a)]


def reference_markdown() -> str:
    lines = [
        "# Config reference",
        "",
        "Generated from the typed model (`gatekit config docs`); do not edit by hand. One file per environment in",
        "`config/environments/`, each with `extends:` (`base` or another environment). Mappings merge; lists,",
        "scalars and secret references replace. Unknown keys are errors. Validate with `gatekit config validate`.",
        "",
    ]
    seen: set[type[BaseModel]] = set()
    queue: list[tuple[str, type[BaseModel]]] = [("(environment file)", Environment)]
    while queue:
        path, model = queue.pop(0)
        if model in seen:
            continue
        seen.add(model)
        lines += [f"## `{path}` — {model.__name__}", ""]
        doc = (model.__doc__ or "").strip()
        if doc:
            lines += [" ".join(doc.split()), ""]
        lines += ["| field | type | default | description |", "| --- | --- | --- | --- |"]
        for name, field in model.model_fields.items():
            desc = (field.description or "").replace("|", "\\|")
            lines.append(f"| `{name}` | {_type_name(field.annotation)} | {_default(field)} | {desc} |")
            for sub in _models_in(field.annotation):
                child = name if path.startswith("(") else f"{path}.{name}"
                queue.append((child, sub))
        lines.append("")
    return "\n".join(lines)
