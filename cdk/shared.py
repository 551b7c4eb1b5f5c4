"""Small building blocks shared by the stacks: customer-managed KMS keys and CloudWatch log groups."""

from __future__ import annotations

from typing import TypedDict, TypeVar, cast

from aws_cdk import Environment as CdkEnvironment
from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk.props import Basics
from gatekit.config import Environment

T = TypeVar("T")


class StackOptions(TypedDict, total=False):
    """The `Stack` props app_builder passes to every stack (only app.py/app_builder read CDK context)."""

    env: CdkEnvironment
    description: str


def as_interface(obj: object, interface: type[T]) -> T:
    """`obj` as the jsii interface its class declares. pyright rejects many CDK classes as their own interfaces
    because the TypeScript source renamed a method parameter (Key.add_alias(alias_name) vs IKey.add_alias(alias):
    jsii issue 4541, open); this checks the class really declares the interface (`jsii.implements`) and fails loudly
    otherwise, instead of a bare cast."""
    declared = getattr(type(obj), "__jsii_ifaces__", [])
    if not any(interface in getattr(i, "__mro__", ()) for i in declared):
        raise TypeError(f"{type(obj).__name__} does not implement {interface.__name__}")
    return cast(T, obj)


def service_principal(service: str) -> iam.IPrincipal:
    return as_interface(iam.ServicePrincipal(service), iam.IPrincipal)


# CloudWatch Logs accepts only these retention periods (days).
_RETENTION: tuple[tuple[int, str], ...] = (
    (1, "ONE_DAY"),
    (3, "THREE_DAYS"),
    (5, "FIVE_DAYS"),
    (7, "ONE_WEEK"),
    (14, "TWO_WEEKS"),
    (30, "ONE_MONTH"),
    (60, "TWO_MONTHS"),
    (90, "THREE_MONTHS"),
    (120, "FOUR_MONTHS"),
    (150, "FIVE_MONTHS"),
    (180, "SIX_MONTHS"),
    (365, "ONE_YEAR"),
    (400, "THIRTEEN_MONTHS"),
    (545, "EIGHTEEN_MONTHS"),
    (731, "TWO_YEARS"),
    (1096, "THREE_YEARS"),
    (1827, "FIVE_YEARS"),
    (2192, "SIX_YEARS"),
    (2557, "SEVEN_YEARS"),
    (2922, "EIGHT_YEARS"),
    (3288, "NINE_YEARS"),
    (3653, "TEN_YEARS"),
)


def retention(days: int) -> logs.RetentionDays:
    """The shortest CloudWatch retention that keeps logs for at least `days`."""
    for allowed, name in _RETENTION:
        if allowed >= days:
            return logs.RetentionDays[name]
    return logs.RetentionDays.TEN_YEARS


def removal_policy(env: Environment) -> RemovalPolicy:
    """Data outlives its stack unless the environment opted out of deletion protection (dev)."""
    return RemovalPolicy.RETAIN if env.database.deletion_protection else RemovalPolicy.DESTROY


def basics_of(env: Environment) -> Basics:
    """The props every stack shares (cdk.props.Basics), from the environment."""
    return Basics(
        prefix=env.deployment.prefix,
        removal=removal_policy(env),
        log_retention_days=env.observability.log_retention_days,
    )


def encryption_key(
    scope: Construct, construct_id: str, basics: Basics, purpose: str, *, for_logs: bool = False
) -> kms.IKey:
    """A customer-managed key with rotation. `for_logs` lets CloudWatch Logs of this account and region use it."""
    key = kms.Key(
        scope,
        construct_id,
        enable_key_rotation=True,
        description=f"{basics.prefix}: {purpose}",
        removal_policy=basics.removal,
    )
    if for_logs:
        stack = Stack.of(scope)
        logs_arn = f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:*"
        key.add_to_resource_policy(
            iam.PolicyStatement(
                actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                principals=[service_principal(f"logs.{stack.region}.amazonaws.com")],
                resources=["*"],
                conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": logs_arn}},
            )
        )
    return as_interface(key, kms.IKey)


def log_group(scope: Construct, construct_id: str, basics: Basics, key: kms.IKey) -> logs.LogGroup:
    return logs.LogGroup(
        scope,
        construct_id,
        encryption_key=key,
        retention=retention(basics.log_retention_days),
        removal_policy=basics.removal,
    )
