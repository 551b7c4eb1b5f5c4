"""The one container contract of the gateway image: who it runs as, where it may write, its port, its probes and
the entrypoint arguments of its two processes (the gateway and the migrations run).

image/Dockerfile builds to it (the image tests compare USER, VOLUME, EXPOSE, ENTRYPOINT, CMD and the runtime
directory with it), and every deployment renders from it: the ECS task definitions (cdk/), the Kubernetes
Deployment and migrations Job (gatekit/render/k8s*.py), and the rehearsal that runs those artefacts.
"""

from __future__ import annotations

from dataclasses import dataclass

from gatekit.config import Environment

UID = 65532  # the distroless `nonroot` user of the runtime base image
GID = 65532
ENTRYPOINT: tuple[str, ...] = ("/usr/bin/tini", "--", "/opt/gatekit/venv/bin/gatekit")
GATEWAY_ARGS: tuple[str, ...] = ("serve",)
MIGRATIONS_ARGS: tuple[str, ...] = ("migrate",)
IMAGE_PORT = 4000  # EXPOSE in the image; the deployed port is `gateway.port` (default 4000)
RUNTIME_DIR = "/var/lib/gatekit"  # GATEKIT_RUNTIME_DIR: the rendered LiteLLM config, config-sync state
LIVENESS_PATH = "/health/liveliness"
READINESS_PATH = "/health/readiness"
HEALTHCHECK = ("/opt/gatekit/venv/bin/python", "/opt/gatekit/healthcheck.py")
# Read-only configuration the deployment mounts (k8s: the config ConfigMap), including the CA bundles the clients
# verify their servers against: the database's at DATABASE_CA_PATH (sslmode=verify-full&sslrootcert=…).
CONFIG_DIR = "/etc/gatekit/config"
DATABASE_CA_FILE = "postgres-ca.pem"
DATABASE_CA_PATH = f"{CONFIG_DIR}/{DATABASE_CA_FILE}"
# Where no config volume exists (ECS; the AWS targets alike): the database's CA bundle as PEM text in this variable.
# The gateway and `gatekit migrate` write it to <runtime dir>/DATABASE_CA_FILE at start and point
# DATABASE_SSLROOTCERT at it (gatekit.runtime.database.write_database_ca); DATABASE_SSLMODE says verify-full.
DATABASE_CA_ENV = "GATEKIT_DATABASE_CA"


@dataclass(frozen=True)
class WritablePath:
    """A writable volume under the read-only root filesystem (k8s emptyDir, ECS task volume, image VOLUME)."""

    name: str
    path: str
    size_mib: int


# The only writable paths (HOME and XDG_CACHE_HOME point under /tmp in the image).
WRITABLE_PATHS: tuple[WritablePath, ...] = (
    WritablePath("tmp", "/tmp", 256),
    WritablePath("runtime", RUNTIME_DIR, 64),
)


@dataclass(frozen=True)
class Probe:
    path: str
    period_seconds: int
    failure_threshold: int
    timeout_seconds: int = 5


@dataclass(frozen=True)
class ContainerSpec:
    uid: int
    gid: int
    port: int
    entrypoint: tuple[str, ...]
    args: tuple[str, ...]
    writable: tuple[WritablePath, ...]
    startup: Probe
    liveness: Probe
    readiness: Probe
    runtime_dir: str = RUNTIME_DIR

    @property
    def user(self) -> str:
        """`uid:gid`, as ECS `user` and the Dockerfile's USER write it."""
        return f"{self.uid}:{self.gid}"

    @property
    def argv(self) -> tuple[str, ...]:
        return (*self.entrypoint, *self.args)

    @property
    def writable_dirs(self) -> tuple[str, ...]:
        return tuple(w.path for w in self.writable)

    @property
    def startup_grace_seconds(self) -> int:
        """How long the platform waits for the first successful liveness answer."""
        return self.startup.period_seconds * self.startup.failure_threshold


def _image_container(env: Environment, args: tuple[str, ...]) -> ContainerSpec:
    """A process of the gateway image: same user, port, writable paths and probes; only its arguments differ."""
    return ContainerSpec(
        uid=UID,
        gid=GID,
        port=env.gateway.port,
        entrypoint=ENTRYPOINT,
        args=args,
        writable=WRITABLE_PATHS,
        startup=Probe(LIVENESS_PATH, period_seconds=5, failure_threshold=60),
        liveness=Probe(LIVENESS_PATH, period_seconds=15, failure_threshold=3),
        readiness=Probe(READINESS_PATH, period_seconds=5, failure_threshold=2),
    )


def gateway_container(env: Environment) -> ContainerSpec:
    """The gateway process (`gatekit serve`) of one environment."""
    return _image_container(env, GATEWAY_ARGS)


def migrations_container(env: Environment) -> ContainerSpec:
    """The one-shot migrations run (`gatekit migrate`) that precedes every gateway rollout."""
    return _image_container(env, MIGRATIONS_ARGS)
