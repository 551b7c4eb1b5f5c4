"""Security invariants of the synthesized gateway service: task hardening, drain timings, autoscaling,
migrations order, task role, trace export."""

from __future__ import annotations

from pathlib import Path

from aws_cdk.assertions import Match

from gatekit.config import DrainTimings
from gatekit.render import container
from tests.cdk.conftest import Synthesized
from tests.cdk.helpers import as_list, containers, only, statements, task_with, template, text


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
