"""Security invariants of the synthesized templates (every AWS environment unless stated)."""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_cdk.assertions import Match

from gatekit.config import DrainTimings
from gatekit.config.secrets import looks_like_secret
from gatekit.render import container
from gatekit.render.env import render_environment
from tests.cdk.conftest import BOUNDARY_ARN, Synthesized
from tests.cdk.helpers import as_list, containers, only, statements, task_with, template, text

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


def test_every_secret_ref_is_a_kms_secret_injected_through_ecs_secrets(each_env: Synthesized) -> None:
    refs = render_environment(each_env.env).secrets
    created = each_env.resources("secrets", "AWS::SecretsManager::Secret")
    assert len(created) == len({ref.secret for ref in refs.values()})
    assert all("KmsKeyId" in s["Properties"] for s in created.values())
    assert all(
        "GenerateSecretString" in s["Properties"] and "SecretString" not in s["Properties"] for s in created.values()
    )
    gateway = containers(task_with(each_env.resources("gateway", "AWS::ECS::TaskDefinition"), "gateway"))["gateway"]
    injected = {s["Name"] for s in gateway["Secrets"]}
    assert set(refs) <= injected
    assert "REDIS_PASSWORD" in injected
    plain = {e["Name"]: e["Value"] for e in gateway["Environment"]}
    assert injected.isdisjoint(plain)
    for name, value in plain.items():
        if isinstance(value, str):
            assert looks_like_secret(value) is None, name
    assert not {"DATABASE_PASSWORD", "DATABASE_URL", "REDIS_URL"} & set(plain)


def test_database_encrypted_iam_auth_tls_and_protected(each_env: Synthesized) -> None:
    db = each_env.env.database
    cluster = only(each_env.resources("data", "AWS::RDS::DBCluster"))
    props = cluster["Properties"]
    assert props["StorageEncrypted"] is True and "KmsKeyId" in props
    assert props["EnableIAMDatabaseAuthentication"] is True
    assert props["ManageMasterUserPassword"] is True and "MasterUserPassword" not in props
    assert props["BackupRetentionPeriod"] == db.backup_retention_days
    assert props["DeletionProtection"] is db.deletion_protection
    assert cluster["DeletionPolicy"] == ("Snapshot" if db.deletion_protection else "Delete")
    assert props["ServerlessV2ScalingConfiguration"] == {
        "MinCapacity": db.min_capacity_acu,
        "MaxCapacity": db.max_capacity_acu,
    }
    params = only(each_env.resources("data", "AWS::RDS::DBClusterParameterGroup"))
    assert params["Properties"]["Parameters"]["rds.force_ssl"] == "1"
    instances = each_env.resources("data", "AWS::RDS::DBInstance")
    assert len(instances) == (2 if db.deletion_protection else 1)


def test_runtime_connects_with_iam_token_as_runtime_user(each_env: Synthesized) -> None:
    gateway = containers(task_with(each_env.resources("gateway", "AWS::ECS::TaskDefinition"), "gateway"))["gateway"]
    plain = {e["Name"]: e["Value"] for e in gateway["Environment"]}
    assert plain["IAM_TOKEN_DB_AUTH"] == "True" and plain["DATABASE_USER"] == "litellm_runtime"
    task_role = [
        s
        for s in statements(each_env.resources("gateway", "AWS::IAM::Policy"))
        if "rds-db:connect" in as_list(s["Action"])
    ]
    assert len(task_role) == 1 and "litellm_runtime" in text(task_role[0]["Resource"])


def test_cache_tls_auth_and_encryption(each_env: Synthesized) -> None:
    group = only(each_env.resources("data", "AWS::ElastiCache::ReplicationGroup"))["Properties"]
    assert group["TransitEncryptionEnabled"] is True and group["TransitEncryptionMode"] == "required"
    assert group["AtRestEncryptionEnabled"] is True and "KmsKeyId" in group
    assert "resolve:secretsmanager" in text(group["AuthToken"])
    assert group["Engine"] == each_env.env.cache.engine
    failover = each_env.env.cache.replicas_per_shard > 0 and each_env.env.cache.multi_az
    assert group["AutomaticFailoverEnabled"] is failover and group["MultiAZEnabled"] is failover


def test_multi_az_failover_outside_dev(synthesized: dict[str, Synthesized]) -> None:
    for name in ("staging", "prod", "moat"):
        group = only(synthesized[name].resources("data", "AWS::ElastiCache::ReplicationGroup"))["Properties"]
        assert group["MultiAZEnabled"] is True, name
    dev = only(synthesized["dev"].resources("data", "AWS::ElastiCache::ReplicationGroup"))["Properties"]
    assert dev["MultiAZEnabled"] is False


