"""Security invariants of the synthesized estate: every stack synthesizes, no fixed physical names, unique API
names, required tags, permissions boundaries (every AWS environment unless stated)."""

from __future__ import annotations

from tests.cdk.conftest import BOUNDARY_ARN, Synthesized
from tests.cdk.helpers import only

# Physical-name properties that would stop two deployments from sharing an account and region.
PHYSICAL_NAMES = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::RDS::DBCluster": "DBClusterIdentifier",
    "AWS::RDS::DBInstance": "DBInstanceIdentifier",
    "AWS::RDS::DBClusterParameterGroup": "DBClusterParameterGroupName",
    "AWS::RDS::DBSubnetGroup": "DBSubnetGroupName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::ElastiCache::ReplicationGroup": "ReplicationGroupId",
    "AWS::ElastiCache::SubnetGroup": "CacheSubnetGroupName",
    "AWS::ECS::Cluster": "ClusterName",
    "AWS::ECS::Service": "ServiceName",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "Name",
    "AWS::ElasticLoadBalancingV2::TargetGroup": "Name",
    "AWS::SNS::Topic": "TopicName",
    "AWS::ECR::Repository": "RepositoryName",
    "AWS::CloudWatch::Dashboard": "DashboardName",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::SSM::Parameter": "Name",
    "AWS::WAFv2::WebACL": "Name",
    "AWS::KMS::Alias": "AliasName",
    "AWS::EC2::SecurityGroup": "GroupName",
}


def test_every_environment_synthesizes_all_stacks(each_env: Synthesized) -> None:
    prefix = each_env.env.deployment.prefix
    parts = ("network", "secrets", "data", "config", "observability", "gateway", "monitoring")
    assert set(each_env.templates) == {f"{prefix}-{part}" for part in parts}


def test_no_fixed_physical_names(every_synth: Synthesized) -> None:
    """Only secrets carry a fixed name, and it is under the deployment's prefix (consumers import them by name, so
    that removing one never strands a cross-stack export; the prefix keeps deployments apart)."""
    prefix = every_synth.env.deployment.prefix + "/"
    named = [
        f"{stack}/{logical_id}"
        for stack, logical_id, resource in every_synth.all_resources()
        if PHYSICAL_NAMES.get(resource["Type"]) in resource.get("Properties", {})
        # AWS WAF logs only to a log group named `aws-waf-logs-*`: derived from the stack name (deployment prefix)
        and resource.get("Properties", {}).get("LogGroupName") != f"aws-waf-logs-{stack}"
        and not (
            resource["Type"] == "AWS::SecretsManager::Secret"
            and str(resource["Properties"][PHYSICAL_NAMES[resource["Type"]]]).startswith(prefix)
        )
    ]
    assert named == []


def test_names_the_api_requires_are_unique_per_deployment(synthesized: dict[str, Synthesized]) -> None:
    """X-Ray rule and group names are required by the API: they derive from the stack, so prefixes keep them apart."""

    def xray_names(item: Synthesized) -> set[str]:
        obs = item.resources("observability")
        rule = only({k: v for k, v in obs.items() if v["Type"] == "AWS::XRay::SamplingRule"})
        group = only({k: v for k, v in obs.items() if v["Type"] == "AWS::XRay::Group"})
        return {rule["Properties"]["SamplingRule"]["RuleName"], group["Properties"]["GroupName"]}

    first, second = xray_names(synthesized["staging"]), xray_names(synthesized["staging-boundary"])
    assert first.isdisjoint(second)
    assert all(len(name) <= 32 for name in first | second)


def test_required_tags_on_every_taggable_resource(every_synth: Synthesized) -> None:
    required = {**every_synth.env.tags}
    assert set(every_synth.env.required_tags) <= set(required)
    missing = []
    for stack, logical_id, resource in every_synth.all_resources():
        tags = resource.get("Properties", {}).get("Tags")
        if tags is None:
            continue
        pairs = {t["Key"]: t["Value"] for t in tags} if isinstance(tags, list) else dict(tags)
        if any(pairs.get(k) != v for k, v in required.items()):
            missing.append(f"{stack}/{logical_id}")
    assert missing == []
    # The resources that matter most carry tags at all (the check above only covers resources with Tags).
    env = every_synth.env
    gateway = (
        [("gateway", "AWS::EKS::Nodegroup"), ("gateway", "AWS::EKS::Addon")]
        if env.target == "aws-eks"
        else [("gateway", "AWS::ECS::Service"), ("gateway", "AWS::ElasticLoadBalancingV2::LoadBalancer")]
    )
    if env.kubernetes.existing is not None:  # estate (issue 18): an existing cluster: no nodes, no add-ons
        gateway = [("gateway", "AWS::IAM::Role")]
    for part, type_ in [
        *([] if env.network.existing else [("network", "AWS::EC2::VPC")]),  # existing VPC: imported
        *([] if env.database.existing else [("data", "AWS::RDS::DBCluster")]),  # existing stores: imported
        *([] if env.cache.existing else [("data", "AWS::ElastiCache::ReplicationGroup")]),
        ("config", "AWS::S3::Bucket"),
        ("secrets", "AWS::SecretsManager::Secret"),
        *gateway,
    ]:
        found = every_synth.resources(part, type_)
        assert found, (part, type_)
        for resource in found.values():
            assert "Tags" in resource["Properties"], (part, type_)


def test_permissions_boundary_on_every_role(synthesized: dict[str, Synthesized]) -> None:
    item = synthesized["staging-boundary"]
    roles = [(s, lid, r) for s, lid, r in item.all_resources() if r["Type"] == "AWS::IAM::Role"]
    assert len(roles) >= 8
    assert [f"{s}/{lid}" for s, lid, r in roles if r["Properties"].get("PermissionsBoundary") != BOUNDARY_ARN] == []
    plain = synthesized["staging"]
    assert all(
        "PermissionsBoundary" not in r["Properties"]
        for _, _, r in plain.all_resources()
        if r["Type"] == "AWS::IAM::Role"
    )
