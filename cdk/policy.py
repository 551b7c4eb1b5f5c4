"""Account-wide rules applied to every construct: tags, permissions boundary, and scoped, reasoned exemptions
from cdk-nag and checkov (one resource each, never a blanket skip)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jsii
from aws_cdk import Aspects, CfnResource, IAspect, Tags
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct, IConstruct

from gatekit.config import Environment


def l1(construct: IConstruct) -> CfnResource:
    """The CloudFormation resource behind a construct (the construct itself when it is one)."""
    if isinstance(construct, CfnResource):
        return construct
    child = construct.node.default_child
    if not isinstance(child, CfnResource):
        raise TypeError(f"{construct.node.path} has no single CloudFormation resource")
    return child


def suppress_nag(construct: IConstruct, rule: str, reason: str, applies_to: Sequence[str] | None = None) -> None:
    """Suppress one cdk-nag rule on exactly one resource, with the reason recorded in the template metadata."""
    suppression = NagPackSuppression(id=rule, reason=reason, applies_to=list(applies_to) if applies_to else None)
    NagSuppressions.add_resource_suppressions(l1(construct), [suppression], apply_to_children=False)


def skip_checkov(construct: IConstruct, check_id: str, reason: str) -> None:
    """Skip one checkov check on exactly one resource (checkov reads `Metadata.checkov.skip`)."""
    resource = l1(construct)
    existing: dict[str, Any] = resource.get_metadata("checkov") or {"skip": []}
    skips: list[dict[str, str]] = [*existing["skip"], {"id": check_id, "comment": reason}]
    resource.add_metadata("checkov", {"skip": skips})


@jsii.implements(IAspect)
class _PermissionsBoundary:
    """Sets the permissions boundary on every IAM role, including roles CDK creates for its own custom resources."""

    def __init__(self, arn: str) -> None:
        self.arn = arn

    def visit(self, node: IConstruct) -> None:
        # CDK's own custom-resource providers create roles as plain CfnResources, hence the type check.
        if isinstance(node, CfnResource) and node.cfn_resource_type == "AWS::IAM::Role":
            node.add_property_override("PermissionsBoundary", self.arn)


def apply_account_rules(scope: Construct, env: Environment) -> None:
    """Tags from config on every taggable resource; the permissions boundary (if configured) on every role."""
    for key, value in sorted(env.tags.items()):
        Tags.of(scope).add(key, value)
    Tags.of(scope).add("gatekit:deployment", env.deployment.prefix)
    boundary = env.aws.permissions_boundary_arn if env.aws else None
    if boundary:
        Aspects.of(scope).add(_PermissionsBoundary(boundary))
