"""Render agent gateways (gateway.mcp_servers, gateway.agents, gateway.access_groups) into LiteLLM's own settings:
top-level `mcp_servers` and `agents` of the proxy config, the secrets they read, and the `object_permission` a
virtual key or team needs to use them."""

from __future__ import annotations

import hashlib
from typing import Any

from gatekit.config import Environment
from gatekit.config.agents import A2aAgent, McpServer
from gatekit.config.secrets import SecretRef

# Trace headers LiteLLM forwards from the caller to MCP servers and agents. gatekit's agent observer rewrites
# `traceparent` to its own span before LiteLLM sees the request, so the peer's spans nest under the gateway's.
TRACE_HEADERS = ["traceparent", "tracestate", "baggage", "x-amzn-trace-id"]
MCP_AUTH_TYPES = {
    "bearer": "bearer_token",
    "api_key": "api_key",
    "basic": "basic",
    "authorization": "authorization",
    "token": "token",
}
STDIO_SWITCH = "LITELLM_ENABLE_MCP_STDIO"
# LiteLLM treats a key with no agent restriction as unrestricted. A key gatekit renders always carries an explicit
# list; a key in no agent's group gets this id, which no agent has, so it sees none.
NO_AGENT = "gatekit-no-agent"
NO_MCP_GROUP = "gatekit-no-mcp-group"


def _mcp_server(name: str, server: McpServer) -> dict[str, Any]:
    out: dict[str, Any] = {"transport": server.transport}
    if server.description:
        out["description"] = server.description
    if server.transport == "stdio":
        out["command"] = server.command
        out["args"] = list(server.args)
    else:
        out["url"] = server.url
        out["extra_headers"] = list(TRACE_HEADERS)
    if server.auth is not None:
        out["auth_type"] = MCP_AUTH_TYPES[server.auth.type]
        out["authentication_token"] = server.auth.secret.litellm_ref
    if server.allowed_tools is not None:
        out["allowed_tools"] = list(server.allowed_tools)
    if server.access_groups:
        out["access_groups"] = list(server.access_groups)
    out["allow_all_keys"] = server.public
    if server.timeout_seconds is not None:
        out["timeout"] = server.timeout_seconds
    out["mcp_info"] = {"server_name": name, "description": server.description, "gatekit_server": name}
    return out


def mcp_servers(env: Environment) -> dict[str, dict[str, Any]]:
    return {name: _mcp_server(name, s) for name, s in env.gateway.mcp_servers.items()}


def agent_id(name: str) -> str:
    """The id LiteLLM gives an agent declared in its config (sha256 of the name; stable across restarts)."""
    return hashlib.sha256(name.encode()).hexdigest()


def _agent_card(name: str, agent: A2aAgent) -> dict[str, Any]:
    card: dict[str, Any] = {
        "name": name,
        "description": agent.description or name,
        "url": agent.base_url,
        "version": "1.0.0",
        "protocolVersion": agent.protocol_version,
        "capabilities": {
            "streaming": agent.capabilities.streaming,
            "pushNotifications": agent.capabilities.push_notifications,
        },
        "defaultInputModes": ["text"],
        "defaultOutputModes": ["text"],
        "skills": [s.model_dump() for s in agent.skills],
    }
    if agent.card is not None:
        card.update(agent.card)
        card["url"] = agent.base_url
    return card


def _agent(name: str, agent: A2aAgent) -> dict[str, Any]:
    out: dict[str, Any] = {
        "agent_name": name,
        "agent_card_params": _agent_card(name, agent),
        "litellm_params": {"gatekit_agent": name},
        "extra_headers": list(TRACE_HEADERS),
    }
    if agent.card_path is not None:
        out["litellm_params"]["agent_card_path"] = agent.card_path
    if agent.auth is not None:
        out["static_headers"] = {agent.auth.header: agent.auth.value.litellm_ref}
    return out


def agents(env: Environment) -> list[dict[str, Any]]:
    return [_agent(name, a) for name, a in env.gateway.agents.items()]


def add_agent_gateways(env: Environment, config: dict[str, Any]) -> None:
    """Add `mcp_servers` and `agents` to a rendered LiteLLM config (only when configured)."""
    if env.gateway.mcp_servers:
        config["mcp_servers"] = mcp_servers(env)
    if env.gateway.agents:
        config["agents"] = agents(env)


def agent_secrets(env: Environment) -> dict[str, SecretRef]:
    """Environment variable -> secret reference for every credential of an MCP server or agent."""
    refs: list[SecretRef] = [s.auth.secret for s in env.gateway.mcp_servers.values() if s.auth is not None]
    refs += [a.auth.value for a in env.gateway.agents.values() if a.auth is not None]
    return {ref.env_var: ref for ref in refs}


def agent_plain_env(env: Environment) -> dict[str, str]:
    """Plain variables the gateway needs for its agent gateways (LiteLLM refuses stdio servers unless switched on)."""
    if any(s.transport == "stdio" for s in env.gateway.mcp_servers.values()):
        return {STDIO_SWITCH: "true"}
    return {}


def groups_of(env: Environment, key_alias: str | None = None, team: str | None = None) -> list[str]:
    def member(keys: list[str], teams: list[str]) -> bool:
        return bool((key_alias and key_alias in keys) or (team and team in teams))

    return sorted(g for g, m in env.gateway.access_groups.items() if member(m.keys, m.teams))


def object_permission(env: Environment, key_alias: str | None = None, team: str | None = None) -> dict[str, Any]:
    """The `object_permission` to send with `/key/generate` (or `/team/new`) so the key or team sees exactly the MCP
    servers and agents of its access groups, plus the public ones."""
    groups = set(groups_of(env, key_alias, team))
    gw = env.gateway
    mcp_groups = sorted({g for s in gw.mcp_servers.values() for g in s.access_groups} & groups)
    allowed_agents = sorted(
        agent_id(name) for name, a in gw.agents.items() if a.public or groups & set(a.access_groups)
    )
    return {
        "mcp_access_groups": mcp_groups or [NO_MCP_GROUP],
        "agents": allowed_agents or [agent_id(NO_AGENT)],
    }
