"""Fitting an existing estate (issue 18): Bedrock kept private, Graviton, an existing three-AZ VPC shared by two
deployments. Templates come from the session synth (tests/cdk/estate_variants.py); config rules are checked with
FILE:LINE through the loader."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from gatekit.config import default_config_dir, load_environment
from gatekit.config.errors import ConfigError
from gatekit.config.estate import GATEKIT_IMAGE_ARCHITECTURES, PRISMA_TARGETS
from tests.cdk.conftest import Synthesized
from tests.cdk.estate_variants import ENDPOINTS, PREFIX_LIST, VPC_CIDR, VPC_ID, ZONES
from tests.cdk.helpers import only, statements, task_with, text

REPO = Path(__file__).resolve().parents[2]
BEDROCK = "com.amazonaws.us-east-1.bedrock-runtime"


def _endpoint_services(item: Synthesized) -> dict[str, dict[str, Any]]:
    out = {}
    for resource in item.resources("network", "AWS::EC2::VPCEndpoint").values():
        name = resource["Properties"]["ServiceName"]
        service = name if isinstance(name, str) else text(name)
        out[service] = resource["Properties"]
    return out


def test_private_environments_with_bedrock_models_get_the_bedrock_runtime_endpoint(
    synthesized: dict[str, Synthesized],
) -> None:
    for name in ("dev", "staging", "prod", "eks"):
        props = _endpoint_services(synthesized[name])
        assert any("bedrock-runtime" in s for s in props), name
        endpoint = next(p for s, p in props.items() if "bedrock-runtime" in s)
        assert endpoint["VpcEndpointType"] == "Interface" and endpoint["PrivateDnsEnabled"] is True
    # moat serves in-network models only: no Bedrock model, no Bedrock endpoint.
    assert not any("bedrock" in s for s in _endpoint_services(synthesized["moat"]))


def test_isolated_bedrock_traffic_needs_no_nat(synthesized: dict[str, Synthesized]) -> None:
    item = synthesized["estate"]
    props = _endpoint_services(item)
    assert BEDROCK in props and props[BEDROCK]["PrivateDnsEnabled"] is True
    # The endpoint sits in the same subnets as the gateway tasks, so model calls resolve to it and stay in the VPC.
    service = only(item.resources("gateway", "AWS::ECS::Service"))["Properties"]
    task_subnets = service["NetworkConfiguration"]["AwsvpcConfiguration"]["Subnets"]
    assert sorted(props[BEDROCK]["SubnetIds"]) == sorted(task_subnets)
    assert service["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "DISABLED"
    # No NAT and no default route anywhere in the deployment.
    for stack, logical_id, resource in item.all_resources():
        assert resource["Type"] not in ("AWS::EC2::NatGateway", "AWS::EC2::InternetGateway"), f"{stack}/{logical_id}"
        if resource["Type"] == "AWS::EC2::Route":
            assert "NatGatewayId" not in resource["Properties"], f"{stack}/{logical_id}"
    # The task role may invoke exactly the configured models and inference profiles.
    bedrock = [s for s in statements(item.resources("gateway", "AWS::IAM::Policy")) if s.get("Sid") == "BedrockInvoke"]
    assert len(bedrock) == 1
    resources = text(bedrock[0]["Resource"])
    assert "inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0" in resources
    assert "foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0" in resources
    assert "foundation-model/*" not in resources and '"*"' not in resources


def test_existing_vpc_is_imported_not_created(synthesized: dict[str, Synthesized]) -> None:
    for name in ("estate", "estate-eks"):
        item = synthesized[name]
        created = {r["Type"] for _, _, r in item.all_resources()}
        assert not created & {"AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::EC2::RouteTable", "AWS::EC2::FlowLog"}
        groups = item.resources("network", "AWS::EC2::SecurityGroup")
        assert groups and all(g["Properties"]["VpcId"] == VPC_ID for g in groups.values())
    # The data stores use the estate's three private subnets; clients come from the estate's prefix list.
    estate = synthesized["estate"]
    subnets = only(estate.resources("data", "AWS::RDS::DBSubnetGroup"))["Properties"]["SubnetIds"]
    assert len(subnets) == len(ZONES) and all(s.startswith("subnet-0") for s in subnets)
    alb_sg = [g for g in estate.resources("network", "AWS::EC2::SecurityGroup").values() if "load balancer" in text(g)]
    assert VPC_CIDR in text(alb_sg)
    from_clients = estate.resources("network", "AWS::EC2::SecurityGroupIngress").values()
    # HTTPS, plus HTTP only for the listener that redirects to it.
    assert sorted(
        r["Properties"]["FromPort"] for r in from_clients if r["Properties"].get("SourcePrefixListId") == PREFIX_LIST
    ) == [80, 443]
    s3 = [p for s, p in _endpoint_services(estate).items() if ".s3" in s]
    assert len(s3) == 1 and s3[0]["VpcEndpointType"] == "Gateway" and len(s3[0]["RouteTableIds"]) == len(ZONES)


def test_two_deployments_in_one_vpc_do_not_collide(synthesized: dict[str, Synthesized]) -> None:
    first, second = synthesized["estate"], synthesized["estate-eks"]
    assert len(_endpoint_services(first)) == len(ENDPOINTS)
    # The second lists the first's endpoints as existing: no second private-DNS endpoint for any service.
    assert _endpoint_services(second) == {}
    assert set(first.templates).isdisjoint(second.templates)  # stack names differ by prefix


def test_graviton_tasks_and_nodes(synthesized: dict[str, Synthesized]) -> None:
    estate = synthesized["estate"]
    definitions = estate.resources("gateway", "AWS::ECS::TaskDefinition")
    gateway = task_with(definitions, "gateway")["Properties"]
    assert gateway["RuntimePlatform"] == {"CpuArchitecture": "ARM64", "OperatingSystemFamily": "LINUX"}
    migrations = [d for d in definitions.values() if d["Properties"] is not gateway]
    assert migrations and all(d["Properties"]["RuntimePlatform"]["CpuArchitecture"] == "ARM64" for d in migrations)
    nodes = only(synthesized["estate-eks"].resources("gateway", "AWS::EKS::Nodegroup"))["Properties"]
    assert nodes["AmiType"] == "AL2023_ARM_64_STANDARD" and nodes["InstanceTypes"] == ["m7g.large"]
    x86 = task_with(synthesized["staging"].resources("gateway", "AWS::ECS::TaskDefinition"), "gateway")
    assert x86["Properties"]["RuntimePlatform"]["CpuArchitecture"] == "X86_64"


def test_declared_image_architectures_match_the_dockerfile() -> None:
    dockerfile = (REPO / "image" / "Dockerfile").read_text()
    targets = set(re.findall(r"PRISMA_CLI_BINARY_TARGETS=(\S+)", dockerfile))
    assert targets == {PRISMA_TARGETS[a] for a in GATEKIT_IMAGE_ARCHITECTURES}


def _config(tmp_path: Path, staging_extra: str) -> Path:
    config = tmp_path / "config"
    shutil.copytree(default_config_dir(), config)
    env_file = config / "environments" / "staging.yaml"
    env_file.write_text(env_file.read_text() + staging_extra)
    return config


def _problems(config: Path, name: str = "staging") -> str:
    with pytest.raises(ConfigError) as caught:
        load_environment(name, config)
    return str(caught.value)


def test_arm64_is_refused_for_gatekit_image_with_file_and_line(tmp_path: Path) -> None:
    config = _config(tmp_path, "\n# estate\n")
    env_file = config / "environments" / "staging.yaml"
    lines = env_file.read_text().splitlines()
    compute_at = next(i for i, line in enumerate(lines) if line.startswith("compute:"))
    lines.insert(compute_at + 1, "  architecture: arm64")
    env_file.write_text("\n".join(lines) + "\n")
    message = _problems(config)
    assert f"staging.yaml:{compute_at + 2}" in message
    assert "compute.architecture" in message and "built for x86_64 only" in message


def test_isolated_bedrock_without_endpoint_is_refused_with_file_and_line(tmp_path: Path) -> None:
    config = tmp_path / "config"
    shutil.copytree(default_config_dir(), config)
    moat = config / "environments" / "moat.yaml"
    text_ = moat.read_text().replace(
        "model: openai/llama-3.1-8b-instruct", "model: bedrock/us.anthropic.claude-3-5-haiku-20241022-v1:0"
    )
    moat.write_text(text_)
    line = text_.splitlines().index("        model: bedrock/us.anthropic.claude-3-5-haiku-20241022-v1:0") + 1
    message = _problems(config, "moat")
    assert f"moat.yaml:{line}" in message and "needs the `bedrock-runtime` VPC endpoint" in message
    moat.write_text(text_.replace("monitoring]", "monitoring, bedrock-runtime]"))
    assert load_environment("moat", config).network.mode == "isolated"


def test_existing_subnets_must_span_the_configured_az_count() -> None:
    from tests.cdk.estate_variants import ESTATE_VARIANTS

    base, overrides = ESTATE_VARIANTS["estate"]
    with pytest.raises(ConfigError) as caught:
        load_environment(base, default_config_dir(), [*overrides, "network.az_count=2"])
    assert "needs one subnet in each of network.az_count=2 AZs (got 3 subnets in 3 AZs" in str(caught.value)
