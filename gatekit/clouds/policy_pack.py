"""The CrossGuard form of gatekit.clouds.policy: one ResourceValidationPolicy per validator.

`pulumi/policy/__main__.py` serves these as the `gatekit` policy pack (`pulumi preview --policy-pack pulumi/policy`).
The required tags come from the pack's config (`requiredTags`), default project, environment, owner.
"""

from __future__ import annotations

from collections.abc import Callable

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy import Policy as CrossGuardPolicy

from gatekit.clouds.policy import POLICIES, STACK_POLICIES, Context, Policy, StackResource
from gatekit.clouds.policy_stack import StackPolicy

PACK_NAME = "gatekit"
CONFIG_SCHEMA = PolicyConfigSchema(
    properties={"requiredTags": {"type": "array", "items": {"type": "string"}, "default": list(Context.required_tags)}}
)


def crossguard_validator(policy: Policy) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        config = args.get_config() or {}
        ctx = Context(required_tags=tuple(config.get("requiredTags") or Context.required_tags), secrets_marked=False)
        for message in policy.validate(args.resource_type, dict(args.props), ctx):
            report_violation(message, None)

    return validate


def crossguard_stack_validator(policy: StackPolicy) -> Callable[[StackValidationArgs, ReportViolation], None]:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        urns = {r.name: r.urn for r in args.resources}
        resources = [StackResource(r.resource_type, r.name, dict(r.props)) for r in args.resources]
        for name, message in policy.validate(resources):
            report_violation(message, urns.get(name))

    return validate


def crossguard_policies() -> list[CrossGuardPolicy]:
    stack: list[CrossGuardPolicy] = [
        StackValidationPolicy(
            name=p.name,
            description=p.description,
            validate=crossguard_stack_validator(p),
            enforcement_level=EnforcementLevel.MANDATORY if p.mandatory else EnforcementLevel.ADVISORY,
            config_schema=CONFIG_SCHEMA,
        )
        for p in STACK_POLICIES
    ]
    return stack + [
        ResourceValidationPolicy(
            name=p.name,
            description=p.description,
            validate=crossguard_validator(p),
            enforcement_level=EnforcementLevel.MANDATORY if p.mandatory else EnforcementLevel.ADVISORY,
            config_schema=CONFIG_SCHEMA,
        )
        for p in POLICIES
    ]
