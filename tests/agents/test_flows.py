"""Agent gateways end to end: the real LiteLLM proxy as `make up` runs it (DB-less, master key), a real MCP server
(official MCP SDK) and a real A2A agent (A2A SDK). Per-key access groups need virtual keys, hence a database: those
flows run on the DB-on gateway (tests/db/test_tenancy_agent_gateways.py) and through a rehearsed target."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import signal
import subprocess
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from gatekit.runtime import gates
from tests.agents.conftest import AgentGateway

pytestmark = pytest.mark.slow
TIMEOUT = 120


def run_mcp(gw: AgentGateway, path: str, fn: Callable[[Any], Awaitable[Any]], key: str | None = None) -> Any:
    """Open an MCP session to the gateway with the official MCP client and run `fn(session)`."""
    import httpx2
    from mcp.client.session import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async def main() -> Any:
        headers = {"Authorization": f"Bearer {key or gw.handle.key}"}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=TIMEOUT) as http,
            streamable_http_client(gw.url + path, http_client=http) as streams,
            ClientSession(streams[0], streams[1]) as session,
        ):
            await session.initialize()
            return await fn(session)

    return asyncio.run(main())


def a2a_message(method: str, text: str) -> dict[str, Any]:
    message = {"role": "user", "parts": [{"kind": "text", "text": text}], "messageId": uuid.uuid4().hex}
    return {"jsonrpc": "2.0", "id": uuid.uuid4().hex, "method": method, "params": {"message": message}}


def traceparent() -> tuple[str, str, str]:
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return f"00-{trace_id}-{span_id}-01", trace_id, span_id


def metric(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_servers_and_tools_are_listed(agent_gateway: AgentGateway) -> None:
    r = httpx.get(agent_gateway.url + "/v1/mcp/server", headers=agent_gateway.auth, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    servers = {s["server_name"]: s for s in r.json()}
    assert set(servers) == {"tools", "spare"}
    assert servers["tools"]["mcp_access_groups"] == ["research"]
    assert servers["tools"]["allowed_tools"] == ["add", "echo"]

    async def list_tools(session: Any) -> list[str]:
        return [t.name for t in (await session.list_tools()).tools]

    names = run_mcp(agent_gateway, "/mcp/tools", list_tools)
    # allowed_tools: the server's third tool (`forbidden`) is neither listed nor callable.
    assert sorted(names) == ["tools-add", "tools-echo"]


def test_tool_called_directly_over_mcp_with_trace_context(agent_gateway: AgentGateway) -> None:
    before = len(agent_gateway.mcp.seen())

    async def call(session: Any) -> Any:
        return await session.call_tool("tools-add", {"a": 19, "b": 23})

    result = run_mcp(agent_gateway, "/mcp", call)
    assert result.is_error is False
    assert result.structured_content == {"result": 42}

    header, trace_id, span_id = traceparent()
    body = {"server_id": _server_id(agent_gateway, "tools"), "name": "tools-echo", "arguments": {"text": "hi"}}
    headers = {**agent_gateway.auth, "traceparent": header}
    r = httpx.post(agent_gateway.url + "/mcp-rest/tools/call", json=body, headers=headers, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    assert r.json()["content"][0]["text"] == "echo: hi"

    seen = agent_gateway.mcp.seen()[before:]
    # The gateway authenticated to the server with the secret it was given (never the caller's key) …
    assert all(s["authorization"] == f"Bearer {agent_gateway.mcp.token}" for s in seen)
    # … and the peer continues the caller's trace under the gateway's own span.
    forwarded = [s["traceparent"] for s in seen if trace_id in s.get("traceparent", "")]
    assert forwarded, seen
    assert all(span_id not in tp for tp in forwarded)


def test_tool_called_from_a_chat_completion(agent_gateway: AgentGateway) -> None:
    body = {
        "model": "economy",
        "messages": [{"role": "user", "content": f'call tool add with {{"a": 40, "b": 2}} ({uuid.uuid4().hex})'}],
        "tools": [{"type": "mcp", "server_url": "litellm_proxy/mcp/tools", "require_approval": "never"}],
    }
    r = httpx.post(agent_gateway.url + "/v1/chat/completions", json=body, headers=agent_gateway.auth, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    message = r.json()["choices"][0]["message"]
    assert message["content"].endswith("tool tools-add returned: 42"), message
    results = message["provider_specific_fields"]["mcp_call_results"]
    assert results[0]["name"] == "tools-add" and results[0]["result"] == "42"


def test_tool_outside_allowed_tools_is_denied(agent_gateway: AgentGateway) -> None:
    body = {"server_id": _server_id(agent_gateway, "tools"), "name": "tools-forbidden", "arguments": {}}
    r = httpx.post(agent_gateway.url + "/mcp-rest/tools/call", json=body, headers=agent_gateway.auth, timeout=TIMEOUT)
    assert r.status_code == 403, r.text
    assert "not allowed" in r.text
    assert not any(s.get("path") == "/mcp" and "forbidden" in json.dumps(s) for s in agent_gateway.mcp.seen())


@pytest.mark.parametrize("key", [None, "sk-wrong"])
def test_callers_without_the_key_are_refused(agent_gateway: AgentGateway, key: str | None) -> None:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    for method, path, body in (
        ("GET", "/v1/mcp/server", None),
        ("POST", "/mcp/tools", {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
        ("GET", "/v1/agents", None),
        ("POST", "/a2a/echo", a2a_message("message/send", "hello")),
    ):
        r = httpx.request(method, agent_gateway.url + path, json=body, headers=headers, timeout=TIMEOUT)
        assert r.status_code == 401, (path, r.status_code, r.text)


def test_agent_is_discovered_with_its_skills(agent_gateway: AgentGateway) -> None:
    r = httpx.get(agent_gateway.url + "/v1/agents", headers=agent_gateway.auth, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    (agent,) = [a for a in r.json() if a["agent_name"] == "echo"]
    assert [s["tags"] for s in agent["agent_card_params"]["skills"]] == [["echo", "test"]]
    card = httpx.get(
        agent_gateway.url + "/a2a/echo/.well-known/agent-card.json", headers=agent_gateway.auth, timeout=TIMEOUT
    )
    assert card.status_code == 200, card.text
    # Callers are sent back through the gateway, never straight to the agent.
    assert card.json()["url"].endswith("/a2a/echo") and str(agent_gateway.agent.port) not in card.text


def test_agent_invoked_with_message_send(agent_gateway: AgentGateway) -> None:
    header, trace_id, span_id = traceparent()
    before = len(agent_gateway.agent.seen())
    r = httpx.post(
        agent_gateway.url + "/a2a/echo",
        json=a2a_message("message/send", "hello agent"),
        headers={**agent_gateway.auth, "traceparent": header},
        timeout=TIMEOUT,
    )
    assert r.status_code == 200, r.text
    task = r.json()["result"]["task"]
    assert task["status"]["state"] == "TASK_STATE_COMPLETED"
    text = "".join(p["text"] for a in task["artifacts"] for p in a["parts"])
    assert text == "echo: hello agent"
    seen = agent_gateway.agent.seen()[before:]
    assert seen and all(s["authorization"] == f"Bearer {agent_gateway.agent.token}" for s in seen)
    forwarded = [s["traceparent"] for s in seen if trace_id in s.get("traceparent", "")]
    assert forwarded and all(span_id not in tp for tp in forwarded), seen


def test_agent_streams_with_message_stream(agent_gateway: AgentGateway) -> None:
    events = []
    with httpx.stream(
        "POST",
        agent_gateway.url + "/a2a/echo",
        json=a2a_message("message/stream", "stream this please"),
        headers=agent_gateway.auth,
        timeout=TIMEOUT,
    ) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line.removeprefix("data: "))["result"])
    pieces = [p["text"] for e in events if "artifactUpdate" in e for p in e["artifactUpdate"]["artifact"]["parts"]]
    assert len(pieces) >= 3 and "".join(pieces) == "echo: stream this please"
    states = [e["statusUpdate"]["status"]["state"] for e in events if "statusUpdate" in e]
    assert states[-1] == "TASK_STATE_COMPLETED"


def test_unknown_agent_is_refused(agent_gateway: AgentGateway) -> None:
    r = httpx.post(
        agent_gateway.url + "/a2a/nobody",
        json=a2a_message("message/send", "hi"),
        headers=agent_gateway.auth,
        timeout=TIMEOUT,
    )
    assert r.status_code == 404 or "error" in r.json(), r.text


def test_metrics_per_server_and_agent(agent_gateway: AgentGateway) -> None:
    r = httpx.get(agent_gateway.url + "/metrics", timeout=TIMEOUT)
    text = r.text
    name = "gatekit_agent_gateway_call_seconds_count"
    assert metric(text, name, kind="mcp", target="tools", operation="tools/call", outcome="ok") >= 2
    assert metric(text, name, kind="mcp", target="tools", operation="tools/call", outcome="error") >= 1
    assert metric(text, "gatekit_agent_gateway_errors_total", kind="mcp", target="tools") >= 1
    assert metric(text, name, kind="agent", target="echo", operation="message/send", outcome="ok") >= 1
    assert metric(text, name, kind="agent", target="echo", operation="message/stream", outcome="ok") >= 1


def test_validate_checks_servers_and_agents_are_healthy(agent_gateway: AgentGateway) -> None:
    """Next to last in this module: it stops the spare server."""
    results = {r.gate: r for r in gates.run_gates(agent_gateway.url, agent_gateway.handle.key, TIMEOUT)}
    assert results["mcp-servers"].status == "PASS", results["mcp-servers"]
    assert re.search(r"2 healthy \(spare, tools\); \d+ tools", results["mcp-servers"].detail)
    assert results["agents"].status == "PASS", results["agents"]

    agent_gateway.spare.stop()
    results = {r.gate: r for r in gates.run_gates(agent_gateway.url, agent_gateway.handle.key, TIMEOUT)}
    assert results["mcp-servers"].status == "FAIL"
    assert "spare" in results["mcp-servers"].detail and "tools" not in results["mcp-servers"].detail


def test_sigterm_drains_and_exits_promptly_after_mcp_sessions(agent_gateway: AgentGateway) -> None:
    """Last in this module: it stops the gateway. Once MCP sessions were served, LiteLLM's session managers (entered
    lazily in a request's task) could not be closed from the lifespan task and the drained process lingered ~60 s;
    gatekit runs them in the lifespan task (gatekit/runtime/mcp_sessions.py), so SIGTERM drains and exits."""

    async def a_session(session: Any) -> int:
        return len((await session.list_tools()).tools)

    assert run_mcp(agent_gateway, "/mcp/tools", a_session) == 2  # a stateful session (mcp-session-id), then closed
    handle = agent_gateway.handle
    budget = 3  # gateway.drain.budget_seconds of this gateway (conftest)
    # Far below the ~60 s the process lingered, far above the drain budget plus a loaded machine's shutdown.
    bound = budget + 25
    handle.proc.send_signal(signal.SIGTERM)
    try:
        code = handle.proc.wait(bound)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the gateway was still running {bound} s after SIGTERM:\n{handle.log()[-3000:]}")
    assert code == 0, handle.log()[-3000:]
    log = handle.log()
    assert '"drained"' in log
    assert "generator didn't stop" not in log and "different task than it was entered in" not in log, log[-3000:]
    assert "mcp sessions closed" in log


def _server_id(gw: AgentGateway, name: str) -> str:
    r = httpx.get(gw.url + "/v1/mcp/server", headers=gw.auth, timeout=TIMEOUT)
    r.raise_for_status()
    return next(s["server_id"] for s in r.json() if s["server_name"] == name)
