"""`gatekit rehearse` of a deployment into an existing estate (issue 18): staging on ECS in an existing VPC with the
estate's Aurora cluster and ElastiCache replication group (tests/cdk/estate_variants.py `estate-data`). The same
checks as every environment pass against the stand-ins (the local PostgreSQL with the estate's admin user, the local
Redis); what the estate runs that cannot run here is reported as not reproduced."""

from __future__ import annotations

from pathlib import Path

import pytest

from gatekit.config import load_environment
from gatekit.rehearse.aws_run import assembly_key, eks_manifests, eks_world, synth_for_rehearsal
from gatekit.rehearse.aws_target import prepare_ecs
from gatekit.rehearse.aws_world import Endpoint
from gatekit.rehearse.cfn import Resolver
from gatekit.rehearse.estate import ESTATE_ADMIN
from gatekit.rehearse.report import CHECKS
from gatekit.rehearse.session import Shared, rehearse_environment
from tests.cdk.estate_variants import (
    CACHE_SECRET_ARN,
    DB_SECRET_ARN,
    ESTATE_VARIANTS,
    EXISTING_CLUSTER,
    KUBECTL_ROLE,
    OIDC_ARN,
)
from tests.rehearse.sweep_evidence import assert_only_health_answers

pytestmark = pytest.mark.timeout(2400)


def test_rehearse_existing_vpc_and_data_stores(rehearsal: Shared, tmp_path: Path) -> None:
    base, overrides = ESTATE_VARIANTS["estate-data"]
    env = load_environment(base, rehearsal.config_dir, overrides)
    # One synthesis, shared by the extraction read below and the rehearsal.
    out = synth_for_rehearsal(rehearsal, env, tmp_path / "cdk.out", overrides)
    rehearsal.assemblies[assembly_key(env.name, overrides)] = out
    deployment, _ = prepare_ecs(
        env,
        out,
        moto_endpoint=rehearsal.moto,
        image=rehearsal.image,
        database=Endpoint("127.0.0.1", 1),  # extraction only: where the stand-in would listen
        cache=Endpoint(rehearsal.redis.host, rehearsal.redis.port),
        cache_password=rehearsal.redis.password,
    )
    # The runtime-role SQL runs as the user of the estate's admin secret; the processes read the estate's secrets
    # and reach the stand-ins instead of the estate's endpoints.
    assert deployment.database is not None and deployment.database.admin_user == ESTATE_ADMIN
    (migrations,) = deployment.of_kind("migrations")
    assert {s.name for s in migrations.secret_env.values()} == {DB_SECRET_ARN}
    gateway = deployment.gateway()
    assert gateway.secret_env["REDIS_PASSWORD"].name == CACHE_SECRET_ARN
    assert (gateway.env["DATABASE_HOST"], gateway.env["DATABASE_PORT"]) == ("127.0.0.1", "1")
    assert gateway.env["REDIS_HOST"] == rehearsal.redis.host

    report = rehearse_environment(rehearsal, base, overrides)
    assert report.passed, report.to_json()
    data = report.as_dict()
    assert sorted(c["name"] for c in data["checks"]) == sorted(CHECKS)
    assert all(c["status"] == "pass" and c["evidence"] for c in data["checks"])
    reasons = {n["what"] for n in data["not_reproduced"]}
    assert {"existing VPC", "existing Aurora cluster", "existing ElastiCache", "IAM database authentication"} <= reasons


def test_rehearse_existing_cluster(rehearsal: Shared, tmp_path: Path) -> None:
    """staging on EKS into the estate's existing cluster (IRSA) with its Aurora and ElastiCache (`estate-cluster`):
    the manifests the imported cluster's kubectl provider applies run as the pod would, and the identity they name is
    the role the gateway stack creates, trusted by exactly that service account of the cluster's OIDC issuer."""
    base, overrides = ESTATE_VARIANTS["estate-cluster"]
    env = load_environment(base, rehearsal.config_dir, overrides)
    out = synth_for_rehearsal(rehearsal, env, tmp_path / "cdk.out", overrides)
    rehearsal.assemblies[assembly_key(env.name, overrides)] = out
    assembly, world, _ = eks_world(rehearsal, env, out, Endpoint("127.0.0.1", 1))
    manifests = eks_manifests(assembly, world)
    stack, template = assembly.stack("gateway")
    (applied,) = assembly.resources(stack, "Custom::AWSCDK-EKS-KubernetesResource").values()
    resolver = Resolver(assembly, world)
    assert resolver.resolve(stack, applied["Properties"]["ClusterName"]) == EXISTING_CLUSTER["name"]
    assert resolver.resolve(stack, applied["Properties"]["RoleArn"]) == KUBECTL_ROLE
    (role_id,) = assembly.resources(stack, "AWS::IAM::Role")  # the only role: the gateway's
    arn = resolver.resolve(stack, {"Fn::GetAtt": [role_id, "Arn"]})
    assert arn == f"arn:aws:iam::{assembly.account}:role/{resolver.resolve(stack, {'Ref': role_id})}"
    (account,) = [m for m in manifests if m["kind"] == "ServiceAccount"]
    (workload,) = [m for m in manifests if m["kind"] == "Deployment"]
    assert account["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": arn}
    assert workload["spec"]["template"]["spec"]["serviceAccountName"] == account["metadata"]["name"]
    assert workload["metadata"]["namespace"] == account["metadata"]["namespace"] == env.kubernetes.namespace
    trust = resolver.resolve(stack, template["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"])
    (statement,) = trust["Statement"]
    issuer = OIDC_ARN.split(":oidc-provider/", 1)[1]
    subject = f"system:serviceaccount:{account['metadata']['namespace']}:{account['metadata']['name']}"
    assert statement["Effect"] == "Allow" and statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"] == {"Federated": OIDC_ARN}
    assert statement["Condition"] == {"StringEquals": {f"{issuer}:sub": subject, f"{issuer}:aud": "sts.amazonaws.com"}}

    report = rehearse_environment(rehearsal, base, overrides)
    assert report.passed, report.to_json()
    data = report.as_dict()
    assert sorted(c["name"] for c in data["checks"]) == sorted(CHECKS)
    assert all(c["status"] == "pass" and c["evidence"] for c in data["checks"])
    assert_only_health_answers(data)  # database on, from a non-admin address (security, issue 12)
    reasons = {n["what"] for n in data["not_reproduced"]}
    assert {"existing EKS cluster", "IRSA", "existing Aurora cluster", "existing ElastiCache"} <= reasons
    assert "EKS Pod Identity" not in reasons
