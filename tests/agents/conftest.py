"""Real peers (an MCP server on the official MCP SDK, an A2A agent on the A2A SDK) and one gateway started exactly
as `make up` runs it (`gatekit up --env local`), configured with them, shared by the end-to-end tests."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import REPO, GatewayFactory, GatewayHandle, free_port


@dataclass
class Peer:
    kind: str
    port: int
    token: str
    proc: subprocess.Popen[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def seen(self) -> list[dict[str, str]]:
        r = httpx.get(self.url + "/seen", timeout=10)
        r.raise_for_status()
        return list(r.json())

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def launch_peer(kind: str, workdir: Path) -> Peer:
    port, token = free_port(), "peer-" + secrets.token_hex(8)
    log_path = workdir / f"{kind}-{port}.log"
    cmd = [sys.executable, "-m", "tests.agents.peers", kind, "--port", str(port)]
    with log_path.open("wb") as log:
        env = {"PATH": "/usr/bin:/bin", "PEER_TOKEN": token}
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    return Peer(kind, port, token, proc, log_path)


def wait_peer(peer: Peer, timeout: float = 600) -> None:  # generous: a loaded machine imports slowly
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if peer.proc.poll() is not None:
            raise RuntimeError(f"{peer.kind} peer exited:\n{peer.log_path.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(peer.url + "/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{peer.kind} peer not ready in {timeout} s")


@dataclass
class AgentGateway:
    handle: GatewayHandle
    mcp: Peer
    agent: Peer
    spare: Peer  # a second MCP server the validate test stops on purpose
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.handle.url

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.handle.key}"}


# The peers' credentials: environment variables locally, store secrets (`{secret: …}`) on a deployed target.
PEER_SECRETS = {
    "mcp": "AGENTS_TEST_MCP_TOKEN",
    "spare": "AGENTS_TEST_SPARE_TOKEN",
    "agent": "AGENTS_TEST_AGENT_AUTH",
}


def _ref(which: str, store: bool) -> str:
    name = PEER_SECRETS[which]
    return f"{{secret: {name.lower().replace('_', '-')}}}" if store else f"{{env: {name}}}"


def gateway_overrides(mcp: Peer, agent: Peer, spare: Peer, store: bool = False) -> list[str]:
    return [
        "gateway.access_groups={research: {keys: [alice], teams: [t-research]}, ops: {keys: [bob]}}",
        "gateway.mcp_servers={"
        f'tools: {{url: "{mcp.url}/mcp", auth: {{type: bearer, secret: {_ref("mcp", store)}}}, '
        "allowed_tools: [add, echo], access_groups: [research]}, "
        f'spare: {{url: "{spare.url}/mcp", auth: {{type: bearer, secret: {_ref("spare", store)}}}, '
        "public: true}}",
        "gateway.agents={echo: {"
        f'card_url: "{agent.url}/.well-known/agent-card.json", description: Echoes text, '
        f"auth: {{header: Authorization, value: {_ref('agent', store)}}}, "
        "skills: [{id: echo, name: echo, tags: [echo, test]}], access_groups: [research]}}",
    ]


def agent_peer_env(mcp: Peer, agent: Peer, spare: Peer) -> dict[str, str]:
    """The variables `gateway_overrides` reads the peers' credentials from."""
    return {
        PEER_SECRETS["mcp"]: mcp.token,
        PEER_SECRETS["spare"]: spare.token,
        PEER_SECRETS["agent"]: f"Bearer {agent.token}",
    }


@pytest.fixture(scope="session")
def agent_gateway(gateway_factory: GatewayFactory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgentGateway]:
    workdir = tmp_path_factory.mktemp("agent-peers")
    # The peers start while the gateway does (both mostly wait on imports); the gateway needs only their ports.
    peers = [launch_peer(kind, workdir) for kind in ("mcp", "a2a", "mcp")]
    mcp, agent, spare = peers
    try:
        handle = gateway_factory(
            overrides=[*gateway_overrides(mcp, agent, spare), "gateway.drain.budget_seconds=3"],
            extra_env=agent_peer_env(mcp, agent, spare),
        )
        for peer in peers:
            wait_peer(peer)
        yield AgentGateway(handle, mcp, agent, spare)
        # test_flows.py's last test stops it (SIGTERM, checked); if it did not run, stop it here.
        handle.stop(timeout=60)
        if handle.proc.returncode == -signal.SIGKILL:
            with contextlib.suppress(ProcessLookupError):  # its demo provider child, if it outlived the gateway
                os.killpg(handle.proc.pid, signal.SIGTERM)
    finally:
        for peer in peers:
            peer.stop()
