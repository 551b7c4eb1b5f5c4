"""Access groups with real tenancy: teams and virtual keys created through LiteLLM's management API on a DB-on gateway
(gatekit.ops.agent_access, which sends the `object_permission` gatekit renders), then every agent-gateway flow as each
of them. Shared by the local DB-on gateway (tests/db/test_tenancy_agent_gateways.py) and the rehearsed target
(tests/rehearse/agents.py): the configuration is tests/agents/conftest.py's `gateway_overrides`.

Who is who (groups: `research` = keys [alice], teams [t-research]; `ops` = keys [bob]; `tools` and agent `echo` are
for `research`, `spare` is public):
    alice  key in `research` by its alias                       -> allowed
    carol  key of team t-research (granted by its team)         -> allowed
    erin   key of team t-research created with no grant at all  -> allowed (inherits the team's)
    bob    key in `ops` only                                    -> denied
    dave   key of team t-outside (a team in no group)           -> denied
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from gatekit.config import Environment
from gatekit.ops.agent_access import create_key, create_team
from gatekit.ops.errors import OpsError
from gatekit.ops.gateway_api import GatewayApi

TIMEOUT = 120
ALLOWED = ("alice", "carol", "erin")
DENIED = ("bob", "dave")
TEAMS = {"carol": "t-research", "erin": "t-research", "dave": "t-outside"}


def mcp_session(url: str, key: str, path: str, fn: Callable[[Any], Awaitable[Any]]) -> Any:
    """Open an MCP session (official MCP client, streamable HTTP) to `url + path` as `key` and run `fn(session)`."""
    import httpx2
    from mcp.client.session import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async def main() -> Any:
        async with (
            httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=TIMEOUT) as http,
            streamable_http_client(url + path, http_client=http) as streams,
            ClientSession(streams[0], streams[1]) as session,
        ):
            await session.initialize()
            return await fn(session)

    return asyncio.run(main())


def a2a_message(method: str, text: str) -> dict[str, Any]:
    message = {"role": "user", "parts": [{"kind": "text", "text": text}], "messageId": uuid.uuid4().hex}
    return {"jsonrpc": "2.0", "id": uuid.uuid4().hex, "method": method, "params": {"message": message}}


def create_tenants(api: GatewayApi, env: Environment) -> dict[str, str]:
    """The teams and keys above, through the management API. Returns alias -> key."""
    for team in sorted(set(TEAMS.values())):
        create_team(api, env, team)
    keys = {alias: create_key(api, env, alias, team=TEAMS.get(alias))["key"] for alias in ("alice", "carol", "bob")}
    keys["dave"] = create_key(api, env, "dave", team="t-outside")["key"]
    r = api.request("POST", "/key/generate", json={"key_alias": "erin", "team_id": "t-research"})
    assert r.status_code == 200, r.text
    keys["erin"] = r.json()["key"]
    return keys


def team_bounds_its_keys(api: GatewayApi) -> str:
    """A key of team t-outside cannot be granted `research` (LiteLLM bounds a key's grants by its team's)."""
    from gatekit.render.agents import agent_id

    body = {
        "key_alias": "mallory",
        "team_id": "t-outside",
        "object_permission": {"mcp_access_groups": ["research"], "agents": [agent_id("echo")]},
    }
    r = api.request("POST", "/key/generate", json=body)
    assert r.status_code == 403 and "not allowed by team" in r.text, r.text
    return r.text


@dataclass
class Seen:
    """What one caller saw on one replica."""

    servers: list[str] = field(default_factory=list)
    tools: list[str] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)
    outcomes: dict[str, str] = field(default_factory=dict)


def _as(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _server_id(url: str, master_key: str, name: str) -> str:
    r = httpx.get(url + "/v1/mcp/server", headers=_as(master_key), timeout=TIMEOUT)
    r.raise_for_status()
    return str(next(s["server_id"] for s in r.json() if s["server_name"] == name))


def _stream_texts(url: str, key: str, text: str) -> tuple[int, str, list[dict[str, Any]]]:
    events: list[dict[str, Any]] = []
    with httpx.stream(
        "POST", url + "/a2a/echo", json=a2a_message("message/stream", text), headers=_as(key), timeout=TIMEOUT
    ) as r:
        if r.status_code != 200:
            return r.status_code, r.read().decode(errors="replace"), events
        for line in r.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line.removeprefix("data: "))["result"])
    return 200, "", events


def observe(url: str, master_key: str, key: str) -> Seen:
    """Every flow as `key`: servers and tools listed, a tool called (MCP and REST), agents discovered, the agent sent
    a message and streamed one."""
    seen = Seen()
    r = httpx.get(url + "/v1/mcp/server", headers=_as(key), timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    seen.servers = sorted(s["server_name"] for s in r.json())

    async def list_and_call(session: Any) -> tuple[list[str], Any]:
        tools = [t.name for t in (await session.list_tools()).tools]
        return tools, await session.call_tool("tools-add", {"a": 19, "b": 23})

    seen.tools, result = mcp_session(url, key, "/mcp", list_and_call)
    text = " ".join(getattr(c, "text", "") for c in result.content)
    seen.outcomes["mcp call"] = "ok 42" if not result.is_error and result.structured_content == {"result": 42} else (
        f"error: {text}"
    )  # fmt: skip
    body = {"server_id": _server_id(url, master_key, "tools"), "name": "tools-echo", "arguments": {"text": "hi"}}
    r = httpx.post(url + "/mcp-rest/tools/call", json=body, headers=_as(key), timeout=TIMEOUT)
    seen.outcomes["rest call"] = (
        "ok" if r.status_code == 200 and r.json()["content"][0]["text"] == "echo: hi" else f"{r.status_code} {r.text}"
    )
    r = httpx.get(url + "/v1/agents", headers=_as(key), timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    seen.agents = sorted(a["agent_name"] for a in r.json())
    r = httpx.post(url + "/a2a/echo", json=a2a_message("message/send", "hello"), headers=_as(key), timeout=TIMEOUT)
    if r.status_code == 200 and "result" in r.json():
        task = r.json()["result"]["task"]
        answer = "".join(p["text"] for a in task["artifacts"] for p in a["parts"])
        seen.outcomes["a2a send"] = f"ok {answer}"
    else:
        seen.outcomes["a2a send"] = f"{r.status_code} {r.text}"
    status, error, events = _stream_texts(url, key, "stream this")
    if status == 200:
        pieces = [p["text"] for e in events if "artifactUpdate" in e for p in e["artifactUpdate"]["artifact"]["parts"]]
        seen.outcomes["a2a stream"] = f"ok {''.join(pieces)}"
    else:
        seen.outcomes["a2a stream"] = f"{status} {error}"
    return seen


def check_allowed(who: str, seen: Seen) -> None:
    assert {"tools", "spare"} <= set(seen.servers), (who, seen)
    assert {"tools-add", "tools-echo"} <= set(seen.tools) and "tools-forbidden" not in seen.tools, (who, seen)
    assert seen.agents == ["echo"], (who, seen)
    assert seen.outcomes == {
        "mcp call": "ok 42",
        "rest call": "ok",
        "a2a send": "ok echo: hello",
        "a2a stream": "ok echo: stream this",
    }, (who, seen)


def check_denied(who: str, seen: Seen) -> None:
    assert seen.servers == ["spare"], (who, seen)  # the public server only
    assert not [t for t in seen.tools if t.startswith("tools-")], (who, seen)
    assert seen.agents == [], (who, seen)
    assert seen.outcomes["mcp call"].startswith("error:") and "not allowed" in seen.outcomes["mcp call"], (who, seen)
    assert seen.outcomes["rest call"].startswith("403 ") and "not allowed" in seen.outcomes["rest call"], (who, seen)
    for flow in ("a2a send", "a2a stream"):
        assert seen.outcomes[flow].startswith("403 ") and "not allowed" in seen.outcomes[flow], (who, seen)


def run_tenancy(urls: list[str], master_key: str, env: Environment, peer_seen: Callable[[], int]) -> dict[str, Any]:
    """Create the tenants through the first URL, then every flow as each of them there, and as one allowed and one
    denied caller on every other URL (replicas share the database). `peer_seen()` counts the requests the MCP and
    A2A peers received: a denied caller adds none. Returns evidence; raises AssertionError on any deviation."""
    api = GatewayApi(urls[0], master_key, timeout=TIMEOUT)
    try:
        keys = create_tenants(api, env)
    except OpsError as exc:
        raise AssertionError(f"creating teams and keys failed: {exc}") from None
    evidence: dict[str, Any] = {"team_bound": team_bounds_its_keys(api)[:200], "callers": {}}
    for i, url in enumerate(urls):
        # Every caller on the first URL; on the others (replicas sharing the database) one of each kind.
        for who in (*ALLOWED, *DENIED) if i == 0 else (ALLOWED[0], DENIED[0]):
            before = peer_seen()
            seen = observe(url, master_key, keys[who])
            if who in ALLOWED:
                check_allowed(who, seen)
            else:
                check_denied(who, seen)
                assert peer_seen() == before, f"{who}: a denied call reached a peer"
            evidence["callers"][f"{who}@{url}"] = seen.outcomes
    return evidence
