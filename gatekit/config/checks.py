"""Cross-field rules that a single field's type cannot express. Each returns (dotted path, message)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from gatekit.config.agents import check_agent_gateways
from gatekit.config.environment import AWS_TARGETS, Environment
from gatekit.config.estate_checks import check_estate
from gatekit.config.semantic_cache import semantic_cache_findings
from gatekit.config.sizing import check_database_pool, check_sizing
from gatekit.config.timings import TARGET_STOP_LIMIT, DrainTimings

# `ssm`: the ADOT collector sidecar reads its config from Parameter Store (without it, it would run a config that
# scrapes nothing gatekit emits).
ISOLATED_REQUIRED_ENDPOINTS = ("s3", "secretsmanager", "ecr.api", "ecr.dkr", "logs", "ssm")

Finding = tuple[str, str]


def check_environment(env: Environment) -> list[Finding]:
    from gatekit.config.database_ca import database_ca_findings  # security (issue 12)
    from gatekit.config.gcp_ranges import gcp_range_findings  # security (issue 12)
    from gatekit.config.network_access import network_access_findings  # security (issue 12)
    from gatekit.config.platform_checks import platform_findings  # security (issue 12)
    from gatekit.config.tls_checks import tls_findings  # security (issue 12)

    found = [*_models_and_tiers(env), *_routing(env), *_platform(env), *_sizes(env), *_tags(env), *tls_findings(env)]
    found += platform_findings(env)
    found += network_access_findings(env)  # a public listener names its clients (issue 12)
    found += gcp_range_findings(env)  # the GKE proxy-only subnet is private and clear of the other ranges
    found += database_ca_findings(env)  # AWS: verify-full against the operator's RDS bundle (issue 12)
    found += check_sizing(env)  # workers vs vCPUs and memory (config/sizing.py)
    found += check_database_pool(env)  # database pool per process (config/sizing.py)
    found += check_estate(env)  # architecture, Bedrock kept private, existing VPC (config/estate_checks.py)
    found += _tenants(env)  # tenancy as code (config/tenants.py)
    return [*found, *check_agent_gateways(env)]  # MCP servers and agents (config/agents.py)


def _tenants(env: Environment) -> Iterator[Finding]:
    from gatekit.config.tenants import tenants_findings

    gw = env.gateway
    names = {m.model_name for m in gw.models} | set(gw.tiers)
    if gw.routing.ml.enabled:
        names.add(gw.routing.ml.alias)
    ml = gw.routing.ml
    yield from tenants_findings(env.tenants, names, env.database.enabled, (ml.team_profiles, ml.key_profiles))


def _models_and_tiers(env: Environment) -> Iterator[Finding]:
    gw = env.gateway
    counts = Counter(m.model_name for m in gw.models)
    seen: set[str] = set()
    for i, model in enumerate(gw.models):
        if counts[model.model_name] > 1 and model.model_name in seen:
            yield f"gateway.models.{i}.model_name", f"duplicate model name `{model.model_name}`"
        seen.add(model.model_name)
        if model.tier is not None and model.tier not in gw.tiers:
            yield f"gateway.models.{i}.tier", f"unknown tier `{model.tier}`; tiers are {', '.join(sorted(gw.tiers))}"
        if model.model_name in gw.tiers:
            yield f"gateway.models.{i}.model_name", f"`{model.model_name}` is a tier name; tiers are model groups"
    for tier in gw.tiers:
        if not gw.models_in_tier(tier):
            yield f"gateway.tiers.{tier}", f"tier `{tier}` has no model; add a model with `tier: {tier}`"


def _routing(env: Environment) -> Iterator[Finding]:
    gw = env.gateway
    callable_names = {m.model_name for m in gw.models} | set(gw.tiers)
    for source, targets in gw.routing.fallbacks.items():
        if source not in callable_names:
            yield f"gateway.routing.fallbacks.{source}", f"`{source}` is not a tier or model"
        for j, target in enumerate(targets):
            if target not in callable_names:
                yield f"gateway.routing.fallbacks.{source}.{j}", f"`{target}` is not a tier or model"
    if gw.routing.ml.enabled and gw.routing.ml.alias in callable_names:
        yield "gateway.routing.ml.alias", f"`{gw.routing.ml.alias}` is already a tier or model name"
    yield from semantic_cache_findings(gw.caching.backend, gw.caching.enabled, env.target)
    if gw.caching.enabled and gw.caching.backend == "redis" and not (env.cache.enabled or env.cache.url):
        yield "gateway.caching.backend", "`redis` needs `cache.enabled: true` or `cache.url`"
    sync = gw.config_sync
    wants = {"s3": AWS_TARGETS | {"moat"}, "gcs": {"gcp"}, "azure-blob": {"azure"}}
    if sync.source in wants and env.target not in wants[sync.source] and not sync.uri:
        yield "gateway.config_sync.uri", f"source `{sync.source}` on target `{env.target}` needs an explicit uri"


def _platform(env: Environment) -> Iterator[Finding]:
    target = env.target
    if target in AWS_TARGETS | {"moat"} and env.aws is None:
        yield "aws", f"target `{target}` needs an `aws:` block with `region`"
    if target == "gcp" and env.gcp is None:
        yield "gcp", "target `gcp` needs a `gcp:` block with `project` and `region`"
    if target == "azure" and env.azure is None:
        yield "azure", "target `azure` needs an `azure:` block with `location`"
    if target == "moat" and env.network.mode != "isolated":
        yield "network.mode", "target `moat` runs with no internet route; set `mode: isolated`"
    if env.network.mode == "isolated" and target != "local":
        missing = [e for e in ISOLATED_REQUIRED_ENDPOINTS if e not in env.network.endpoints]
        if missing:
            yield "network.endpoints", f"isolated mode needs VPC endpoints for {', '.join(missing)}"
    limit = TARGET_STOP_LIMIT.get(target)
    if limit is not None:
        total = DrainTimings.from_drain(env.gateway.drain).platform_total(target)
        maximum, why = limit
        if total > maximum:
            yield (
                "gateway.drain.budget_seconds",
                f"drain budget {env.gateway.drain.budget_seconds} s gives a shutdown of {total} s on `{target}`, "
                f"longer than the platform allows ({why})",
            )
    if env.database.enabled and target in ("local", "k8s") and env.database.url is None:
        yield "database.url", f"target `{target}` brings its own database: set `database.url` to a secret reference"
    if env.gateway.demo_provider.enabled and target not in ("local", "moat"):
        yield "gateway.demo_provider.enabled", "the demo provider is for local and moat test installs only"


def _sizes(env: Environment) -> Iterator[Finding]:
    r = env.compute.replicas
    if not r.min <= r.desired <= r.max:
        yield "compute.replicas", f"need min <= desired <= max (got {r.min}, {r.desired}, {r.max})"
    if env.database.max_capacity_acu < env.database.min_capacity_acu:
        yield "database.max_capacity_acu", "must be >= min_capacity_acu"


def _tags(env: Environment) -> Iterator[Finding]:
    for tag in env.required_tags:
        if not env.tags.get(tag):
            yield f"tags.{tag}", f"required tag `{tag}` is missing (required_tags: {', '.join(env.required_tags)})"
    for key, value in env.tags.items():
        if len(key) > 128 or len(value) > 256:
            yield f"tags.{key}", "tag keys are at most 128 characters and values at most 256"
