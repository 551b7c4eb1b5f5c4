"""What every cloud program shares: labels and tags, secret-store names, the uploaded config object."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

import pulumi

from gatekit.config import Environment
from gatekit.render.env import render_environment
from gatekit.render.litellm import DATABASE_URL_ENV
from gatekit.render.sync_document import CONTENT_TYPE, DOCUMENT_NAME, sync_document

REDIS_URL_ENV = "REDIS_URL"
CONFIG_OBJECT = DOCUMENT_NAME
CONFIG_CONTENT_TYPE = CONTENT_TYPE
MANAGED_BY = "gatekit"


@dataclass
class Ctx:
    """What every cloud helper needs: the environment, the logical name prefix, labels and resource options."""

    env: Environment
    name: str
    labels: dict[str, str]  # GCP labels or Azure tags
    opts: pulumi.ResourceOptions

    def after(self, *deps: pulumi.Resource) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions.merge(self.opts, pulumi.ResourceOptions(depends_on=list(deps)))

    def child(self, parent: pulumi.Resource) -> Ctx:
        """This context for a unit's children: parented to the unit. The alias keeps the address each child had at
        the stack's root before units existed, so an `up` of an existing stack moves it instead of replacing it."""
        moved = pulumi.ResourceOptions(parent=parent, aliases=[pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE)])
        return replace(self, opts=pulumi.ResourceOptions.merge(self.opts, moved))


class Unit(pulumi.ComponentResource):
    """One deployable unit of a cloud program (network, cluster, database, ...): a component named
    `<prefix>-<suffix>` whose resources are its children (`self.ctx`), so the stack's resource tree shows the units
    and their logical names stay relative to the deployment's prefix."""

    def __init__(self, kind: str, ctx: Ctx, suffix: str) -> None:
        super().__init__(f"gatekit:{kind}", f"{ctx.name}-{suffix}", None, None)
        self.ctx = ctx.child(self)


def tags(env: Environment) -> dict[str, str]:
    """Azure tags: the environment's tags plus who manages the resource."""
    return {**env.tags, "managed-by": MANAGED_BY, "gatekit-environment": env.name}


def gcp_labels(env: Environment) -> dict[str, str]:
    """GCP labels: lowercase keys and values of [a-z0-9_-], at most 63 characters, keys starting with a letter."""

    def clean(text: str) -> str:
        return re.sub(r"[^a-z0-9_-]+", "-", text.lower())[:63].strip("-")

    return {clean(k): clean(v) for k, v in tags(env).items() if clean(k) and clean(k)[0].isalpha()}


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def managed_secret_env(env: Environment) -> list[str]:
    """Secret variables the deployment itself creates (managed database and cache URLs)."""
    out: list[str] = []
    if env.database.enabled and env.database.url is None:
        out.append(DATABASE_URL_ENV)
    if env.cache.enabled and env.cache.url is None:
        out.append(REDIS_URL_ENV)
    return out


def store_secret_names(env: Environment, extra: Iterable[str] = ()) -> dict[str, str]:
    """env var -> the secret's name in the cloud store: `<prefix>-<reference name>` (no fixed physical names)."""
    prefix = env.deployment.prefix
    out: dict[str, str] = {}
    for var, ref in render_environment(env).secrets.items():
        base = f"{ref.secret}-{ref.key}" if ref.secret and ref.key else ref.secret or var
        out[var] = f"{prefix}-{slug(base.rsplit(':', 1)[-1] if base.startswith('arn:') else base)}"
    for var in extra:
        out[var] = f"{prefix}-{slug(var)}"
    return out


def config_document(env: Environment) -> str:
    """The document every replica syncs from the config bucket/container (gatekit.render.sync_document)."""
    return sync_document(env).text


# Pulumi config namespace of the secrets the operator supplies (`pulumi config set --secret gatekit-secrets:VAR`).
OPERATOR_SECRETS = "gatekit-secrets"


def operator_secret_vars(env: Environment, generated: Iterable[str] = ()) -> list[str]:
    """Secret variables the deployment cannot generate (master key, salt key, provider keys, BYO URLs)."""
    skip = {*generated, *managed_secret_env(env)}
    return sorted(var for var in render_environment(env).secrets if var not in skip)


def operator_secrets(env: Environment, generated: Iterable[str] = ()) -> dict[str, pulumi.Output[str]]:
    """Their values, from the stack's secret config: `up` stores them in the cloud store, so the first install
    converges (an empty secret would leave the pods unable to start). A missing one fails the `up` loudly."""
    cfg = pulumi.Config(OPERATOR_SECRETS)
    out: dict[str, pulumi.Output[str]] = {}
    missing: list[str] = []
    for var in operator_secret_vars(env, generated):
        value = cfg.get_secret(var)
        if value is None:
            missing.append(var)
        else:
            out[var] = value
    if missing:
        sets = "; ".join(f"pulumi config set --secret {OPERATOR_SECRETS}:{var} ..." for var in missing)
        raise pulumi.RunError(f"environment `{env.name}` needs these secrets in the stack config: {sets}")
    return out
