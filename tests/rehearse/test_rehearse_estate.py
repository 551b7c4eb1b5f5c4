"""`gatekit rehearse` of a deployment into an existing estate (issue 18, tests/cdk/estate_variants.py): the
`estate-cluster` variant, staging on EKS into the estate's existing cluster (IRSA), in its existing VPC, with its
Aurora cluster and ElastiCache replication group. The same checks as every environment pass against the stand-ins
(the local PostgreSQL with the estate's admin user, the local Redis); what the estate runs that cannot run here is
reported as not reproduced. The `estate-data` variant (the same stores on ECS) is extracted, not run, by
tests/cdk/test_estate_existing.py: one full rehearsal of the estate keeps `make test` within its budget."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gatekit.config import load_environment
from gatekit.rehearse.aws_run import assembly_key, eks_manifests, eks_world, synth_for_rehearsal
from gatekit.rehearse.aws_target import extract_config_and_database
from gatekit.rehearse.aws_world import Endpoint
from gatekit.rehearse.cfn import Resolver
from gatekit.rehearse.estate import ESTATE_ADMIN
from gatekit.rehearse.report import CHECKS
from gatekit.rehearse.session import Shared, rehearse_environment
from tests.cdk.estate_variants import (
    CACHE_SECRET_ARN,
    ESTATE_VARIANTS,
    EXISTING_CLUSTER,
    KUBECTL_ROLE,
    OIDC_ARN,
)
from tests.rehearse.sweep_evidence import assert_only_health_answers

pytestmark = pytest.mark.timeout(2400)

LAMBDA = "AWS::Lambda::Function"


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
    # The service token is the kubectl provider's function in its nested stack, whose functions may assume the
    # given kubectl role and nothing else.
    token = resolver.resolve(stack, applied["Properties"]["ServiceToken"])
    (nested,) = [name for name, (parent, _) in assembly.parents.items() if parent == stack]
    functions = [resolver.resolve(nested, {"Fn::GetAtt": [f, "Arn"]}) for f in assembly.resources(nested, LAMBDA)]
    assert token in functions
    policies = assembly.resources(nested, "AWS::IAM::Policy").values()
    statements = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]
    assumed = [resolver.resolve(nested, s["Resource"]) for s in statements if s["Action"] == "sts:AssumeRole"]
    assert assumed == [KUBECTL_ROLE]
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
    # The estate's data stores: the runtime-role SQL runs as the admin of the estate's secret; the CSI driver syncs
    # the estate's AUTH token into the pods' Secret.
    _, database = extract_config_and_database(assembly, world)
    assert database is not None and database.admin_user == ESTATE_ADMIN
    (provider,) = [m for m in manifests if m["kind"] == "SecretProviderClass"]
    objects = {o["objectAlias"]: o["objectName"] for o in yaml.safe_load(provider["spec"]["parameters"]["objects"])}
    assert objects["REDIS_PASSWORD"] == CACHE_SECRET_ARN

    report = rehearse_environment(rehearsal, base, overrides)
    assert report.passed, report.to_json()
    data = report.as_dict()
    assert sorted(c["name"] for c in data["checks"]) == sorted(CHECKS)
    assert all(c["status"] == "pass" and c["evidence"] for c in data["checks"])
    assert_only_health_answers(data)  # database on, from a non-admin address (security, issue 12)
    reasons = {n["what"] for n in data["not_reproduced"]}
    assert "EKS Pod Identity" not in reasons
    estate = {"existing VPC", "existing EKS cluster", "existing Aurora cluster", "existing ElastiCache"}
    assert estate | {"IRSA", "IAM database authentication"} <= reasons
