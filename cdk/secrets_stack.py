"""Secrets: one Secrets Manager secret (customer-managed KMS key) per secret reference the gateway process reads.

Every `SecretRef` in `render_environment(env).secrets` becomes a secret created by this stack, or is imported when the
reference is an ARN. Created secrets start with a random value; provider keys are then set by the operator
(`aws secretsmanager put-secret-value`, see docs/aws.md). Values never appear in a template.

Created secrets have a fixed name (`<prefix>/<name>`), and consuming stacks import them by that name (or by the
configured ARN), never through a cross-stack reference: a CloudFormation export still imported by the gateway stack
cannot be removed, so dropping a secret from the config would otherwise fail `cdk deploy --all` at the secrets
stack."""

from __future__ import annotations

import re
from typing import Unpack

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_secretsmanager as sm
from constructs import Construct

from cdk.policy import suppress_nag
from cdk.props import InjectedSecret, SecretsProps
from cdk.shared import StackOptions, as_interface, encryption_key

COMPLETE_ARN = re.compile(r"-[A-Za-z0-9]{6}$")


class SynthError(ValueError):
    """The environment cannot be rendered for AWS (a clear message, never a traceback for the user)."""


__all__ = ["InjectedSecret", "SecretsStack", "SynthError", "import_for_task", "secret_name"]


def secret_name(prefix: str, name: str) -> str:
    """The fixed Secrets Manager name of a secret this kit creates."""
    return f"{prefix}/{name}"


def import_for_task(scope: Construct, construct_id: str, locator: str) -> sm.ISecret:
    """Import a secret of another stack by its ARN or fixed name (no `Fn::ImportValue`, no key).

    Granting a role of the consuming stack through the original construct would write that role into the owning
    stack's KMS key policy (a cross-stack cycle). The keys trust their account's IAM policies, so consumers get
    `kms:Decrypt` through their own role policy instead (see `grant_decrypt_via_secrets_manager`).
    """
    if not locator.startswith("arn:"):
        return sm.Secret.from_secret_name_v2(scope, construct_id, locator)
    if COMPLETE_ARN.search(locator):
        return sm.Secret.from_secret_complete_arn(scope, construct_id, locator)
    return sm.Secret.from_secret_partial_arn(scope, construct_id, locator)


def _construct_id(name: str) -> str:
    return "Secret" + "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", name) if part)


class SecretsStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, props: SecretsProps, **kwargs: Unpack[StackOptions]
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.props = props
        self.key = encryption_key(self, "SecretsKey", props.basics, "gateway secrets")
        self.secrets_by_name: dict[str, sm.ISecret] = {}
        self.injected: list[InjectedSecret] = []
        for env_var, ref in sorted(props.secrets.items()):
            if ref.secret is None:
                raise SynthError(
                    f"secret `{env_var}` is `{ref.describe()}`: AWS targets read secrets from Secrets Manager; "
                    "use `{secret: NAME}` (created by the stack) or `{secret: arn:aws:secretsmanager:…}`"
                )
            locator = ref.secret if ref.secret.startswith("arn:") else secret_name(props.basics.prefix, ref.secret)
            self.injected.append(
                InjectedSecret(env_var=env_var, ref=ref, secret=self._secret(ref.secret), locator=locator)
            )

    def _secret(self, name: str) -> sm.ISecret:
        basics = self.props.basics
        if name in self.secrets_by_name:
            return self.secrets_by_name[name]
        cid = _construct_id(name)
        if name.startswith("arn:"):
            secret = (
                sm.Secret.from_secret_complete_arn(self, cid, name)
                if COMPLETE_ARN.search(name)
                else sm.Secret.from_secret_partial_arn(self, cid, name)
            )
        else:
            created = sm.Secret(
                self,
                cid,
                secret_name=secret_name(basics.prefix, name),
                description=f"{basics.prefix} gateway secret `{name}` (set the value after the first deploy)",
                encryption_key=self.key,
                generate_secret_string=sm.SecretStringGenerator(password_length=48, exclude_punctuation=True),
                removal_policy=basics.removal,
            )
            suppress_nag(
                created,
                "AwsSolutions-SMG4",
                "Gateway API and provider keys are issued outside AWS; they are rotated by the operator "
                "(put-secret-value + ECS redeploy, docs/aws.md), not by a rotation Lambda.",
            )
            CfnOutput(self, f"{cid}Arn", value=created.secret_arn, description=f"Secrets Manager ARN of `{name}`")
            secret = as_interface(created, sm.ISecret)
        self.secrets_by_name[name] = secret
        return secret
