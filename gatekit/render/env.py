"""The gateway process environment: plain variables, and which variable each secret reference fills.

Deployment renderers inject `secrets` through their secret mechanism (ECS `secrets`, k8s `secretKeyRef`, …);
values never appear in a template, a manifest, state or a log.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gatekit.config import Environment
from gatekit.config.secrets import SecretRef
from gatekit.render.agents import agent_plain_env, agent_secrets
from gatekit.render.litellm import DATABASE_URL_ENV
from gatekit.render.litellm_surface import callback_environment
from gatekit.render.offline import OFFLINE_ENV, is_offline

# The bootstrap contract: the only gatekit settings a deployment passes as variables. The replica reads its config
# document from GATEKIT_CONFIG_SOURCE/GATEKIT_CONFIG_URI at start (gatekit.runtime.bootstrap) and takes every other
# setting (drain budget, backpressure, sync interval, …) from that document, never from a variable.
BOOTSTRAP_ENV = ("GATEKIT_ENV", "GATEKIT_CONFIG_SOURCE", "GATEKIT_CONFIG_URI")


@dataclass
class GatewayEnvironment:
    plain: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, SecretRef] = field(default_factory=dict)

    def dotenv(self) -> str:
        lines = [f"{k}={v}" for k, v in sorted(self.plain.items())]
        lines += [f"# {k} <- {ref.describe()}" for k, ref in sorted(self.secrets.items())]
        return "\n".join(lines) + "\n"


def _litellm_switches(env: Environment) -> dict[str, str]:
    """No outbound fetches from LiteLLM at start-up anywhere (cost map, beta headers, presets, templates ship with
    it; telemetry and update checks stay off). Isolated networks also never reach the Hugging Face hub."""
    switches = {k: v for k, v in OFFLINE_ENV.items() if k.startswith(("LITELLM_", "PRISMA_", "CHECKPOINT_"))}
    if is_offline(env):
        switches.update(OFFLINE_ENV)
    return {**switches, "JSON_LOGS": "True"}


def render_environment(env: Environment) -> GatewayEnvironment:
    gw = env.gateway
    out = GatewayEnvironment()
    out.plain.update(_litellm_switches(env))
    out.plain.update(
        {
            "GATEKIT_ENV": env.name,
            "GATEKIT_CONFIG_SOURCE": gw.config_sync.source,
            "LITELLM_LOG": env.observability.litellm_log_level,  # render/litellm_throughput.py
        }
    )
    if gw.config_sync.uri:
        out.plain["GATEKIT_CONFIG_URI"] = gw.config_sync.uri
    if not env.database.enabled:
        out.plain["DISABLE_ADMIN_UI"] = "True"
    obs = env.observability
    if obs.otlp_endpoint:
        out.plain.update(
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": obs.otlp_endpoint,
                "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
                "OTEL_SERVICE_NAME": f"{env.deployment.prefix}-gateway",
                "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
                "OTEL_TRACES_SAMPLER_ARG": str(obs.traces_sample_ratio),
                "OTEL_PROPAGATORS": "xray,tracecontext,baggage" if obs.xray else "tracecontext,baggage",
            }
        )
    if gw.caching.enabled and gw.caching.backend == "redis":
        out.plain["REDIS_SSL"] = "True"

    out.secrets[env.secrets.master_key.env_var] = env.secrets.master_key
    if env.secrets.salt_key is not None:
        out.secrets["LITELLM_SALT_KEY"] = env.secrets.salt_key
    if env.database.url is not None:
        out.secrets[DATABASE_URL_ENV] = env.database.url
    if env.cache.url is not None:
        out.secrets["REDIS_URL"] = env.cache.url
    for model in gw.models:
        if model.litellm_params is not None:
            for ref in model.litellm_params.secret_refs().values():
                out.secrets[ref.env_var] = ref
    out.plain.update(agent_plain_env(env))  # agent gateways (gatekit/render/agents.py)
    out.secrets.update(agent_secrets(env))
    callback_plain, callback_secrets = callback_environment(env)  # gatekit/render/litellm_surface.py
    out.plain.update(callback_plain)
    out.secrets.update(callback_secrets)
    return out
