"""Offline plan: run the Pulumi program under `pulumi.runtime.set_mocks` (no cloud credentials, no Pulumi CLI),
record every resource it registers, and check each against the policy pack."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pulumi
from pulumi.runtime.settings import SETTINGS as _SETTINGS
from pulumi.runtime.stack import run_pulumi_func

# Pulumi's own `pulumi.runtime.test` drives a program this way; there is no public equivalent (ADR 0030).
from pulumi.runtime.sync_await import _sync_await  # pyright: ignore[reportPrivateUsage]

from gatekit.clouds.policy import Context, Secret, StackResource, Violation, check, check_stack
from gatekit.config import Environment

# Pulumi's private runtime settings (context-variable descriptors the type checker cannot see through).
SETTINGS: Any = _SETTINGS

SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
MOCK_PROJECT_NUMBER = "123456789012"
MOCK_TENANT = "00000000-0000-0000-0000-000000000001"

# What AKS returns for a cluster with Entra ID: a kubelogin user with the interactive device-code login.
MOCK_AKS_KUBECONFIG = base64.b64encode(
    b"""apiVersion: v1
kind: Config
clusters:
- name: mock-aks
  cluster: {server: 'https://mock-aks.hcp.example:443', certificate-authority-data: bW9jay1jYQ==}
contexts:
- name: mock-aks
  context: {cluster: mock-aks, user: clusterUser_mock}
current-context: mock-aks
users:
- name: clusterUser_mock
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubelogin
      args: [get-token, --environment, AzurePublicCloud, --server-id, 6dae42f8-4368-4678-94ff-3960e28e3630,
             --client-id, 80faf920-1908-4b52-b5ef-a8e7bedfc67a, --tenant-id, 00000000-0000-0000-0000-000000000001,
             --login, devicecode]
"""
).decode()

# Values the cloud would compute on create, so programs that build on them (connection URLs, kubeconfigs) run.
COMPUTED: dict[str, dict[str, Any]] = {
    "gcp:container/cluster:Cluster": {
        "endpoint": "192.0.2.10",
        "masterAuth": {"clusterCaCertificate": "bW9jay1jYQ=="},
    },
    "gcp:sql/databaseInstance:DatabaseInstance": {
        "privateIpAddress": "10.10.0.3",
        "serverCaCerts": [{"cert": "mock-sql-ca"}],
    },
    "gcp:redis/instance:Instance": {
        "host": "10.10.1.4",
        "port": 6378,
        "authString": "mock-auth",
        "serverCaCerts": [{"cert": "mock-ca"}],
    },
    "gcp:serviceaccount/account:Account": {"email": "mock@example.iam.gserviceaccount.com"},
    "random:index/randomPassword:RandomPassword": {"result": "mock-password"},
    "random:index/randomId:RandomId": {"hex": "a1b2c3"},
    "azure-native:containerservice:ManagedCluster": {
        "oidcIssuerProfile": {"enabled": True, "issuerURL": "https://oidc.example/"},
        "identity": {"type": "SystemAssigned", "principalId": "00000000-0000-0000-0000-000000000006"},
        "fqdn": "mock-aks.hcp.example",
    },
    "azure-native:managedidentity:UserAssignedIdentity": {
        "clientId": "00000000-0000-0000-0000-000000000002",
        "principalId": "00000000-0000-0000-0000-000000000003",
    },
    "azure-native:dbforpostgresql:Server": {"fullyQualifiedDomainName": "mock-pg.postgres.example"},
    "azure-native:redis:Redis": {"hostName": "mock-redis.redis.example", "sslPort": 6380},
    "azure-native:applicationinsights:Component": {"connectionString": "InstrumentationKey=mock"},
    "azure-native:keyvault:Vault": {"properties": {"vaultUri": "https://mock-kv.vault.example/"}},
    "azure-native:storage:StorageAccount": {"primaryEndpoints": {"blob": "https://mockstorage.blob.example/"}},
}
CALLS: dict[str, dict[str, Any]] = {
    "gcp:organizations/getProject:getProject": {"number": MOCK_PROJECT_NUMBER},
    "azure-native:authorization:getClientConfig": {
        "tenantId": MOCK_TENANT,
        "subscriptionId": "00000000-0000-0000-0000-000000000000",
        "objectId": "00000000-0000-0000-0000-000000000004",
        "clientId": "00000000-0000-0000-0000-000000000005",
    },
    "azure-native:redis:listRedisKeys": {"primaryKey": "mock-key", "secondaryKey": "mock-key-2"},
    "azure-native:containerservice:listManagedClusterUserCredentials": {
        "kubeconfigs": [{"name": "clusterUser", "value": MOCK_AKS_KUBECONFIG}]
    },
}


def unwrap(node: Any) -> Any:
    """Mock inputs with Pulumi's secret marker become `Secret`, recursively."""
    if isinstance(node, dict):
        mapping = cast(dict[str, Any], node)
        if mapping.get(SECRET_SIG_KEY) == SECRET_SIG:
            return Secret(unwrap(mapping.get("value")))
        return {k: unwrap(v) for k, v in mapping.items()}
    if isinstance(node, list):
        return [unwrap(v) for v in cast(list[Any], node)]
    return node


