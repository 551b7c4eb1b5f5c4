"""`gatekit pulumi plan`: what `pulumi up` would create for one stack, offline, checked against the policy pack."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import click

from gatekit.cli.options import set_option

# A few properties per type that a reviewer wants on one line; other types show their scalar inputs.
KEY_PROPS: dict[str, tuple[str, ...]] = {
    "kubernetes:apps/v1:Deployment": (
        "metadata.name",
        "spec.template.spec.containers.0.image",
        "spec.template.spec.terminationGracePeriodSeconds",
    ),
    "kubernetes:core/v1:Service": ("metadata.name", "spec.type"),
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": ("metadata.name", "spec.minReplicas", "spec.maxReplicas"),
    "gcp:container/cluster:Cluster": ("location", "minMasterVersion", "datapathProvider"),
    "gcp:sql/databaseInstance:DatabaseInstance": (
        "databaseVersion",
        "settings.tier",
        "settings.ipConfiguration.ipv4Enabled",
        "deletionProtection",
    ),
    "gcp:redis/instance:Instance": ("tier", "transitEncryptionMode", "authEnabled"),
    "azure-native:containerservice:ManagedCluster": ("kubernetesVersion", "disableLocalAccounts"),
    "azure-native:dbforpostgresql:Server": ("version", "sku.name", "network.publicNetworkAccess"),
    "azure-native:redis:Redis": ("sku.name", "minimumTlsVersion", "publicNetworkAccess"),
}


def default_project_dir() -> Path:
    here = Path.cwd() / "pulumi"
    if (here / "Pulumi.yaml").is_file():
        return here
    return Path(__file__).resolve().parents[2] / "pulumi"


def redact(node: Any) -> Any:
    from gatekit.clouds.policy import Secret

    if isinstance(node, Secret):
        return "[secret]"
    if isinstance(node, dict):
        return {k: redact(v) for k, v in cast("dict[Any, Any]", node).items()}
    if isinstance(node, list):
        return [redact(v) for v in cast("list[Any]", node)]
    return node


def _lookup(props: Any, path: str) -> Any:
    node = props
    for part in path.split("."):
        if isinstance(node, list):
            items = cast("list[Any]", node)
            if not (part.isdigit() and int(part) < len(items)):
                return None
            node = items[int(part)]
        elif isinstance(node, dict):
            node = cast("dict[Any, Any]", node).get(part)
        else:
            return None
    return node


def _shown(value: Any) -> Any:
    # The engine passes every number as a float; 70.0 seconds reads better as 70.
    return int(value) if isinstance(value, float) and value.is_integer() else value


def key_properties(typ: str, inputs: dict[str, Any]) -> dict[str, Any]:
    props = redact(inputs)
    if typ in KEY_PROPS:
        paths: tuple[str, ...] = KEY_PROPS[typ]
    elif typ.startswith("kubernetes:"):
        paths = ("metadata.namespace", "metadata.name")
    else:
        scalars = [k for k, v in props.items() if isinstance(v, (str, int, float, bool)) and len(str(v)) <= 80]
        paths = tuple(scalars[:4])
    return {p: _shown(_lookup(props, p)) for p in paths if _lookup(props, p) is not None}


@click.group("pulumi")
def pulumi_group() -> None:
    """Pulumi programs for GCP, Azure and any Kubernetes cluster (pulumi/)."""


@pulumi_group.command()
@click.option("--stack", required=True, help="Stack name: pulumi/Pulumi.<stack>.yaml (gcp, azure, k8s, …).")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON (every input, secrets redacted).")
@click.option(
    "--project-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Pulumi project directory (default: ./pulumi or the repository's pulumi/).",
)
@set_option
def plan(stack: str, as_json: bool, project_dir: Path | None, overrides: tuple[str, ...]) -> None:
    """Run the stack's program under mocks (no credentials, no Pulumi CLI) and print every resource `pulumi up`
    would create, then the policy pack's findings. Exit 1 on a mandatory policy violation."""
    import pulumi

    from gatekit.clouds.plan import run_plan

    try:
        result = run_plan(stack, project_dir or default_project_dir(), overrides)
    except (FileNotFoundError, pulumi.RunError, ValueError) as exc:
        click.echo(f"gatekit pulumi plan: {exc}", err=True)
        raise SystemExit(2) from None
    mandatory = [v for v in result.violations if v.mandatory]
    if as_json:
        payload = {
            "stack": stack,
            "environment": result.environment.name,
            "target": result.environment.target,
            "resources": [{"type": r.type, "name": r.name, "inputs": redact(r.inputs)} for r in result.resources],
            "violations": [v.__dict__ for v in result.violations],
        }
        click.echo(json.dumps(payload, indent=2, sort_keys=False, default=str))
    else:
        click.echo(f"stack {stack}: environment {result.environment.name} (target {result.environment.target})")
        for r in result.resources:
            props = ", ".join(f"{k}={v}" for k, v in key_properties(r.type, r.inputs).items())
            click.echo(f"  + {r.type:<62} {r.name}" + (f"  [{props}]" if props else ""))
        click.echo(f"{len(result.resources)} resources to create")
        for v in result.violations:
            level = "mandatory" if v.mandatory else "advisory"
            click.echo(f"  ! [{level}] {v.policy}: {v.resource_type} {v.resource_name}: {v.message}")
        click.echo(f"policy: {len(result.violations)} violation(s), {len(mandatory)} mandatory")
    if mandatory:
        raise SystemExit(1)
