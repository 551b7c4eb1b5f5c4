"""Deploy-breaking defects the rehearsal found in the AWS stacks (issue 11), each pinned on the synthesized templates.
The behaviour behind them (migrations, grants, hot reload) is run for real by tests/rehearse."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gatekit.cli import cli
from gatekit.config import ConfigError, default_config_dir, load_environment
from gatekit.config.checks import check_environment
from tests.cdk.conftest import Synthesized
from tests.cdk.helpers import containers, only, statements, text

DOCKERFILE = Path(__file__).resolve().parents[2] / "image" / "Dockerfile"


def _image_entrypoint() -> list[str]:
    line = next(ln for ln in DOCKERFILE.read_text().splitlines() if ln.startswith("ENTRYPOINT"))
    return json.loads(line.removeprefix("ENTRYPOINT").strip())


def _migrations_container(synth: Synthesized) -> dict[str, Any]:
    tasks = synth.resources("gateway", "AWS::ECS::TaskDefinition")
    return containers(only({k: v for k, v in tasks.items() if "migrations" in containers(v)}))["migrations"]


def test_migrations_task_runs_a_command_the_image_has(each_env: Synthesized) -> None:
    """Was `litellm --config /etc/gatekit/litellm.yaml`: the image never has that file."""
    container = _migrations_container(each_env)
    argv = [*container.get("EntryPoint", _image_entrypoint()), *container["Command"]]
    assert argv[-2:] == ["/opt/gatekit/venv/bin/gatekit", "migrate"], argv
    assert not any(a.startswith("/etc/gatekit") for a in argv)
    result = CliRunner().invoke(cli, ["migrate", "--help"])
    assert result.exit_code == 0, result.output


def _runtime_user_call(synth: Synthesized) -> tuple[str, dict[str, Any]]:
    resource = only(
        {k: v for k, v in synth.resources("data").items() if v["Type"] == "Custom::AWS" and "RuntimeUser" in k}
    )
    create = resource["Properties"]["Create"]
    literal = "".join(p for p in create["Fn::Join"][1] if isinstance(p, str))
    return literal, resource


def test_views_are_created_by_migrations_and_read_by_the_runtime_user(each_env: Synthesized) -> None:
    """LiteLLM creates its views at start only when missing, as the user it connects as, which may not create
    (least privilege). The migrations task creates them as the admin user, whose default privileges let the
    runtime user read them. (tests/rehearse runs this against PostgreSQL.)"""
    sql, _ = _runtime_user_call(each_env)
    assert "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES" in sql
    assert not re.search(r"GRANT[^;]*CREATE[^;]*ON SCHEMA", sql), sql
    assert _migrations_container(each_env)["Command"] == ["migrate"]
    from gatekit.runtime import migrate

    assert "views" in (migrate.__doc__ or "")


def test_runtime_user_resource_can_decrypt_the_master_secret(each_env: Synthesized) -> None:
    """The RDS-managed master secret is encrypted with the data key: GetSecretValue alone fails."""
    policies = {
        k: v
        for k, v in each_env.resources("data", "AWS::IAM::Policy").items()
        if k.startswith("DatabaseRuntimeUserCustomResourcePolicy")
    }
    decrypt = [s for s in statements(policies) if s["Action"] == "kms:Decrypt"]
    assert decrypt, statements(policies)
    assert "DataKey" in text(decrypt[0]["Resource"])


def test_secret_removal_cannot_strand_an_export(every_synth: Synthesized) -> None:
    """A secret dropped from the config is deleted with its export while the gateway stack still imports it, so
    `cdk deploy --all` fails at the secrets stack: consumers must import secrets by name/ARN, never by export."""
    secret_ids = {
        f"{stack}:{lid}"
        for stack, lid, resource in every_synth.all_resources()
        if resource["Type"] == "AWS::SecretsManager::Secret"
    }
    for stack, template in every_synth.templates.items():
        for name, output in template.get("Outputs", {}).items():
            if "Export" in output:
                refs = re.findall(r'"(?:Ref|Fn::GetAtt)": (?:"|\[")([A-Za-z0-9]+)', text(output["Value"]))
                assert not {f"{stack}:{r}" for r in refs} & secret_ids, f"{stack} exports a secret: {name}"


def test_eks_nodes_run_al2023(synthesized: dict[str, Synthesized]) -> None:
    """Kubernetes 1.33 has no Amazon Linux 2 EKS-optimized AMI."""
    nodes = only(synthesized["eks"].resources("gateway", "AWS::EKS::Nodegroup"))["Properties"]
    assert nodes["AmiType"] == "AL2023_x86_64_STANDARD"


def test_eks_pods_reach_database_and_cache(synthesized: dict[str, Synthesized]) -> None:
    eks = synthesized["eks"]
    rules = eks.resources("gateway", "AWS::EC2::SecurityGroupIngress").values()
    admitted = {
        (text(r["Properties"]["GroupId"]), r["Properties"]["FromPort"])
        for r in rules
        if "ClusterSecurityGroupId" in text(r["Properties"].get("SourceSecurityGroupId"))
    }
    ports = {port for _, port in admitted}
    assert {5432, 6379} <= ports, admitted
    assert any("DatabaseSg" in group for group, _ in admitted) and any("CacheSg" in g for g, _ in admitted)


def test_moat_collector_config_has_an_ssm_endpoint(synthesized: dict[str, Synthesized]) -> None:
    moat = synthesized["moat"]
    endpoints = moat.resources("network", "AWS::EC2::VPCEndpoint").values()
    assert any("ssm" in text(e["Properties"]["ServiceName"]) and "ssmmessages" not in text(e) for e in endpoints)
    collector = containers(
        only(
            {
                k: v
                for k, v in moat.resources("gateway", "AWS::ECS::TaskDefinition").items()
                if "adot-collector" in containers(v)
            }
        )
    )["adot-collector"]
    assert {s["Name"] for s in collector["Secrets"]} == {"AOT_CONFIG_CONTENT"}
    assert "Command" not in collector


def test_isolated_network_without_ssm_is_refused() -> None:
    without = "network.endpoints=[s3, secretsmanager, ecr.api, ecr.dkr, logs]"
    with pytest.raises(ConfigError, match="ssm"):
        load_environment("moat", default_config_dir(), [without])
    env = load_environment("moat", default_config_dir())
    assert "ssm" in env.network.endpoints and not check_environment(env)


def test_ecr_lifecycle_never_expires_the_mirrored_collector(each_env: Synthesized) -> None:
    repository = only(each_env.resources("config", "AWS::ECR::Repository"))
    rules = json.loads(repository["Properties"]["LifecyclePolicy"]["LifecyclePolicyText"])["rules"]
    collector_tag = "aws-otel-collector-v0.43.3"
    for rule in rules:
        selection = rule["selection"]
        assert selection["tagStatus"] != "any", rule
        if selection["tagStatus"] == "tagged":
            prefixes = selection.get("tagPrefixList", []) + selection.get("tagPatternList", [])
            assert prefixes and not any(collector_tag.startswith(p.rstrip("*")) for p in prefixes), rule


def test_eks_secret_sync_is_on(synthesized: dict[str, Synthesized]) -> None:
    """Pods read their secrets from the Secret the CSI driver syncs; the driver syncs only with syncSecret enabled."""
    addons = {
        a["Properties"]["AddonName"]: a["Properties"]
        for a in synthesized["eks"].resources("gateway", "AWS::EKS::Addon").values()
    }
    values = json.loads(addons["aws-secrets-store-csi-driver-provider"]["ConfigurationValues"])
    assert values["secrets-store-csi-driver"]["syncSecret"]["enabled"] is True
