"""Runtime fixtures: a moto S3 server, resolved config documents, and in-process apps for middleware tests."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from gatekit.config import Environment, default_config_dir, load_environment
from gatekit.runtime.metrics import RuntimeMetrics
from gatekit.runtime.state import RuntimeState
from tests.conftest import GatewayFactory, GatewayHandle, free_port

# Importing LiteLLM must not try the network for its cost map (it ships with the package).
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

MOTO_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def local_env(overrides: Sequence[str] = ()) -> Environment:
    return load_environment("local", default_config_dir(), overrides)


def document(env: Environment) -> bytes:
    """What an operator uploads: `gatekit config render --target json`."""
    return env.model_dump_json(indent=2).encode()


def edited(env: Environment, edit: Any) -> bytes:
    data = json.loads(env.model_dump_json())
    edit(data)
    return json.dumps(data).encode()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    for key, value in {**MOTO_ENV, "AWS_ENDPOINT_URL_S3": moto_endpoint}.items():
        monkeypatch.setenv(key, value)
    return boto3.client("s3", endpoint_url=moto_endpoint)


@pytest.fixture
def gcs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A GCS emulator (gcp-storage-emulator) and a client pointed at it."""
    from gcp_storage_emulator.server import create_server
    from google.cloud import storage

    port = free_port()
    server = create_server("127.0.0.1", port, in_memory=True)
    server.start()
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "gatekit-test")
    yield storage.Client()
    server.stop()


@pytest.fixture
def metrics() -> RuntimeMetrics:
    return RuntimeMetrics(CollectorRegistry())


@pytest.fixture
def make_state(metrics: RuntimeMetrics) -> Any:
    def make(overrides: Sequence[str] = ()) -> RuntimeState:
        return RuntimeState(local_env(overrides), metrics)

    return make


def tiny_upstream_app(gate: Any = None) -> Starlette:
    """A stand-in for LiteLLM behind the middleware: `/slow` waits on `gate` (an asyncio.Event) when given."""

    async def slow(request: Request) -> Response:
        if gate is not None:
            await gate.wait()
        return JSONResponse({"ok": True})

    async def stream(request: Request) -> Response:
        async def chunks() -> Iterator[bytes]:
            for i in range(3):
                if gate is not None:
                    await gate.wait()
                yield f"data: {i}\n\n".encode()

        return StreamingResponse(chunks(), media_type="text/event-stream")

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "healthy"})

    return Starlette(
        routes=[
            Route("/slow", slow, methods=["GET", "POST"]),
            Route("/stream", stream),
            Route("/health/readiness", health),
            Route("/health/liveliness", health),
        ]
    )


@pytest.fixture(autouse=True)
def master_key_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The local environment's master key reference; documents are only valid where their secrets are present."""
    monkeypatch.setenv("GATEKIT_MASTER_KEY", "sk-test-runtime-unit")


@dataclass
class RuntimeGateways:
    plain: GatewayHandle  # exactly what `make up` runs
    s3: Any  # servers.S3Gateway
    slow: GatewayHandle
    open_litellm: Any  # servers.OpenLiteLLM


@pytest.fixture(scope="session")
def runtime_gateways(
    request: pytest.FixtureRequest,
    gateway_factory: GatewayFactory,
    moto_endpoint: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RuntimeGateways]:
    """Start the servers the runtime tests need at the same time (each start mostly waits on imports). The plain
    gateway is the session's shared `local_gateway` (already running when other areas' tests used it)."""
    from tests.runtime import servers

    with ThreadPoolExecutor(3) as pool:
        s3 = pool.submit(servers.start_s3_gateway, gateway_factory, moto_endpoint)
        slow = pool.submit(servers.start_slow_gateway, gateway_factory)
        open_litellm = pool.submit(servers.start_open_litellm, tmp_path_factory.mktemp("open-litellm"))
        try:
            plain: GatewayHandle = request.getfixturevalue("local_gateway")
            started = RuntimeGateways(plain, s3.result(), slow.result(), open_litellm.result())
        except BaseException:
            pool.shutdown(wait=True)
            if open_litellm.exception() is None:
                open_litellm.result().stop()
            raise  # the gatekit gateways are stopped by gateway_factory
    yield started
    started.open_litellm.stop()