@dataclass
class PlannedResource:
    type: str
    name: str
    inputs: dict[str, Any]
    violations: list[Violation] = field(default_factory=list)
    # Logical names of the resources it explicitly waits for (`depends_on`, as the engine receives them).
    depends_on: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class PlannedCall:
    token: str
    provider: str  # the provider reference the invoke goes through (`urn::id`; a default provider is `default_*`)


def _urn_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


class PlanMocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[PlannedResource] = []
        self.calls: list[PlannedCall] = []
        self._dependencies: dict[str, set[str]] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        deps = self._dependencies.get(args.name, set())
        inputs: dict[str, Any] = cast(Any, args).inputs  # MockResourceArgs leaves `inputs` untyped
        self.resources.append(PlannedResource(args.typ, args.name, unwrap(inputs), depends_on=deps))
        state = {"name": f"{args.name}-mock", **inputs, **COMPUTED.get(args.typ, {})}
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        self.calls.append(PlannedCall(args.token, args.provider or ""))
        return CALLS.get(args.token, {}), []  # no check failures

    def record_dependencies(self) -> None:
        """Wrap the mock monitor so each registration's explicit dependencies are recorded (set after set_mocks)."""
        monitor = SETTINGS.monitor
        register = monitor.RegisterResource

        def recording(request: Any) -> Any:
            self._dependencies[request.name] = {_urn_name(u) for u in request.dependencies}
            return register(request)

        monitor.RegisterResource = recording


@dataclass
class Plan:
    stack: str
    environment: Environment
    resources: list[PlannedResource]
    calls: list[PlannedCall] = field(default_factory=list)

    @property
    def violations(self) -> list[Violation]:
        return [v for r in self.resources for v in r.violations]


def stack_config(project_dir: Path, stack: str) -> dict[str, Any]:
    """The `config:` of pulumi/Pulumi.<stack>.yaml."""
    import yaml

    path = project_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in project_dir.glob("Pulumi.*.yaml"))
        raise FileNotFoundError(f"no stack `{stack}` in {project_dir} (stacks: {', '.join(known)})")
    document: dict[str, Any] = yaml.safe_load(path.read_text()) or {}
    return dict(document.get("config") or {})


PLACEHOLDER_SECRET = "plan-placeholder-operator-secret"


def set_stack_config(config: dict[str, str], operator_secrets: dict[str, str] | None = None) -> Environment:
    """Load the stack config into the Pulumi runtime, plus the operator's secrets (`gatekit-secrets:VAR`, as
    secret config). Without `operator_secrets`, each one the environment needs gets a placeholder (an offline
    plan never sees real secret values). Returns the stack's environment."""
    from pulumi.runtime.config import set_all_config

    from gatekit.clouds import program
    from gatekit.clouds.common import OPERATOR_SECRETS, operator_secret_vars

    set_all_config(config)
    env = program.stack_environment()
    if env.target in ("gcp", "azure"):
        values = operator_secrets
        if values is None:
            values = {var: PLACEHOLDER_SECRET for var in operator_secret_vars(env)}
        secret = {f"{OPERATOR_SECRETS}:{var}": value for var, value in values.items()}
        set_all_config({**config, **secret}, secret_keys=sorted(secret))
    return env


def run_plan(
    stack: str, project_dir: Path, overrides: tuple[str, ...] = (), operator_secrets: dict[str, str] | None = None
) -> Plan:
    """Run the program of one stack under mocks and return every resource with its policy violations."""
    from gatekit.clouds import program

    config = {k: v if isinstance(v, str) else _json(v) for k, v in stack_config(project_dir, stack).items()}
    if overrides:
        config["gatekit:overrides"] = _json(list(overrides))
    mocks = PlanMocks()
    pulumi.runtime.set_mocks(mocks, project="gatekit", stack=stack, preview=False)
    mocks.record_dependencies()
    env = set_stack_config(config, operator_secrets)
    SETTINGS.rpc_manager.clear()
    SETTINGS.outputs.clear()

    def deploy() -> None:
        program.deploy(env)

    _sync_await(run_pulumi_func(deploy))
    ctx = Context(required_tags=tuple(env.required_tags), secrets_marked=True)
    for resource in mocks.resources:
        resource.violations = check(resource.type, resource.name, resource.inputs, ctx)
    by_name = {r.name: r for r in mocks.resources}
    for violation in check_stack([StackResource(r.type, r.name, r.inputs) for r in mocks.resources]):
        by_name[violation.resource_name].violations.append(violation)
    return Plan(stack=stack, environment=env, resources=mocks.resources, calls=mocks.calls)


def _json(value: Any) -> str:
    import json

    return json.dumps(value)
