"""Parity gates for the agent gateways (appended to gatekit.runtime.gates.GATES): every MCP server and A2A agent
the gateway serves is reachable and healthy from the gateway itself. Skipped when none is configured."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gatekit.runtime.gates import GateRunner


def mcp_servers(runner: GateRunner) -> str:
    from gatekit.runtime.gates import GateFailure, SkipGate, status_is

    r = runner.client.get("/v1/mcp/server", headers=runner.auth)
    status_is(r, 200)
    servers = {s["server_id"]: s.get("server_name") or s["server_id"] for s in r.json()}
    if not servers:
        raise SkipGate("no MCP server configured")
    r = runner.client.get("/v1/mcp/server/health", headers=runner.auth)
    status_is(r, 200)
    status = {h["server_id"]: h.get("status") for h in r.json()}
    bad = sorted(
        f"{name} ({status.get(sid, 'no health result')})"
        for sid, name in servers.items()
        if status.get(sid) != "healthy"
    )
    if bad:
        raise GateFailure(f"unhealthy MCP servers: {', '.join(bad)}")
    r = runner.client.get("/v1/mcp/tools", headers=runner.auth)
    status_is(r, 200)
    tools = r.json().get("tools", [])
    return f"{len(servers)} healthy ({', '.join(sorted(servers.values()))}); {len(tools)} tools"


def agents(runner: GateRunner) -> str:
    from gatekit.runtime.gates import GateFailure, SkipGate, status_is

    r = runner.client.get("/v1/agents", headers=runner.auth)
    status_is(r, 200)
    names = sorted(a["agent_name"] for a in r.json())
    if not names:
        raise SkipGate("no A2A agent configured")
    r = runner.client.get("/v1/agents", params={"health_check": "true"}, headers=runner.auth)
    status_is(r, 200)
    reachable = {a["agent_name"] for a in r.json()}
    unreachable = [n for n in names if n not in reachable]
    if unreachable:
        raise GateFailure(f"unreachable agents: {', '.join(unreachable)}")
    for name in names:
        card = runner.client.get(f"/a2a/{name}/.well-known/agent-card.json", headers=runner.auth)
        status_is(card, 200)
        if not card.json().get("url", "").rstrip("/").endswith(f"/a2a/{name}"):
            raise GateFailure(f"agent `{name}`: its card does not point at the gateway")
    return f"{len(names)} reachable ({', '.join(names)}); cards served through the gateway"
