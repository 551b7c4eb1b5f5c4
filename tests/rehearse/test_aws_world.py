"""The rehearsal's stand-ins for resources referenced by identity only (gatekit.rehearse.aws_world): an IAM role's
name and ARN, as IAM forms them, in the assembly's stand-in account. No moto needed: nothing is created."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gatekit.rehearse.aws_world import AwsWorld
from gatekit.rehearse.cfn import Assembly, Resolver
from gatekit.rehearse.image import ImageFacts

ROLES = {
    "GatewayRole0A0569CA": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}}},
    "Named": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "estate-reader", "Path": "/gatekit/"}},
}


def _resolver(account: str) -> Resolver:
    templates = {"gk-x-gateway": {"Resources": ROLES}}
    world = AwsWorld("http://127.0.0.1:9", "us-east-1", ImageFacts((), ()), account=account)
    world.bind(templates)
    return Resolver(Assembly(Path("."), templates, "us-east-1", account), world)


def test_a_role_is_named_and_addressed_as_iam_would() -> None:
    resolver = _resolver("111122223333")
    assert resolver.resolve("gk-x-gateway", {"Ref": "GatewayRole0A0569CA"}) == "gk-x-gateway-GatewayRole0A0569CA"
    assert (
        resolver.resolve("gk-x-gateway", {"Fn::GetAtt": ["GatewayRole0A0569CA", "Arn"]})
        == "arn:aws:iam::111122223333:role/gk-x-gateway-GatewayRole0A0569CA"
    )
    # A given name and path are IAM's: the ARN carries the path.
    assert resolver.resolve("gk-x-gateway", {"Fn::Sub": "${Named.Arn}"}) == (
        "arn:aws:iam::111122223333:role/gatekit/estate-reader"
    )


def test_a_role_attribute_without_a_stand_in_fails_loudly() -> None:
    with pytest.raises(ValueError, match=r"no stand-in for AWS::IAM::Role\.RoleId"):
        _resolver("111122223333").resolve("gk-x-gateway", {"Fn::GetAtt": ["Named", "RoleId"]})


DIGEST = "8c50509e4d256638de262712c1eefc69c7f9fdd929f0bc9ef47ac47d1bc0df65"


def test_a_nested_stack_output_resolves_in_the_nested_template_with_its_parameters(tmp_path: Path) -> None:
    """The EKS kubectl provider's service token: an output of a nested stack, found through the parent's asset
    manifest, with the parameters the parent passes; distinct functions keep distinct names."""
    url = {"Fn::Join": ["", ["https://s3.us-east-1.", {"Ref": "AWS::URLSuffix"}, f"/bucket/{DIGEST}.json"]]}
    stack = {
        "Type": "AWS::CloudFormation::Stack",
        "Properties": {"TemplateURL": url, "Parameters": {"P": {"Ref": "R"}}},
    }
    parent = {"Resources": {**ROLES, "R": ROLES["Named"], "Provider": stack}}
    functions = {f: {"Type": "AWS::Lambda::Function", "Properties": {}} for f in ("Handler886CB40B", "OnEvent83C1D0A7")}
    value = {"Fn::Join": [" ", [{"Ref": "P"}, {"Fn::GetAtt": ["OnEvent83C1D0A7", "Arn"]}]]}
    name = "gkx" * 30 + "KubectlProvider.nested"
    nested = {"Parameters": {"P": {"Type": "String"}}, "Resources": functions, "Outputs": {"Token": {"Value": value}}}
    files = {DIGEST: {"source": {"path": f"{name}.template.json"}}}
    (tmp_path / "gk-x-gateway.assets.json").write_text(json.dumps({"files": files}))
    templates = {"gk-x-gateway": parent, name: nested}
    world = AwsWorld("http://127.0.0.1:9", "us-east-1", ImageFacts((), ()), account="111122223333")
    world.bind(templates)
    resolver = Resolver(Assembly(tmp_path, templates, "us-east-1", "111122223333"), world)
    token = resolver.resolve("gk-x-gateway", {"Fn::GetAtt": ["Provider", "Outputs.Token"]})
    role, arn = token.split(" ")
    assert role == "estate-reader"  # the parent's Ref, passed as the nested stack's parameter
    assert arn.startswith("arn:aws:lambda:us-east-1:111122223333:function:gkx") and arn.endswith("-OnEvent83C1D0A7")
    handler = resolver.resolve(name, {"Fn::GetAtt": ["Handler886CB40B", "Arn"]})
    assert handler != arn and len(arn.rsplit(":", 1)[1]) <= 64
    with pytest.raises(ValueError, match="nested stack has no output `Other`"):
        resolver.resolve("gk-x-gateway", {"Fn::GetAtt": ["Provider", "Outputs.Other"]})
    with pytest.raises(ValueError, match="parameter `Q` is not given"):
        resolver.resolve(name, {"Ref": "Q"})