def test_config_bucket_versioned_kms_tls_only_private_and_logged(each_env: Synthesized) -> None:
    t = template(each_env.stack("config"))
    t.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "VersioningConfiguration": {"Status": "Enabled"},
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    Match.object_like({"ServerSideEncryptionByDefault": Match.object_like({"SSEAlgorithm": "aws:kms"})})
                ]
            },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "LoggingConfiguration": Match.object_like({"LogFilePrefix": "config-bucket/"}),
        },
    )
    policies = each_env.resources("config", "AWS::S3::BucketPolicy")
    denies = [s for s in statements(policies) if s["Effect"] == "Deny"]
    assert any(s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false" for s in denies)
    assert each_env.resources("config", "Custom::CDKBucketDeployment")


def test_alb_https_tls12_redirect_and_waf_with_a_domain(synthesized: dict[str, Synthesized]) -> None:
    t = template(synthesized["prod"].stack("gateway"))
    t.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        {"Protocol": "HTTPS", "Port": 443, "SslPolicy": Match.string_like_regexp("TLS13-1-2")},
    )
    t.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        {
            "Protocol": "HTTP",
            "Port": 80,
            "DefaultActions": [
                Match.object_like({"Type": "redirect", "RedirectConfig": Match.object_like({"Protocol": "HTTPS"})})
            ],
        },
    )
    t.has_resource_properties("AWS::ElasticLoadBalancingV2::LoadBalancer", {"Scheme": "internet-facing"})
    t.resource_count_is("AWS::WAFv2::WebACLAssociation", 1)
    t.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        {
            "LoadBalancerAttributes": Match.array_with(
                [{"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"}]
            )
        },
    )


def test_internal_albs_are_https_with_the_prod_waf_and_vpc_only(synthesized: dict[str, Synthesized]) -> None:
    """dev, staging and moat: internal, HTTPS with a private-CA certificate, the same WAF as prod (issue 12)."""
    for name in ("dev", "staging", "moat"):
        item = synthesized[name]
        alb = only(item.resources("gateway", "AWS::ElasticLoadBalancingV2::LoadBalancer"))
        assert alb["Properties"]["Scheme"] == "internal", name
        listeners = item.resources("gateway", "AWS::ElasticLoadBalancingV2::Listener").values()
        assert {(r["Properties"]["Protocol"], r["Properties"]["Port"]) for r in listeners} == {
            ("HTTPS", 443),
            ("HTTP", 80),
        }, name
        http = [r for r in listeners if r["Properties"]["Protocol"] == "HTTP"]
        assert all(r["Properties"]["DefaultActions"][0]["Type"] == "redirect" for r in http), name
        cert = only(item.resources("gateway", "AWS::CertificateManager::Certificate"))
        assert "CertificateAuthorityArn" in cert["Properties"], name
        assert item.resources("gateway", "AWS::WAFv2::WebACLAssociation"), name
        assert item.resources("gateway", "AWS::WAFv2::LoggingConfiguration"), name
        alb_sg = [
            r
            for r in item.resources("network", "AWS::EC2::SecurityGroup").values()
            if "load balancer" in r["Properties"]["GroupDescription"]
        ]
        ingress = only(dict(enumerate(alb_sg)))["Properties"]["SecurityGroupIngress"]
        assert all("CidrIp" not in rule or rule["CidrIp"] != "0.0.0.0/0" for rule in ingress), name


def test_listener_forwards_only_the_exposed_paths(each_env: Synthesized) -> None:
    from cdk.front_door import listener_rules

    https = [
        r
        for r in each_env.resources("gateway", "AWS::ElasticLoadBalancingV2::Listener").values()
        if r["Properties"]["Protocol"] == "HTTPS"
    ]
    assert only(dict(enumerate(https)))["Properties"]["DefaultActions"][0]["FixedResponseConfig"]["StatusCode"] == "404"
    rules = each_env.resources("gateway", "AWS::ElasticLoadBalancingV2::ListenerRule").values()
    rendered = sorted(
        (r["Properties"]["Priority"], tuple(r["Properties"]["Conditions"][0]["PathPatternConfig"]["Values"]))
        for r in rules
        if r["Properties"]["Conditions"][0]["Field"] == "path-pattern"
    )
    expected = [
        (r.priority, r.values) for r in listener_rules(each_env.env.gateway.exposure) if r.field == "path-pattern"
    ]
    assert rendered == expected


