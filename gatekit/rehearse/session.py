"""One rehearsal session: the shared pieces (the gateway venv, Redis, moto, the demo provider standing in for model
providers) started once; then any number of targets rehearsed against them, each with its own fresh PostgreSQL (a
managed database is per deployment: its admin and runtime roles are cluster-wide names)."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path

from gatekit.config import Environment, default_config_dir, load_environment
from gatekit.moat.lock import project_root
from gatekit.rehearse import services
from gatekit.rehearse.image import ImageFacts, read_image
from gatekit.rehearse.launch import launched
from gatekit.rehearse.processes import Running
from gatekit.rehearse.report import Report
from gatekit.rehearse.runner import Context
from gatekit.rehearse.spec import NotReproduced, SecretSource
from gatekit.rehearse.venv import GatewayVenv, gateway_venv

ECS_TARGETS = ("aws-ecs", "moat")
# More checks against a rehearsal's running replicas: (replicas, master key, deployed environment, its database server).
AfterChecks = Callable[[list[Running], str, Environment, services.Postgres], None]
PROVIDER_NOTE = NotReproduced(
    "model providers",
    "every model is pointed at the local demo provider (`gatekit mock-llm`, OpenAI-compatible) with a key from the "
    "target's secret store; Bedrock/OpenAI/internal endpoints are not called",
)


@dataclass
class Shared:
    workdir: Path
    venv: GatewayVenv
    image: ImageFacts
    redis: services.Redis
    moto: str
    mock_llm: str
    engine: Path
    trust_bundle: Path
    config_dir: Path = field(default_factory=default_config_dir)
    # Already synthesized assemblies by environment name (tests share them with extraction checks).
    assemblies: dict[str, Path] = field(default_factory=dict)
    # Set for one rehearsal with `extras()`: checks of the caller's own run against the ready replicas
    # (runner.Probe), and values of operator secrets by variable (Pulumi targets: what the operator puts in the
    # stack's secret config or the namespace's Secrets) where the caller must know them (a peer's credential).
    probes: list[Callable[..., None]] = field(default_factory=list)
    operator_values: dict[str, str] = field(default_factory=dict)

    @contextlib.contextmanager
    def extras(self, probes: list[Callable[..., None]], operator_values: dict[str, str]) -> Generator[None, None, None]:
        self.probes, self.operator_values = list(probes), dict(operator_values)
        try:
            yield
        finally:
            self.probes, self.operator_values = [], {}

    def context(
        self,
        pg: services.Postgres,
        workdir: Path,
        resolve_secret: Callable[[SecretSource], str],
        publish_document: Callable[[str], None],
        overlay: dict[str, str],
        after_checks: Callable[[list[Running], str, Environment], None] | None = None,
    ) -> Context:
        """Where one target's rehearsal runs: these shared pieces, its own database and its stores."""

        def sql(query: str, db: str) -> list[tuple[object, ...]]:
            return pg.sql(query, db=db)

        return Context(
            venv=self.venv,
            image=self.image,
            workdir=workdir,
            sql=sql,
            resolve_secret=resolve_secret,
            publish_document=publish_document,
            overlay=overlay,
            free_port=services.free_port,
            probes=list(self.probes),
            after_checks=after_checks,
        )


def _workdir() -> Path:
    """World-traversable: the gateway runs as a non-root uid and must reach its sandbox and the trust bundle."""
    path = Path(tempfile.mkdtemp(prefix="gatekit-rehearse-"))
    path.chmod(0o755)
    return path


def _trust_bundle(workdir: Path, venv: GatewayVenv, extra: list[Path]) -> Path:
    """The platform trust store as the image has it (certifi in the venv), plus the CAs of the local servers (a
    managed service's certificate chains to a public CA there)."""
    found = sorted(venv.root.glob("lib/python*/site-packages/certifi/cacert.pem"))
    if not found:
        raise services.ServiceError("no certifi bundle in the rehearsal venv")
    bundle = workdir / "trust.pem"
    bundle.write_text("".join(p.read_text() for p in [found[0], *extra]))
    bundle.chmod(0o644)
    return bundle


@contextlib.contextmanager
def _mock_llm() -> Generator[str, None, None]:
    port = services.free_port()
    cmd = [sys.executable, "-m", "gatekit.cli", "mock-llm", "--port", str(port), "--chunk-delay-ms", "0"]
    url = f"http://127.0.0.1:{port}/v1"
    with launched(
        cmd, f"{url}/models", what="gatekit mock-llm", timeout=120, ready=lambda status: status < 500, stop_timeout=20
    ):
        yield url


@contextlib.contextmanager
def shared_services(keep: bool = False) -> Generator[Shared, None, None]:
    workdir = _workdir()
    try:
        venv = gateway_venv()
        image = read_image(project_root() / "image" / "Dockerfile")
        engine = services.prisma_engine_path()
        with (
            services.redis_server(workdir / "redis") as redis,
            services.moto_server() as moto,
            _mock_llm() as mock,
        ):
            extra = [redis.ca_file] if redis.ca_file else []
            yield Shared(workdir, venv, image, redis, moto, mock, engine, _trust_bundle(workdir, venv, extra))
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)


def rehearse_environment(
    shared: Shared, env_name: str, overrides: list[str] | None = None, after_checks: AfterChecks | None = None
) -> Report:
    """Rehearse one environment against the shared services (fresh database, fresh sandbox). `after_checks`: more
    checks against the running replicas (ECS targets)."""
    env = load_environment(env_name, shared.config_dir, overrides or [])
    target_dir = shared.workdir / f"{env_name}-{os.urandom(3).hex()}"
    target_dir.mkdir()
    target_dir.chmod(0o755)
    with services.postgres_server(target_dir / "postgres") as pg:
        try:
            if env.target in ECS_TARGETS:
                from gatekit.rehearse.aws_run import rehearse_ecs

                report = rehearse_ecs(shared, env, pg, target_dir, overrides or [], after_checks)
            elif after_checks is not None:
                raise ValueError(f"after_checks: only ECS targets run them (not `{env.target}`)")
            elif env.target == "aws-eks":
                from gatekit.rehearse.aws_run import rehearse_eks

                report = rehearse_eks(shared, env, pg, target_dir, overrides or [])
            else:
                report = _rehearse_k8s(shared, env, pg, target_dir, overrides or [])
        except Exception as exc:  # synthesis or extraction failed: the report says so (and fails)
            report = Report(env.target, env.name)
            report.error = f"preparing the rehearsal failed: {type(exc).__name__}: {exc}"
    report.not_reproduced.append(PROVIDER_NOTE)
    return report


def _rehearse_k8s(
    shared: Shared, env: Environment, pg: services.Postgres, workdir: Path, overrides: list[str]
) -> Report:
    try:
        from gatekit.rehearse import k8s  # H3: manifests -> Deployment
    except ImportError:
        report = Report(env.target, env.name)
        report.error = f"no rehearsal extraction for target `{env.target}` (gatekit.rehearse.k8s is not available)"
        return report
    return k8s.rehearse(shared, env, pg, workdir, overrides)
