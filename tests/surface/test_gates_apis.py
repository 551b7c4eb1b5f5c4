"""`gatekit validate` checks every client API: the new gates pass on the real gateway and fail on a broken route."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from gatekit.runtime.gates import GateFailure, GateRunner
from gatekit.runtime.gates_apis import CLIENT_API_GATES, anthropic_messages
from tests.conftest import REPO, GatewayHandle


def test_client_api_gates_pass_through_the_real_proxy(local_gateway: GatewayHandle) -> None:
    cmd = [sys.executable, "-m", "gatekit.cli", "validate", "--url", local_gateway.url, "--key", local_gateway.key]
    result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {line.split()[0]: line.split()[1] for line in result.stdout.splitlines()[1:-1]}
    assert {rows[name] for name, _ in CLIENT_API_GATES} == {"PASS"}, rows


def test_the_messages_gate_fails_on_the_404_users_hit() -> None:
    """What LiteLLM 1.106 answered before the chat-completions switch: a 404 from the upstream Responses API."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"type": "error", "error": {"type": "not_found_error", "message": "x"}})

    with httpx.Client(base_url="http://gateway.test", transport=httpx.MockTransport(handler)) as client:
        runner = GateRunner(client, "sk-test", chat_model="economy")
        with pytest.raises(GateFailure, match="/v1/messages -> 404"):
            anthropic_messages(runner)
