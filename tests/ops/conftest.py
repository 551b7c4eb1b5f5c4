"""Ops fixtures: a moto server seeded like a deployed environment, a Redis server, the drill gateway replica (the
real local gateway syncing from the moto config bucket), and a CLI runner pointed at all of them."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result
from moto.server import ThreadedMotoServer

from gatekit.cli import cli
from gatekit.config import Environment, load_environment
from tests.conftest import REPO, GatewayFactory, GatewayHandle, free_port
from tests.ops.drill.seed import CONFIG_KEY, Seeded, config_bucket_name, seed

DRILL_DIR = Path(__file__).parent / "drill"
DRILL_ENV = "drill"
DEMO_MARKERS = ("4010  # DRILL-DEMO-PORT", "4010/v1  # DRILL-DEMO-URL")
NEW_PROVIDER_KEY = "drill-new-provider-key-" + os.urandom(6).hex()


@dataclass
class Moto:
    endpoint: str

    @property
    def env(self) -> dict[str, str]:
        """What the AWS SDKs need to talk to moto (dummy credentials, never real ones)."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "drill",
            "AWS_SECRET_ACCESS_KEY": "drill",
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    def reset(self) -> None:
        httpx.post(f"{self.endpoint}/moto-api/reset", timeout=30).raise_for_status()
        # moto advances a task's status (RUNNING -> DEACTIVATING -> …) each time it is described, by default; a
        # deployed service's tasks stay RUNNING until they are stopped.
        transition = {"model_name": "ecs::task", "transition": {"progression": "manual", "times": 1_000_000}}
        httpx.post(
            f"{self.endpoint}/moto-api/state-manager/set-transition", json=transition, timeout=30
        ).raise_for_status()


@pytest.fixture(scope="session")
def drill_config_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's config/ plus the drill environment."""
    target = tmp_path_factory.mktemp("drill-config")
    shutil.copytree(REPO / "config", target, dirs_exist_ok=True)
    shutil.copy(DRILL_DIR / "drill.yaml", target / "environments" / "drill.yaml")
    return target


def drill_env(config_dir: Path) -> Environment:
    return load_environment(DRILL_ENV, config_dir)


@pytest.fixture(scope="session")
def redis_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A real Redis (installed by the setup path) for the shared response cache the flush drill empties."""
    server = shutil.which("redis-server")
    assert server, "redis-server is not installed (scripts/system-packages.sh installs it)"
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            import socket

            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.1)
    yield port
    proc.terminate()
    proc.wait(10)


@dataclass
class Drill:
    """The drill deployment: moto + the gateway replica + the config the ops commands load."""

    moto: Moto
    config_dir: Path
    gateway: GatewayHandle | None
    master_key: str
    bucket: str
    bin_dir: Path | None = None
    seeded: Seeded | None = None

    @property
    def url(self) -> str:
        return self.gateway.url if self.gateway else "http://127.0.0.1:9"

    def env(self) -> Environment:
        return drill_env(self.config_dir)

    def seed(self) -> Seeded:
        self.moto.reset()
        env = self.env()
        # moto's ECS reports a service's deployment COMPLETED only when MOTO_ECS_SERVICE_RUNNING (read by the moto
        # server thread in this process when the service is created) covers the desired count.
        previous = os.environ.get("MOTO_ECS_SERVICE_RUNNING")
        os.environ["MOTO_ECS_SERVICE_RUNNING"] = str(env.compute.replicas.desired)
        try:
            return seed(env, self.moto.endpoint, self.url, self.master_key, self.bucket)
        finally:
            if previous is None:
                os.environ.pop("MOTO_ECS_SERVICE_RUNNING")
            else:
                os.environ["MOTO_ECS_SERVICE_RUNNING"] = previous

    def wait_converged(self, timeout: float = 60) -> None:
        """Until the replica serves the seeded config with no sync error (its first polls may have missed it)."""
        assert self.gateway is not None
        from gatekit.ops.push_config import render_document

        want = render_document(self.env(), f"s3://{self.bucket}/{CONFIG_KEY}").version
        deadline = time.monotonic() + timeout
        status: dict[str, object] = {}
        while time.monotonic() < deadline:
            response = httpx.get(
                f"{self.url}/gatekit/config", headers={"Authorization": f"Bearer {self.master_key}"}, timeout=5
            )
            status = response.json()
            if status.get("version") == want and not status.get("last_error"):
                return
            time.sleep(0.5)
        raise AssertionError(f"the drill replica did not converge on {want}: {status}")

    def cli_env(self) -> dict[str, str | None]:
        """process_env() for click's CliRunner, which only overlays its env on os.environ: every AWS_/GATEKIT_
        variable of the test process that process_env() leaves out is explicitly unset (None)."""
        env: dict[str, str | None] = {k: None for k in os.environ if k.startswith(("AWS_", "GATEKIT_"))}
        env.update(self.process_env())
        return env

    def process_env(self) -> dict[str, str]:
        """Environment of every command a runbook drill runs."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GATEKIT_"))}
        env.update(self.moto.env)
        env.update(
            {
                "PATH": os.pathsep.join(
                    [*([str(self.bin_dir)] if self.bin_dir else []), str(REPO / ".venv" / "bin"), env.get("PATH", "")]
                ),
                "GATEKIT_CONFIG_DIR": str(self.config_dir),
                "GATEKIT_ENV": DRILL_ENV,
                "GATEKIT_REPLICAS": self.url,
                # The provider-key runbook reads the new key from the terminal (`read -rs`); the drill provides it.
                "NEW_PROVIDER_KEY": NEW_PROVIDER_KEY,
            }
        )
        return env


