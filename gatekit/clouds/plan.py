"""Offline plan: run the Pulumi program under `pulumi.runtime.set_mocks` (no cloud credentials, no Pulumi CLI),
record every resource it registers, and check each against the policy pack."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime.settings import SETTINGS
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from gatekit.clouds.policy import Context, Secret, Violation, check
from gatekit.config import Environment

SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
MOCK_PROJECT_NUMBER = "123456789012"
MOCK_TENANT = "00000000-0000-0000-0000-000000000001"

# Values the cloud would compute on create, so programs that build on them (connection URLs, kubeconfigs) run.
COMPUTED: dict[str, dict[str, Any]] = {
    "gcp:container/cluster:Cluster": {
        "endpoint": "192.0.2.10",
        "masterAuth": {"clusterCaCertificate": "bW9jay1jYQ=="},
    },
    "gcp:sql/databaseInstance:DatabaseInstance": {"privateIpAddress": "10.10.0.3"},
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
        "kubeconfigs": [{"name": "clusterUser", "value": "YXBpVmVyc2lvbjogdjEK"}]
    },
}


def unwrap(node: Any) -> Any:
    """Mock inputs with Pulumi's secret marker become `Secret`, recursively."""
    if isinstance(node, dict):
        if node.get(SECRET_SIG_KEY) == SECRET_SIG:
            return Secret(unwrap(node.get("value")))
        return {k: unwrap(v) for k, v in node.items()}
    if isinstance(node, list):
        return [unwrap(v) for v in node]
    return node


@dataclass
class PlannedResource:
    type: str
    name: str
    inputs: dict[str, Any]
    violations: list[Violation] = field(default_factory=list)


class PlanMocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[PlannedResource] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(PlannedResource(args.typ, args.name, unwrap(args.inputs)))
        state = {"name": f"{args.name}-mock", **args.inputs, **COMPUTED.get(args.typ, {})}
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        return CALLS.get(args.token, {})


@dataclass
class Plan:
    stack: str
    environment: Environment
    resources: list[PlannedResource]

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
    return dict((yaml.safe_load(path.read_text()) or {}).get("config") or {})


def run_plan(stack: str, project_dir: Path, overrides: tuple[str, ...] = ()) -> Plan:
    """Run the program of one stack under mocks and return every resource with its policy violations."""
    from pulumi.runtime.config import set_all_config

    from gatekit.clouds import program

    config = {k: v if isinstance(v, str) else _json(v) for k, v in stack_config(project_dir, stack).items()}
    if overrides:
        config["gatekit:overrides"] = _json(list(overrides))
    mocks = PlanMocks()
    pulumi.runtime.set_mocks(mocks, project="gatekit", stack=stack, preview=False)
    set_all_config(config)
    SETTINGS.rpc_manager.clear()
    SETTINGS.outputs.clear()
    env = program.stack_environment()
    _sync_await(run_pulumi_func(lambda: program.deploy(env)))
    ctx = Context(required_tags=tuple(env.required_tags), secrets_marked=True)
    for resource in mocks.resources:
        resource.violations = check(resource.type, resource.name, resource.inputs, ctx)
    return Plan(stack=stack, environment=env, resources=mocks.resources)


def _json(value: Any) -> str:
    import json

    return json.dumps(value)
