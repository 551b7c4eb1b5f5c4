"""ADR 0031, enforced: only app.py / cdk/app_builder.py read CDK context, and every stack takes one frozen props
dataclass whose fields are config slices, typed interfaces and small frozen values, never another stack or the whole
environment (but for the EKS gateway's `model`, which the Kubernetes renderer takes whole)."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import types
import typing
from pathlib import Path

from aws_cdk import Stack

from gatekit.config import Environment

REPO = Path(__file__).resolve().parents[2]
CONTEXT_READERS = {"app.py", "cdk/app_builder.py"}
CONTEXT_CALLS = {"try_get_context", "get_context"}
STACK_MODULES = sorted(p.stem for p in (REPO / "cdk").glob("*_stack.py"))
# (props class, field): the typed model, passed on to renderers that take it whole (cdk/props.py docstring).
MODEL_FIELDS = {("GatewayEksProps", "model")}
PASSED_THROUGH = {"scope", "construct_id", "kwargs"}


def context_reads(path: Path) -> list[int]:
    """Lines of `<anything>.try_get_context(...)` / `.get_context(...)` calls in one file."""
    tree = ast.parse(path.read_text(), str(path))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in CONTEXT_CALLS
    ]


def test_context_read_scan_finds_a_read(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("x = app.node.try_get_context('env')\ny = Node.of(s).get_context('k')\nz = f(get_context)\n")
    assert context_reads(sample) == [1, 2]


def test_only_the_entry_point_reads_cdk_context() -> None:
    readers: dict[str, list[int]] = {}
    for path in [REPO / "app.py", *sorted((REPO / "cdk").rglob("*.py"))]:
        lines = context_reads(path)
        if lines:
            readers[str(path.relative_to(REPO))] = lines
    assert "app.py" in readers  # the scan sees the real reads (env, config_dir, allow_placeholders)
    assert set(readers) <= CONTEXT_READERS, readers


def stack_classes() -> list[type[Stack]]:
    found: list[type[Stack]] = []
    for name in STACK_MODULES:
        module = importlib.import_module(f"cdk.{name}")
        found += [
            obj
            for obj in vars(module).values()
            if inspect.isclass(obj) and issubclass(obj, Stack) and obj.__module__ == module.__name__
        ]
    return found


def leaf_types(annotation: object) -> list[object]:
    """Every class an annotation names (unions, tuples, Mappings, Callables and Optionals unpacked)."""
    args = typing.get_args(annotation)
    if not args:
        return [annotation]
    origin = typing.get_origin(annotation)
    out: list[object] = [] if origin in (typing.Union, types.UnionType) else [origin]
    for arg in args:
        out += leaf_types(arg) if not isinstance(arg, list) else [t for a in arg for t in leaf_types(a)]
    return out


def wide_fields(props: type, seen: set[type] | None = None) -> list[str]:
    """Fields (nested dataclasses included) typed as a Stack or the whole Environment, outside MODEL_FIELDS."""
    seen = seen if seen is not None else set()
    if props in seen:
        return []
    seen.add(props)
    out: list[str] = []
    for field, annotation in typing.get_type_hints(props).items():
        for leaf in leaf_types(annotation):
            if not inspect.isclass(leaf):
                continue
            if issubclass(leaf, Stack) or (
                issubclass(leaf, Environment) and (props.__name__, field) not in MODEL_FIELDS
            ):
                out.append(f"{props.__name__}.{field}: {leaf.__name__}")
            elif dataclasses.is_dataclass(leaf):
                out += wide_fields(leaf, seen)
    return out


def test_every_stack_takes_one_frozen_narrow_props() -> None:
    stacks = stack_classes()
    assert len(stacks) == len(STACK_MODULES) == 8, [s.__name__ for s in stacks]
    for stack in stacks:
        hints = typing.get_type_hints(stack.__init__)
        params = [p for p in inspect.signature(stack.__init__).parameters if p != "self"]
        assert set(params) - PASSED_THROUGH == {"props"}, (stack.__name__, params)
        props = hints["props"]
        assert dataclasses.is_dataclass(props) and isinstance(props, type), (stack.__name__, props)
        assert props.__dataclass_params__.frozen, f"{props.__name__} is not frozen"  # type: ignore[attr-defined]
        assert props.__name__ == stack.__name__.removesuffix("Stack") + "Props"
        assert wide_fields(props) == [], stack.__name__


def test_the_field_check_sees_a_stack_and_the_environment() -> None:
    @dataclasses.dataclass(frozen=True)
    class Inner:
        env: Environment | None

    @dataclasses.dataclass(frozen=True)
    class WideProps:
        network: Stack
        inner: tuple[Inner, ...]

    globals().update(Inner=Inner)  # get_type_hints resolves the string annotations in this module
    try:
        assert wide_fields(WideProps) == ["WideProps.network: Stack", "Inner.env: Environment"]
    finally:
        del globals()["Inner"]
