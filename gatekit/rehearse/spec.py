"""What a target deploys, in platform-neutral terms: the processes it starts (in order) and where their config
document comes from. Every extractor (ECS task definitions, k8s manifests) produces a `Deployment`; the rehearsal
runner only ever reads these types, so a defect in what a target emits shows up as a failed check, not as a
difference between two runners.

Conventions every extractor follows:
- `argv` is the process's full argv *as the image would run it* (entrypoint + command, e.g.
  `["/usr/bin/tini", "--", "/opt/gatekit/venv/bin/gatekit", "serve"]` or `["litellm", "--config", ...]`); the
  runner maps image paths onto its rehearsal venv and never rewrites arguments.
- `env` holds exactly the plain variables the platform sets (the image's own ENV is the runner's business);
  `secret_env` names, per variable, the secret the platform injects (never a value).
- `writable_paths` are the only paths the process may write (mounted volumes); everything else is read-only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ProcessKind = Literal["migrations", "gateway"]
# Where a secret reference is resolved from: AWS Secrets Manager (ECS `secrets`, EKS secrets synced from it),
# SSM Parameter Store, a Kubernetes Secret (secretKeyRef / envFrom), or a value the operator supplies by hand.
SecretStore = Literal["aws-secretsmanager", "aws-ssm", "k8s-secret", "operator"]
# How replicas receive the config document: polled object stores, or a mounted file (ConfigMap, volume).
ConfigSourceType = Literal["s3", "gcs", "azure-blob", "file"]


@dataclass(frozen=True)
class SecretSource:
    """One injected secret: `store` + `name` (Secrets Manager ARN/name, SSM parameter, k8s Secret name) and, when the
    stored value is a JSON object or a multi-key Secret, the `key` inside it (ECS `arn:...:json-key::`, secretKeyRef
    key)."""

    store: SecretStore
    name: str
    key: str | None = None

    def describe(self) -> str:
        return f"{self.store}:{self.name}" + (f"#{self.key}" if self.key else "")


@dataclass(frozen=True)
class ProcessSpec:
    """One container/process of the deployment as the platform starts it."""

    name: str
    kind: ProcessKind
    argv: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    secret_env: dict[str, SecretSource] = field(default_factory=dict)
    uid: int = 65532
    gid: int = 65532
    writable_paths: tuple[str, ...] = ()
    read_only_root: bool = True
    port: int | None = None
    liveness_path: str | None = None
    readiness_path: str | None = None
    replicas: int = 1
    # Seconds the platform waits after SIGTERM before SIGKILL (ECS stopTimeout, k8s terminationGracePeriodSeconds).
    stop_timeout_seconds: int | None = None
    # Where the spec came from (template logical id, manifest kind/name), for evidence in the report.
    origin: str = ""


@dataclass(frozen=True)
class ConfigSource:
    """The document replicas sync: `type`, the `uri` replicas are pointed at (as rendered into their env or args),
    and the `document` text the target uploads there on deploy (the output of the sync-document contract).
    `upload` says where the deploy puts it (bucket/key, container/blob, ConfigMap name/key, file path)."""

    type: ConfigSourceType
    uri: str
    document: str
    upload: str = ""


@dataclass(frozen=True)
class DatabaseSetup:
    """SQL the target runs against the database before the migrations (roles, grants), as which user, and the users
    the processes connect as (so the runner can create them with the passwords it stores)."""

    statements: tuple[str, ...] = ()
    run_as: Literal["admin", "superuser"] = "admin"
    database: str = "litellm"
    admin_user: str = "gatekit_admin"
    runtime_user: str | None = None


@dataclass(frozen=True)
class NotReproduced:
    """A platform behaviour the rehearsal cannot run on this machine (IAM DB auth tokens, ALB, KMS, …), and why."""

    what: str
    reason: str


@dataclass
class Deployment:
    """Everything one target deploys for one environment, in start order (migrations before the gateway)."""

    target: str
    env_name: str
    processes: list[ProcessSpec]
    config_source: ConfigSource
    database: DatabaseSetup | None = None
    # Secrets the target's stacks/programs create, with the stored value's shape: a plain string (`None`) or a JSON
    # object with these keys. The runner populates the store with generated values of that shape.
    secrets: dict[str, tuple[str, ...] | None] = field(default_factory=dict)
    not_reproduced: list[NotReproduced] = field(default_factory=list)

    def of_kind(self, kind: ProcessKind) -> list[ProcessSpec]:
        return [p for p in self.processes if p.kind == kind]

    def gateway(self) -> ProcessSpec:
        gateways = self.of_kind("gateway")
        if len(gateways) != 1:
            raise ValueError(f"{self.target}/{self.env_name}: expected one gateway process, found {len(gateways)}")
        return gateways[0]
