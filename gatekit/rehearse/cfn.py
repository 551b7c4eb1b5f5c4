"""Read a synthesized CDK assembly the way CloudFormation would deploy it: resolve the intrinsic functions in a
template value (Ref, Fn::GetAtt, Fn::Join, Fn::ImportValue, Fn::Select, Fn::Split, Fn::Sub without variables map;
a nested stack's outputs and parameters through its parent) against a `World` that says what each deployed resource
is on this machine. Anything it does not know fails loudly: a value the rehearsal cannot resolve is a value it would
otherwise have guessed."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast


class UnresolvableError(ValueError):
    pass


class World(Protocol):
    """What deployed resources are here: `ref`/`attr` of resource `logical_id` (of `type_`) in `stack`."""

    def ref(self, stack: str, logical_id: str, resource: dict[str, Any]) -> str: ...

    def attr(self, stack: str, logical_id: str, resource: dict[str, Any], attribute: str) -> str: ...


@dataclass
class Assembly:
    """The templates of one `gatekit synth` output (a CDK cloud assembly directory)."""

    directory: Path
    templates: dict[str, dict[str, Any]]
    region: str
    account: str
    # Nested stack (its template's name here) -> (parent stack, logical id of its AWS::CloudFormation::Stack).
    parents: dict[str, tuple[str, str]] = field(default_factory=dict)

    @classmethod
    def read(cls, directory: Path, region: str, account: str) -> Assembly:
        templates = {
            path.name.removesuffix(".template.json"): json.loads(path.read_text())
            for path in sorted(directory.glob("*.template.json"))
        }
        if not templates:
            raise UnresolvableError(f"{directory}: no *.template.json (did `gatekit synth` run?)")
        return cls(directory, templates, region, account)

    def stack(self, suffix: str) -> tuple[str, dict[str, Any]]:
        matches = [name for name in self.templates if name.endswith(f"-{suffix}")]
        if len(matches) != 1:
            raise UnresolvableError(f"expected one `*-{suffix}` stack, found {matches}")
        return matches[0], self.templates[matches[0]]

    def resources(self, stack: str, type_: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.templates[stack]["Resources"].items() if v["Type"] == type_}

    def export(self, name: str) -> tuple[str, Any]:
        for stack, template in self.templates.items():
            for output in template.get("Outputs", {}).values():
                if output.get("Export", {}).get("Name") == name:
                    return stack, output["Value"]
        raise UnresolvableError(f"no stack exports `{name}`")

    def nested(self, stack: str, logical_id: str) -> str:
        """The template of a nested stack (an `AWS::CloudFormation::Stack` of `stack`): its TemplateURL names the
        file asset by hash, and the parent's asset manifest says which `*.nested.template.json` that is."""
        url = json.dumps(self.templates[stack]["Resources"][logical_id]["Properties"]["TemplateURL"])
        found = re.search(r"/([0-9a-f]{64})\.json", url)
        manifest = self.directory / f"{stack}.assets.json"
        if found is None or not manifest.is_file():
            raise UnresolvableError(f"{stack}/{logical_id}: the nested template is not staged in the assembly")
        source = json.loads(manifest.read_text())["files"][found.group(1)]["source"]["path"]
        name = str(source).removesuffix(".template.json")
        if name not in self.templates:
            raise UnresolvableError(f"{stack}/{logical_id}: nested template {source} is not in {self.directory}")
        self.parents[name] = (stack, logical_id)
        return name

    def asset_dir(self, object_key: str) -> Path:
        """The staged directory of a zip asset (`<hash>.zip` in the template, `asset.<hash>/` in the assembly)."""
        digest = object_key.removesuffix(".zip")
        path = self.directory / f"asset.{digest}"
        if not path.is_dir():
            raise UnresolvableError(f"asset {object_key} is not staged in {self.directory}")
        return path


class Resolver:
    def __init__(self, assembly: Assembly, world: World) -> None:
        self.assembly = assembly
        self.world = world

    def pseudo(self, name: str) -> str:
        values = {
            "AWS::Region": self.assembly.region,
            "AWS::AccountId": self.assembly.account,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name not in values:
            raise UnresolvableError(f"pseudo parameter {name}")
        return values[name]

    def resolve(self, stack: str, value: Any) -> Any:
        if isinstance(value, (str, int, float, bool)) or value is None:
            return value
        if isinstance(value, list):
            return [self.resolve(stack, v) for v in cast("list[Any]", value)]
        if not isinstance(value, dict):
            raise UnresolvableError(f"unexpected template value {value!r}")
        node = cast("dict[str, Any]", value)
        if len(node) != 1 or not next(iter(node)).startswith(("Ref", "Fn::")):
            return {k: self.resolve(stack, v) for k, v in node.items()}
        ((fn, arg),) = node.items()
        resources = self.assembly.templates[stack]["Resources"]
        if fn == "Ref":
            if arg.startswith("AWS::"):
                return self.pseudo(arg)
            if arg not in resources and stack in self.assembly.parents:
                return self._parameter(stack, arg)
            if arg not in resources:
                raise UnresolvableError(f"{stack}: Ref to `{arg}` (a parameter or unknown resource)")
            return self.world.ref(stack, arg, resources[arg])
        if fn == "Fn::GetAtt":
            logical, attribute = cast("list[str]", arg) if isinstance(arg, list) else arg.split(".", 1)
            if resources[logical]["Type"] == "AWS::CloudFormation::Stack" and attribute.startswith("Outputs."):
                nested = self.assembly.nested(stack, logical)
                outputs = self.assembly.templates[nested].get("Outputs", {})
                name = attribute.removeprefix("Outputs.")
                if name not in outputs:
                    raise UnresolvableError(f"{stack}/{logical}: the nested stack has no output `{name}`")
                return self.resolve(nested, outputs[name]["Value"])
            return self.world.attr(stack, logical, resources[logical], attribute)
        if fn == "Fn::Join":
            sep, parts = arg
            return sep.join(str(self.resolve(stack, p)) for p in parts)
        if fn == "Fn::ImportValue":
            exporter, exported = self.assembly.export(self.resolve(stack, arg))
            return self.resolve(exporter, exported)
        if fn == "Fn::Select":
            index, items = arg
            return self.resolve(stack, items)[int(self.resolve(stack, index))]
        if fn == "Fn::Split":
            sep, text = arg
            return str(self.resolve(stack, text)).split(sep)
        if fn == "Fn::Sub" and isinstance(arg, str):
            return re.sub(r"\$\{([^}!]+)\}", lambda m: self._sub(stack, m.group(1)), arg)
        raise UnresolvableError(f"{stack}: intrinsic {fn} is not supported by the rehearsal")

    def _parameter(self, nested: str, name: str) -> Any:
        """A nested stack's parameter: the value its parent passes in the stack resource's `Parameters`."""
        parent, logical = self.assembly.parents[nested]
        given = self.assembly.templates[parent]["Resources"][logical]["Properties"].get("Parameters", {})
        if name not in given:
            raise UnresolvableError(f"{nested}: parameter `{name}` is not given by {parent}/{logical}")
        return self.resolve(parent, given[name])

    def _sub(self, stack: str, name: str) -> str:
        if name.startswith("AWS::"):
            return self.pseudo(name)
        logical, _, attribute = name.partition(".")
        if attribute:
            return str(self.resolve(stack, {"Fn::GetAtt": [logical, attribute]}))
        return str(self.resolve(stack, {"Ref": logical}))
