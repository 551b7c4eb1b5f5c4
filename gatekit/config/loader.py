"""Load config/: resolve `extends`, merge, apply `--set` overrides, validate, and report every problem with its
file, line and dotted field path."""

from __future__ import annotations

import copy
import difflib
import os
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, cast

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from gatekit.config.checks import check_environment
from gatekit.config.environment import Environment
from gatekit.config.errors import ConfigError, Problem
from gatekit.config.secrets import find_inline_secrets, is_secret_field, is_secret_ref_shape
from gatekit.config.yaml_source import Origin, SourceDoc, load_yaml

BASE = "base"
ENV_DIR = "environments"


def default_config_dir() -> Path:
    """--config-dir, else $GATEKIT_CONFIG_DIR, else ./config, else the config embedded in the package."""
    env = os.environ.get("GATEKIT_CONFIG_DIR")
    if env:
        return Path(env)
    here = Path.cwd() / "config"
    if (here / ENV_DIR).is_dir():
        return here
    embedded = resources.files("gatekit") / "_embedded_config"
    if embedded.is_dir():
        return Path(str(embedded))
    # Editable install: the repository's config/ next to the package.
    return Path(__file__).resolve().parents[2] / "config"


def environment_names(config_dir: Path) -> list[str]:
    return sorted(p.stem for p in (config_dir / ENV_DIR).glob("*.yaml"))


@dataclass
class _Resolved:
    data: dict[str, Any]
    origins: dict[str, Origin]
    file: str


def _merge(base: _Resolved, child: SourceDoc, child_file: str) -> _Resolved:
    """Deep-merge mappings; lists, scalars and secret references replace the parent's value."""
    data = copy.deepcopy(base.data)
    origins = dict(base.origins)

    def merge_into(dst: dict[str, Any], src: dict[str, Any], prefix: str) -> None:
        for key, value in src.items():
            if not prefix and key == "extends":
                continue
            path = f"{prefix}.{key}" if prefix else key
            if isinstance(value, dict) and isinstance(dst.get(key), dict) and not is_secret_ref_shape(value):
                merge_into(dst[key], cast(dict[str, Any], value), path)
                continue
            # Replaced wholesale (scalars and lists): forget where the parent's sub-values came from.
            for stale in [p for p in origins if p.startswith(path + ".")]:
                del origins[stale]
            dst[key] = copy.deepcopy(cast(Any, value))

    merge_into(data, child.data, "")
    origins.update({p: o for p, o in child.origins.items() if p})
    return _Resolved(data, origins, child_file)


class _Loader:
    def __init__(self, config_dir: Path) -> None:
        self.dir = config_dir
        self.docs: dict[str, tuple[SourceDoc | None, list[Problem]]] = {}

    def path_of(self, name: str) -> Path:
        return self.dir / f"{BASE}.yaml" if name == BASE else self.dir / ENV_DIR / f"{name}.yaml"

    def doc(self, name: str) -> tuple[SourceDoc | None, list[Problem]]:
        if name not in self.docs:
            self.docs[name] = load_yaml(self.path_of(name))
        return self.docs[name]

    def resolve(self, name: str, chain: tuple[str, ...] = ()) -> tuple[_Resolved | None, list[Problem]]:
        file = str(self.path_of(name))
        doc, problems = self.doc(name)
        if doc is None:
            return None, problems
        parent = doc.data.get("extends")
        line = doc.origins.get("extends", (file, None))[1]
        if parent is None:
            if name != BASE:
                return None, [*problems, Problem(file, None, "extends", "missing `extends:` (use `extends: base`)")]
            return _Resolved(copy.deepcopy(doc.data), dict(doc.origins), file), problems
        if name == BASE:
            return None, [*problems, Problem(file, line, "extends", "`base` is the root; it cannot extend anything")]
        if not isinstance(parent, str):
            return None, [*problems, Problem(file, line, "extends", "expected the name of an environment or `base`")]
        if parent in (*chain, name):
            cycle = " -> ".join((*chain, name, parent))
            return None, [*problems, Problem(file, line, "extends", f"`extends` cycle: {cycle}")]
        if not self.path_of(parent).is_file():
            known = [BASE, *environment_names(self.dir)]
            close = difflib.get_close_matches(parent, known, n=1)
            hint = f"; did you mean `{close[0]}`?" if close else f"; known: {', '.join(known)}"
            return None, [*problems, Problem(file, line, "extends", f"unknown parent `{parent}`{hint}")]
        base, parent_problems = self.resolve(parent, (*chain, name))
        problems = [*problems, *parent_problems]
        if base is None:
            return None, problems
        return _merge(base, doc, file), problems