def test_admin_networks_reach_every_path_through_the_listener() -> None:
    """`gateway.exposure.admin_cidrs` becomes a source-ip listener rule forwarding every path (synthesized for real:
    the rule's construct call failed only when an admin network was configured)."""
    from cdk.app_builder import build_app, new_app
    from gatekit.config import default_config_dir, load_environment

    env = load_environment("dev", default_config_dir(), ['gateway.exposure.admin_cidrs=["10.20.0.0/24"]'])
    app = new_app()
    stacks = build_app(app, env, nag=False)
    resources = app.synth().get_stack_by_name(stacks.gateway.stack_name).template["Resources"]
    source_ip = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::ElasticLoadBalancingV2::ListenerRule"
        and r["Properties"]["Conditions"][0]["Field"] == "source-ip"
    ]
    assert len(source_ip) == 1
    assert source_ip[0]["Conditions"][0]["SourceIpConfig"]["Values"] == ["10.20.0.0/24"]
    assert source_ip[0]["Actions"][0]["Type"] == "forward"


def test_gateway_task_hardening_and_drain_timings(each_env: Synthesized) -> None:
    timings = DrainTimings.from_drain(each_env.env.gateway.drain)
    task = task_with(each_env.resources("gateway", "AWS::ECS::TaskDefinition"), "gateway")
    by_name = containers(task)
    gateway = by_name["gateway"]
    assert gateway["User"] not in ("0", "root") and not gateway["User"].startswith("0:")
    assert gateway["ReadonlyRootFilesystem"] is True
    assert {m["ContainerPath"] for m in gateway["MountPoints"]} == {"/tmp", "/var/lib/gatekit"}
    assert gateway["StopTimeout"] == timings.ecs_stop_timeout
    # The image's own probe (gatekit.render.container.HEALTHCHECK) of the liveness path on the deployed port.
    assert gateway["HealthCheck"]["Command"] == ["CMD", *container.HEALTHCHECK]
    probe = (Path(__file__).resolve().parents[2] / "image" / "healthcheck.py").read_text()
    assert container.LIVENESS_PATH in probe and "GATEKIT_HEALTH_PORT" in probe
    health_port = {e["Name"]: e["Value"] for e in gateway["Environment"]}["GATEKIT_HEALTH_PORT"]
    assert health_port == str(each_env.env.gateway.port)
    collector = by_name["adot-collector"]
    assert collector["ReadonlyRootFilesystem"] is True and collector["User"] != "0"
    t = template(each_env.stack("gateway"))
    t.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        {
            "TargetGroupAttributes": Match.array_with(
                [{"Key": "deregistration_delay.timeout_seconds", "Value": str(timings.alb_deregistration_delay)}]
            ),
            "HealthCheckPath": "/health/readiness",
        },
    )
    t.has_resource_properties(
        "AWS::ECS::Service",
        {
            "DeploymentConfiguration": Match.object_like(
                {"DeploymentCircuitBreaker": {"Enable": True, "Rollback": True}, "MinimumHealthyPercent": 100}
            )
        },
    )


def test_autoscaling_on_cpu_and_requests_per_target(each_env: Synthesized) -> None:
    compute = each_env.env.compute
    t = template(each_env.stack("gateway"))
    t.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        {"MinCapacity": compute.replicas.min, "MaxCapacity": compute.replicas.max},
    )
    policies = each_env.resources("gateway", "AWS::ApplicationAutoScaling::ScalingPolicy").values()
    metrics = {
        p["Properties"]["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"][
            "PredefinedMetricType"
        ]: p["Properties"]["TargetTrackingScalingPolicyConfiguration"]["TargetValue"]
        for p in policies
        if "PredefinedMetricSpecification" in p["Properties"]["TargetTrackingScalingPolicyConfiguration"]
    }  # and in flight per task (tests/cdk/test_scaling.py)
    assert metrics == {
        "ECSServiceAverageCPUUtilization": compute.autoscaling.cpu_target_percent,
        "ALBRequestCountPerTarget": compute.autoscaling.requests_per_target,
    }


def test_migrations_run_before_the_service(each_env: Synthesized) -> None:
    runs = each_env.resources("gateway", "Custom::GatekitMigrations")
    assert len(runs) == 1
    run_id = next(iter(runs))
    service = only(each_env.resources("gateway", "AWS::ECS::Service"))
    assert run_id in as_list(service.get("DependsOn", []))
    migrations = [
        td
        for td in each_env.resources("gateway", "AWS::ECS::TaskDefinition").values()
        if "migrations" in containers(td)
    ]
    container = containers(only(dict(enumerate(migrations))))["migrations"]
    assert container["Command"] == ["migrate"] and "EntryPoint" not in container
    assert {s["Name"] for s in container["Secrets"]} == {"DATABASE_USERNAME", "DATABASE_PASSWORD"}


