"""The rehearsal's stand-ins for resources referenced by identity only (gatekit.rehearse.aws_world): an IAM role's
name and ARN, as IAM forms them, in the assembly's stand-in account. No moto needed: nothing is created."""

from __future__ import annotations

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
