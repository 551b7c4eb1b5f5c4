"""Agent gateways through a rehearsed target: the real MCP server and A2A agent (tests/agents/peers.py) configured on
the environment, their credentials in the target's secret store (the operator's values), and a probe that runs the
access-group flows (tests/agents/tenancy.py) against the rehearsal's replicas — which run the document synced the
way the target syncs it — while they are up, then `gatekit validate`'s agent gates."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gatekit.config import Environment, load_environment
from gatekit.config.secrets import SecretRef
from gatekit.rehearse.processes import Running
from gatekit.rehearse.report import Report
from gatekit.rehearse.session import Shared
from gatekit.runtime import gates
from tests.agents.conftest import PEER_SECRETS, Peer, agent_peer_env, gateway_overrides, launch_peer, wait_peer
from tests.agents.tenancy import run_tenancy

CHECK = "agent_gateways"


@dataclass
class RehearsalAgents:
    mcp: Peer
    agent: Peer
    spare: Peer
    overrides: list[str]
    operator_values: dict[str, str]

    def peer_seen(self) -> int:
        return len(self.mcp.seen()) + len(self.agent.seen())

    def probe(self, report: Report, replicas: list[Running], master_key: str, env: Environment) -> None:
        for peer in (self.mcp, self.agent, self.spare):  # started with the rehearsal, ready long before its replicas
            wait_peer(peer)
        started = time.monotonic()
        try:
            evidence: dict[str, Any] = run_tenancy([r.base_url for r in replicas], master_key, env, self.peer_seen)
            results = {r.gate: r for r in gates.run_gates(replicas[0].base_url, master_key, 120)}
            for gate in ("mcp-servers", "agents"):
                assert results[gate].status == "PASS", (gate, results[gate])
                evidence[gate] = results[gate].detail
        except AssertionError as exc:
            report.add(CHECK, False, error=str(exc)[:4000])
            return
        report.add(CHECK, True, seconds=round(time.monotonic() - started, 1), **evidence)


def agent_overrides(env_name: str, mcp: Peer, agent: Peer, spare: Peer, config_dir: Path) -> list[str]:
    """The peers as store-secret-authenticated servers of `env_name`, with their client paths exposed."""
    paths = [*load_environment(env_name, config_dir).gateway.exposure.paths, "/mcp", "/mcp/*", "/a2a/*"]
    return [f"gateway.exposure.paths={json.dumps(paths)}", *gateway_overrides(mcp, agent, spare, store=True)]


@contextmanager
def rehearsal_agents(shared: Shared, env_name: str, workdir: Path) -> Iterator[RehearsalAgents]:
    """Peers started (the probe waits for them); rehearse `env_name` with `.overrides` inside the block."""
    peers = [launch_peer(kind, workdir) for kind in ("mcp", "a2a", "mcp")]
    try:
        mcp, agent, spare = peers
        # The operator's secrets: the store variable of each peer's `{secret: …}` reference -> its credential.
        by_local = agent_peer_env(mcp, agent, spare)
        values = {
            SecretRef(secret=var.lower().replace("_", "-")).env_var: by_local[var] for var in PEER_SECRETS.values()
        }
        overrides = agent_overrides(env_name, mcp, agent, spare, shared.config_dir)
        agents = RehearsalAgents(mcp, agent, spare, overrides, values)
        with shared.extras([agents.probe], values):  # for the rehearsal run inside this block
            yield agents
    finally:
        for peer in peers:
            peer.stop()