def test_task_role_least_privilege(each_env: Synthesized) -> None:
    task_policy = [
        p
        for lid, p in each_env.resources("gateway", "AWS::IAM::Policy").items()
        if lid.startswith("TaskDefinitionTaskRole")
    ]
    stmts = statements(dict(enumerate(task_policy)))
    actions = [a for s in stmts for a in as_list(s["Action"])]
    assert "*" not in actions and not any(a.endswith(":*") for a in actions)
    s3 = [s for s in stmts if any(a.startswith("s3:") for a in as_list(s["Action"]))]
    assert s3 and all(not any(a.startswith(("s3:Put", "s3:Delete")) for a in as_list(s["Action"])) for s in s3)
    s3_resources = text([s["Resource"] for s in s3])
    assert "/gateway/*" in s3_resources and "/router/*" in s3_resources
    assert any("xray:PutTraceSegments" in as_list(s["Action"]) for s in stmts)
    assert not any(a.startswith("secretsmanager:") for a in actions)


def test_adot_sidecar_exports_to_xray(synthesized: dict[str, Synthesized]) -> None:
    prod = synthesized["prod"]
    parameter = only(prod.resources("gateway", "AWS::SSM::Parameter"))
    assert "awsxray" in text(parameter["Properties"]["Value"])
    collector = containers(task_with(prod.resources("gateway", "AWS::ECS::TaskDefinition"), "gateway"))[
        "adot-collector"
    ]
    assert "aws-otel-collector" in text(collector["Image"])
    moat = containers(task_with(synthesized["moat"].resources("gateway", "AWS::ECS::TaskDefinition"), "gateway"))[
        "adot-collector"
    ]
    assert "public.ecr.aws" not in text(moat["Image"]) and "aws-otel-collector-v" in text(moat["Image"])


@pytest.mark.parametrize("name", ["prod", "staging"])
def test_network_az_count_flow_logs_and_endpoints(synthesized: dict[str, Synthesized], name: str) -> None:
    item = synthesized[name]
    net = item.env.network
    subnets = item.resources("network", "AWS::EC2::Subnet")
    assert len(subnets) == 3 * net.az_count
    assert len({s["Properties"]["AvailabilityZone"] for s in subnets.values()}) == net.az_count
    assert only(item.resources("network", "AWS::EC2::FlowLog"))["Properties"]["TrafficType"] == "ALL"
    endpoints = item.resources("network", "AWS::EC2::VPCEndpoint").values()
    services = text([e["Properties"]["ServiceName"] for e in endpoints])
    for endpoint in net.endpoints:
        assert f".{endpoint}" in services, endpoint


def test_moat_is_isolated(synthesized: dict[str, Synthesized]) -> None:
    moat = synthesized["moat"]
    assert not moat.resources("network", "AWS::EC2::NatGateway")
    assert not moat.resources("network", "AWS::EC2::InternetGateway")
    routes = moat.resources("network", "AWS::EC2::Route").values()
    assert all("GatewayId" not in r["Properties"] and "NatGatewayId" not in r["Properties"] for r in routes)
    assert len(moat.resources("network", "AWS::EC2::VPCEndpoint")) == len(moat.env.network.endpoints)


def test_observability_sampling_logs_and_alarms(each_env: Synthesized) -> None:
    obs = each_env.env.observability
    rule = only(each_env.resources("observability", "AWS::XRay::SamplingRule"))["Properties"]["SamplingRule"]
    assert rule["FixedRate"] == obs.traces_sample_ratio
    assert rule["ServiceName"] == f"{each_env.env.deployment.prefix}-gateway"
    assert each_env.resources("observability", "AWS::XRay::Group")
    for _stack, lid, resource in each_env.all_resources():
        if resource["Type"] == "AWS::Logs::LogGroup":
            assert resource["Properties"]["RetentionInDays"] >= obs.log_retention_days, lid
            assert "KmsKeyId" in resource["Properties"], lid
    alarms = each_env.resources("monitoring", "AWS::CloudWatch::Alarm")
    descriptions = text([a["Properties"]["AlarmDescription"] for a in alarms.values()])
    for needle in ("5xx rate", "p99", "shed", "reload", "Aurora", "cache"):
        assert needle in descriptions, needle
    assert all(a["Properties"]["AlarmActions"] for a in alarms.values())
    assert each_env.resources("monitoring", "AWS::CloudWatch::Dashboard")