def _apply_overrides(resolved: _Resolved, overrides: Iterable[str]) -> list[Problem]:
    problems: list[Problem] = []
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            problems.append(Problem("--set", None, item, "expected PATH=VALUE"))
            continue
        node: dict[str, Any] = resolved.data
        parts = key.split(".")
        for part in parts[:-1]:
            child: object = node.setdefault(part, {})
            if not isinstance(child, dict):
                problems.append(Problem("--set", None, key, f"`{part}` is not a mapping"))
                break
            node = cast(dict[str, Any], child)
        else:
            node[parts[-1]] = yaml.safe_load(raw) if raw else ""
            resolved.origins[key] = ("--set", 0)
    return problems


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The pydantic model that owns the last element of `loc` (for 'did you mean' on unknown keys)."""
    model: Any = Environment
    for part in loc[:-1]:
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = model.model_fields.get(str(part))
        if field is None:
            continue  # dict key or list index: stay on the container's value type below
        model = _unwrap(field.annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = typing.get_origin(annotation)
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if origin in (typing.Union, types.UnionType) and args:
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            annotation = models[0] if models else args[0]
        elif origin in (list, dict) and args:
            annotation = args[-1]
        elif origin is typing.Annotated:
            annotation = args[0]
        else:
            return annotation


def _origin_for(path: str, resolved: _Resolved) -> Origin:
    probe = path
    while probe:
        if probe in resolved.origins:
            return resolved.origins[probe]
        probe = probe.rpartition(".")[0]
    return resolved.origins.get("", (resolved.file, 1))


def _message(err: ErrorDetails, loc: tuple[int | str, ...]) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        model = _model_at(loc)
        known = list(model.model_fields) if model else []
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f"; did you mean `{close[0]}`?" if close else (f"; expected one of: {', '.join(known)}" if known else "")
        return f"unknown key{hint}"
    if kind == "missing":
        return "required field is missing"
    msg = err["msg"].removeprefix("Value error, ")
    value = err.get("input")
    shows_value = kind not in ("value_error", "assertion_error") and not is_secret_field(str(loc[-1]) if loc else "")
    if shows_value and isinstance(value, (int, float, str, bool)):
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        msg = f"{msg} (got {shown})"
    return msg


def _validation_problems(exc: ValidationError, resolved: _Resolved) -> list[Problem]:
    problems: list[Problem] = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p.startswith("function-"))))
        path = ".".join(str(p) for p in loc)
        file, line = _origin_for(path, resolved)
        problems.append(Problem(file, line or None, path, _message(err, loc)))
    return problems


def load_environment(name: str, config_dir: Path | None = None, overrides: Iterable[str] = ()) -> Environment:
    """Load, merge and validate one environment, or raise ConfigError with every problem found."""
    config_dir = config_dir or default_config_dir()
    loader = _Loader(config_dir)
    env_file = loader.path_of(name)
    if name == BASE or not env_file.is_file():
        known = environment_names(config_dir)
        raise ConfigError(
            [Problem(str(config_dir / ENV_DIR), None, "", f"no environment `{name}`; known: {', '.join(known)}")],
            config_dir,
        )
    resolved, problems = loader.resolve(name)
    if resolved is None:
        raise ConfigError(problems, config_dir)
    problems += _apply_overrides(resolved, overrides)
    resolved.data["name"] = name
    resolved.origins.setdefault("name", (str(env_file), 1))
    tags: object = resolved.data.setdefault("tags", {})
    if isinstance(tags, dict):
        cast(dict[str, Any], tags).setdefault("environment", name)
    secret_paths: list[str] = []
    for path, reason in find_inline_secrets(resolved.data):
        secret_paths.append(path)
        problems.append(Problem(*_origin_for(path, resolved), path, reason))
    try:
        env = Environment.model_validate(resolved.data)
    except ValidationError as exc:
        # Field errors at a path already reported as an inline secret add nothing (and must not echo the value).
        problems += [
            p
            for p in _validation_problems(exc, resolved)
            if not any(p.path == s or p.path.startswith(s + ".") for s in secret_paths)
        ]
        raise ConfigError(problems, config_dir) from None
    if problems:
        raise ConfigError(problems, config_dir)
    findings = [Problem(*_origin_for(path, resolved), path, msg) for path, msg in check_environment(env)]
    if findings:
        raise ConfigError(findings, config_dir)
    return env


def load_all(
    config_dir: Path | None = None, names: Iterable[str] | None = None, overrides: Iterable[str] = ()
) -> dict[str, Environment]:
    """Load every environment (each with the same `overrides`); raise one ConfigError with the problems of all."""
    config_dir = config_dir or default_config_dir()
    envs: dict[str, Environment] = {}
    problems: list[Problem] = []
    for name in names or environment_names(config_dir):
        try:
            envs[name] = load_environment(name, config_dir, overrides)
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems, config_dir)
    return envs