MASTER_KEY = "sk-drill-" + os.urandom(12).hex()


def _start_moto() -> tuple[ThreadedMotoServer, Moto]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server, Moto(f"http://127.0.0.1:{port}")


@pytest.fixture(scope="session")
def drill_moto() -> Iterator[Moto]:
    """The drill's own moto server: seeded once, changed only by the runbooks (in file order)."""
    server, handle = _start_moto()
    yield handle
    server.stop()


@pytest.fixture(scope="session")
def forkserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A bin directory whose `gatekit` runs the real CLI through the drill fork server (see forkserver.py)."""
    from tests.ops.drill.forkserver import shim

    workdir = tmp_path_factory.mktemp("forkserver")
    socket_path = str(workdir / "gatekit.sock")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.ops.drill.forkserver", socket_path],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready", "fork server did not start"
    bin_dir = workdir / "bin"
    bin_dir.mkdir()
    (bin_dir / "gatekit").write_text(shim(socket_path))
    (bin_dir / "gatekit").chmod(0o755)
    yield bin_dir
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="session")
def drill_session(
    gateway_factory: GatewayFactory,
    drill_moto: Moto,
    drill_config_dir: Path,
    redis_port: int,
    forkserver: Path,
) -> Drill:
    """The drill: its gateway replica (`gatekit up --env drill`, syncing from the drill config bucket in moto, with a
    real Redis as the shared cache) and the seeded deployment. The replica runs DB-less (no Postgres in tests); the
    config the ops commands push says database.enabled, which the replica reports as restart_required, as a real
    replica would."""
    bucket = config_bucket_name("gk-drill")
    # The first seed of a moto server loads its service backends (tens of seconds on a loaded machine): do it while
    # the gateway starts, then seed again for real once the replica's URL and demo port are known.
    warm_up = threading.Thread(
        target=Drill(drill_moto, drill_config_dir, None, MASTER_KEY, bucket).seed, name="moto-warm-up", daemon=True
    )
    warm_up.start()
    handle = gateway_factory(
        env=DRILL_ENV,
        config_dir=drill_config_dir,
        overrides=["database.enabled=false", f"gateway.config_sync.uri=s3://{bucket}/{CONFIG_KEY}"],
        extra_env={
            **drill_moto.env,
            "GATEKIT_SECRET_MASTER_KEY": MASTER_KEY,
            "GATEKIT_SECRET_OPENAI_API_KEY": "drill-provider-key",
            "REDIS_HOST": "127.0.0.1",
            "REDIS_PORT": str(redis_port),
            "REDIS_SSL": "False",
        },
    )
    warm_up.join()
    drill_file = drill_config_dir / "environments" / "drill.yaml"
    text = drill_file.read_text()
    for marker in DEMO_MARKERS:
        assert marker in text
        text = text.replace(marker, marker.replace("4010", str(handle.demo_port)))
    drill_file.write_text(text)
    drill = Drill(drill_moto, drill_config_dir, handle, MASTER_KEY, bucket, bin_dir=forkserver)
    drill.seed()
    drill.wait_converged()
    return drill


@pytest.fixture
def drill(drill_session: Drill) -> Drill:
    return drill_session


@pytest.fixture(scope="session")
def moto() -> Iterator[Moto]:
    """moto for the command tests (reset and seeded per test)."""
    server, handle = _start_moto()
    yield handle
    server.stop()


@pytest.fixture
def deployed(moto: Moto, drill_config_dir: Path) -> Drill:
    """A freshly seeded deployment without a live replica (AWS-side operations only)."""
    d = Drill(moto, drill_config_dir, None, MASTER_KEY, config_bucket_name("gk-drill"))
    d.seeded = d.seed()
    return d


Invoke = Callable[..., Result]


@pytest.fixture
def ops(deployed: Drill) -> Invoke:
    """Run `gatekit ops ARGS` in-process against the seeded deployment (no live replica)."""
    env: dict[str, str | None] = {**deployed.cli_env(), "AWS_PROFILE": None}
    runner = CliRunner(env=env)

    def invoke(*args: str) -> Result:
        return runner.invoke(cli, ["ops", *args], catch_exceptions=False)

    return invoke
