"""Shared fixtures: a real gateway (`gatekit up`: LiteLLM proxy + demo provider) on free ports."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[1]
START_TIMEOUT = float(os.environ.get("GATEKIT_TEST_START_TIMEOUT", "180"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class GatewayHandle:
    url: str
    key: str
    port: int
    demo_port: int
    proc: subprocess.Popen[bytes]
    log_path: Path
    runtime_dir: Path
    overrides: list[str] = field(default_factory=list)
    started_in: float = 0.0

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def wait_ready(
    url: str,
    proc: subprocess.Popen[bytes],
    log_path: Path,
    timeout: float = START_TIMEOUT,
    probe: str = "/health/readiness",
) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(
                f"gateway exited with {proc.returncode}:\n{log_path.read_text(errors='replace')[-4000:]}"
            )
        try:
            if httpx.get(f"{url}{probe}", timeout=2).status_code == 200:
                return time.monotonic() - start
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    proc.kill()
    raise RuntimeError(f"gateway not ready in {timeout} s:\n{log_path.read_text(errors='replace')[-4000:]}")


GatewayFactory = Callable[..., GatewayHandle]


@pytest.fixture(scope="session")
def gateway_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayFactory]:
    """Start `gatekit up` (demo provider + real LiteLLM proxy) on free ports; stopped at session end."""
    started: list[GatewayHandle] = []

    def start(
        env: str = "local",
        overrides: Sequence[str] = (),
        extra_env: dict[str, str] | None = None,
        config_dir: Path | None = None,
        start_timeout: float = START_TIMEOUT,
    ) -> GatewayHandle:
        port, demo_port = free_port(), free_port()
        key = "sk-test-" + secrets.token_hex(12)
        workdir = tmp_path_factory.mktemp(f"gateway-{env}")
        all_overrides = [f"gateway.demo_provider.port={demo_port}", *overrides]
        cmd = [sys.executable, "-m", "gatekit.cli", "up", "--env", env, "--port", str(port)]
        cmd += [a for o in all_overrides for a in ("--set", o)]
        if config_dir is not None:
            cmd += ["--config-dir", str(config_dir)]
        proc_env = {
            **os.environ,
            "GATEKIT_MASTER_KEY": key,
            "GATEKIT_RUNTIME_DIR": str(workdir / "runtime"),
            **(extra_env or {}),
        }
        log_path = workdir / "gateway.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                cmd, cwd=REPO, env=proc_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        url = f"http://127.0.0.1:{port}"
        handle = GatewayHandle(url, key, port, demo_port, proc, log_path, workdir / "runtime", all_overrides)
        started.append(handle)
        handle.started_in = wait_ready(url, proc, log_path, start_timeout)
        return handle

    yield start
    for handle in started:
        handle.stop()


@pytest.fixture(scope="session")
def local_gateway(gateway_factory: GatewayFactory) -> GatewayHandle:
    return gateway_factory()


@pytest.fixture(autouse=True)
def _event_loop_for_synchronous_callers() -> Iterator[None]:
    """asyncio.run() (several tests use it) ends by setting the thread's event loop to None; Pulumi's mocks and
    gatekit's plan harness then call asyncio.get_event_loop(), which raises after that. Give such tests a fresh loop."""
    try:
        loop = asyncio.get_event_loop_policy().get_event_loop()
        if loop.is_closed():
            raise RuntimeError("closed")
    except RuntimeError:
        asyncio.set_event_loop(asyncio.new_event_loop())
    yield


# `make test` runs two xdist workers. The unit of work is a top-level test directory (tests/conftest.py's
# DirectoryScheduling, below), run whole on one worker in file order: its session fixtures (a rehearsal, a database
# gateway, the moat bundle's image) start once per unit, and tests that rely on their directory's order (spend checks
# before a database outage) keep it. xdist's own `loadgroup` cannot do this under pytest 9 (its `@group` suffix
# never reaches the node ids the scheduler reads), so the grouping is a scheduler of our own.
# Units that share one expensive fixture are merged (the image and the moat bundle share the one image build); the
# rehearsals are split in two (AWS and the rest: each starts its own shared services, seconds, and the two halves run
# side by side). Units are handed out heaviest first, so the long ones never start last.
_SAME_UNIT = {"image": "moat"}
_SPLIT_FILES = {
    "rehearse": ("test_rehearse_aws.py", "test_ecs_extraction.py"),  # these stay `rehearse`; the rest `rehearse-more`
}
_HEAVIEST_FIRST = (
    "rehearse",
    "rehearse-more",
    "moat",
    "db",
    "parity",
    "agents",
    "tenants",
    "surface",
    "runtime",
    "ops",
    "routing",
    "cdk",
    "pulumi",
    "security",
    "foundation",
)


def work_unit(nodeid: str) -> str:
    """The unit of work a test belongs to, from its node id (`tests/<dir>/<file>.py::…`)."""
    parts = nodeid.split("::", 1)[0].split("/")
    if len(parts) < 3 or parts[0] != "tests":
        return "root"
    top, name = parts[1], parts[-1]
    if top in _SPLIT_FILES and name not in _SPLIT_FILES[top]:
        return f"{top}-more"
    return _SAME_UNIT.get(top, top)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    from xdist.scheduler import LoadScopeScheduling

    class DirectoryScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    config.option.loadscopereorder = False  # keep the heaviest-first order of the collection
    return DirectoryScheduling(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under xdist, collect the heaviest units first (the scheduler hands units out in collection order); a plain
    `pytest` run keeps the usual order."""
    if not hasattr(config, "workerinput"):
        return
    rank = {unit: i for i, unit in enumerate(_HEAVIEST_FIRST)}
    items.sort(key=lambda item: rank.get(work_unit(item.nodeid), len(rank)))  # stable: file order kept in a unit
