"""Parity gates: black-box checks any running gatekit deployment must pass (local or cloud). `gatekit validate`
runs them; runbooks use it as the post-deploy check."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

from gatekit.runtime import agent_gates
from gatekit.runtime.gates_apis import CLIENT_API_GATES

VERSION_HEADER = "x-gatekit-config-version"
TRACE_HEADER = "x-gatekit-trace-id"
GATEKIT_METRICS = ("gatekit_config_info", "gatekit_in_flight_requests", "gatekit_shed_requests_total")


@dataclass
class GateResult:
    gate: str
    status: str  # PASS | FAIL | SKIP
    detail: str

    @property
    def failed(self) -> bool:
        return self.status == "FAIL"


class GateFailure(Exception):
    pass


class SkipGate(Exception):
    pass


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise GateFailure(message)


def status_is(response: httpx.Response, *allowed: int) -> None:
    if response.status_code not in allowed:
        raise GateFailure(
            f"{response.request.method} {response.request.url.path} -> {response.status_code}: {response.text[:160]}"
        )


@dataclass
class GateRunner:
    client: httpx.Client
    key: str
    chat_model: str | None = None
    found: dict[str, Any] = field(default_factory=dict)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def chat_body(self, stream: bool) -> dict[str, Any]:
        if self.chat_model is None:
            raise GateFailure("no chat model (the models gate failed)")
        messages = [{"role": "user", "content": "gatekit validate: reply with anything"}]
        return {"model": self.chat_model, "messages": messages, "stream": stream, "max_tokens": 16}

    def liveliness(self) -> str:
        r = self.client.get("/health/liveliness")
        status_is(r, 200)
        return "200"

    def readiness(self) -> str:
        r = self.client.get("/health/readiness")
        status_is(r, 200)
        return "200"

    def models(self) -> str:
        r = self.client.get("/v1/models", headers=self.auth)
        status_is(r, 200)
        ids = [m["id"] for m in r.json().get("data", [])]
        expect(bool(ids), "/v1/models lists no model")
        self.found["models_response"] = r
        self.chat_model = "economy" if "economy" in ids else ids[0]
        return f"{len(ids)} models; chat gates use `{self.chat_model}`"

    def chat(self) -> str:
        r = self.client.post("/v1/chat/completions", headers=self.auth, json=self.chat_body(False))
        status_is(r, 200)
        content = r.json()["choices"][0]["message"]["content"]
        expect(isinstance(content, str) and bool(content), "empty completion")
        return f"{len(content)} characters"

    def chat_stream(self) -> str:
        chunks, done = 0, False
        with self.client.stream("POST", "/v1/chat/completions", headers=self.auth, json=self.chat_body(True)) as r:
            expect(r.status_code == 200, f"stream -> {r.status_code}")
            expect(r.headers.get("content-type", "").startswith("text/event-stream"), "not an event stream")
            for line in r.iter_lines():
                if line == "data: [DONE]":
                    done = True
                elif line.startswith("data: "):
                    json.loads(line.removeprefix("data: "))
                    chunks += 1
        expect(chunks > 0 and done, f"{chunks} chunks, [DONE] {'seen' if done else 'missing'}")
        return f"{chunks} chunks and [DONE]"

    def embeddings(self) -> str:
        r = self.client.get("/model/info", headers=self.auth)
        status_is(r, 200)
        listed: list[dict[str, Any]] = r.json().get("data", [])
        names = sorted({m["model_name"] for m in listed if _model_mode(m) == "embedding"})
        if not names:
            raise SkipGate("no embedding model configured")
        r = self.client.post("/v1/embeddings", headers=self.auth, json={"model": names[0], "input": "gatekit"})
        status_is(r, 200)
        vector = r.json()["data"][0]["embedding"]
        expect(len(vector) > 0, "empty embedding")
        return f"`{names[0]}`: {len(vector)} dimensions"

    def _refused(self, method: str, path: str, headers: dict[str, str], body: Any = None) -> str:
        r = self.client.request(method, path, headers=headers, json=body)
        expect(r.status_code in (401, 403), f"{method} {path} answered {r.status_code}, expected 401/403")
        return str(r.status_code)

    def auth_inference_no_key(self) -> str:
        return self._refused("POST", "/v1/chat/completions", {}, self.chat_body(False))

    def auth_inference_wrong_key(self) -> str:
        wrong = {"Authorization": f"Bearer sk-wrong-{secrets.token_hex(8)}"}
        return self._refused("POST", "/v1/chat/completions", wrong, self.chat_body(False))

    def auth_management_no_key(self) -> str:
        codes = [self._refused("GET", "/model/info", {}), self._refused("POST", "/key/generate", {}, {})]
        return "/model/info " + codes[0] + ", /key/generate " + codes[1]

    def auth_management_wrong_key(self) -> str:
        wrong = {"Authorization": f"Bearer sk-wrong-{secrets.token_hex(8)}"}
        codes = [self._refused("GET", "/model/info", wrong), self._refused("POST", "/key/generate", wrong, {})]
        return "/model/info " + codes[0] + ", /key/generate " + codes[1]

    def config_version(self) -> str:
        r = self.client.get("/gatekit/config", headers=self.auth)
        if r.status_code == 404:
            raise SkipGate("/gatekit/config is not exposed to this client (gateway.exposure.admin_cidrs)")
        status_is(r, 200)
        status = r.json()
        header = r.headers.get(VERSION_HEADER)
        expect(header == status.get("version"), f"header {header!r} != status version {status.get('version')!r}")
        models = self.found.get("models_response")
        if models is not None:
            expect(models.headers.get(VERSION_HEADER) == header, "/v1/models response lacks the version header")
        expect(status.get("last_error") is None, f"last config sync failed: {status.get('last_error')}")
        return f"version {header} from {status.get('source')}"

    def trace(self) -> str:
        trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
        headers = {**self.auth, "traceparent": f"00-{trace_id}-{span_id}-01"}
        r = self.client.get("/v1/models", headers=headers)
        status_is(r, 200)
        got = r.headers.get(TRACE_HEADER)
        expect(got == trace_id, f"traceparent {trace_id} not continued ({TRACE_HEADER}: {got!r})")
        return f"continued {trace_id}"

    def metrics(self) -> str:
        r = self.client.get("/metrics", headers=self.auth)  # keyless only from the loopback scraper
        status_is(r, 200)
        missing = [m for m in GATEKIT_METRICS if m not in r.text]
        expect(not missing, f"missing {', '.join(missing)}")
        return f"{len(r.text.splitlines())} lines"


GATES: tuple[tuple[str, Callable[[GateRunner], str]], ...] = (
    ("liveliness", GateRunner.liveliness),
    ("readiness", GateRunner.readiness),
    ("models", GateRunner.models),
    ("chat", GateRunner.chat),
    ("chat-stream", GateRunner.chat_stream),
    ("embeddings", GateRunner.embeddings),
    *CLIENT_API_GATES,  # completions, responses, Anthropic messages (gatekit/runtime/gates_apis.py)
    ("auth-inference-no-key", GateRunner.auth_inference_no_key),
    ("auth-inference-wrong-key", GateRunner.auth_inference_wrong_key),
    ("auth-management-no-key", GateRunner.auth_management_no_key),
    ("auth-management-wrong-key", GateRunner.auth_management_wrong_key),
    ("config-version", GateRunner.config_version),
    ("trace", GateRunner.trace),
    ("metrics", GateRunner.metrics),
    ("mcp-servers", agent_gates.mcp_servers),  # agent gateways (runtime/agent_gates.py)
    ("agents", agent_gates.agents),
)


def _model_mode(model: dict[str, Any]) -> Any:
    info: dict[str, Any] = model.get("model_info") or {}
    return info.get("mode")


def run_gates(url: str, key: str, timeout: float = 60.0) -> list[GateResult]:
    results: list[GateResult] = []
    with httpx.Client(base_url=url.rstrip("/"), timeout=timeout) as client:
        runner = GateRunner(client, key)
        for name, gate in GATES:
            try:
                results.append(GateResult(name, "PASS", gate(runner)))
            except SkipGate as exc:
                results.append(GateResult(name, "SKIP", str(exc)))
            except GateFailure as exc:
                results.append(GateResult(name, "FAIL", str(exc)))
            except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError) as exc:
                results.append(GateResult(name, "FAIL", f"{type(exc).__name__}: {exc}"[:200]))
    return results


def sweep_gate(
    url: str,
    timeout: float = 30.0,
    local_address: str | None = None,
    routes: list[tuple[str, str]] | None = None,
) -> GateResult:
    """The unauthenticated sweep of LiteLLM's route table and gatekit's routes (gatekit.runtime.sweep); `routes`: a
    table read earlier from the same install (`gatekit validate --routes-file`), saving the LiteLLM import."""
    from gatekit.runtime import sweep

    routes = routes if routes is not None else sweep.all_routes()
    try:
        hits = sweep.sweep(url, routes, timeout, local_address)
    except httpx.HTTPError as exc:
        return GateResult("unauthenticated-sweep", "FAIL", f"{type(exc).__name__}: {exc}"[:200])
    bad = sweep.findings(hits)
    if bad:
        listed = ", ".join(f"{h.method} {h.path} -> {h.status}" for h in bad[:10])
        more = f" (+{len(bad) - 10} more)" if len(bad) > 10 else ""
        return GateResult("unauthenticated-sweep", "FAIL", f"{len(bad)} routes answer without a key: {listed}{more}")
    allowed = sorted({f"{h.method} {h.path}" for h in hits if h.allowed})
    return GateResult("unauthenticated-sweep", "PASS", f"{len(routes)} routes; only these answer: {', '.join(allowed)}")


def as_json(results: list[GateResult]) -> str:
    return json.dumps({"ok": not any(r.failed for r in results), "gates": [asdict(r) for r in results]}, indent=2)


def as_table(results: list[GateResult]) -> str:
    width = max(len(r.gate) for r in results)
    lines = [f"{'GATE':<{width}}  RESULT  DETAIL"]
    lines += [f"{r.gate:<{width}}  {r.status:<6}  {r.detail}" for r in results]
    failed = [r.gate for r in results if r.failed]
    lines.append(f"FAILED: {', '.join(failed)}" if failed else f"all {len(results)} gates passed or skipped")
    return "\n".join(lines)
