"""The gateway's ECS service: redeploy and wait, scale and tune autoscaling, drain one task, roll back a revision."""

from __future__ import annotations

import time
from typing import Any

from gatekit.ops.discovery import Deployment
from gatekit.ops.errors import MissingResource, OpsError
from gatekit.ops.plan import Plan

SCALABLE_DIMENSION = "ecs:service:DesiredCount"
CPU_METRIC = "ECSServiceAverageCPUUtilization"
REQUESTS_METRIC = "ALBRequestCountPerTarget"


def wait_stable(deployment: Deployment, timeout: float, interval: float = 5.0) -> dict[str, Any]:
    """Wait until the service is stable the way the ECS `services_stable` waiter defines it (one deployment, running
    count = desired count), and the rollout completed; fail at once on a circuit-breaker rollback."""
    deadline = time.monotonic() + timeout
    while True:
        service = deployment.describe_service()
        deployments = service.get("deployments", [])
        primary = next((d for d in deployments if d.get("status") == "PRIMARY"), None)
        if primary is not None and primary.get("rolloutState") == "FAILED":
            raise OpsError(
                f"deployment {primary.get('id')} failed: {primary.get('rolloutStateReason', '')} — the circuit "
                "breaker rolls back to the previous task definition; see `gatekit ops status`"
            )
        if (
            primary is not None
            and len(deployments) == 1
            and service.get("runningCount") == service.get("desiredCount")
            and primary.get("rolloutState", "COMPLETED") == "COMPLETED"
        ):
            return service
        if time.monotonic() >= deadline:
            states = ", ".join(
                f"{d.get('status')} {d.get('rolloutState', '?')} {d.get('runningCount')}/{d.get('desiredCount')}"
                for d in deployments
            )
            running = f"{service.get('runningCount')}/{service.get('desiredCount')} running"
            raise OpsError(
                f"service not stable after {timeout:.0f} s ({running}; {states}); see `gatekit ops status`", 2
            )
        time.sleep(interval)


def force_redeploy(deployment: Deployment, timeout: float) -> str:
    svc = deployment.service
    updated = deployment.aws.client("ecs").update_service(
        cluster=svc.cluster, service=svc.service, forceNewDeployment=True
    )["service"]
    none: dict[str, Any] = {}
    primary = next((d for d in updated.get("deployments", []) if d.get("status") == "PRIMARY"), none)
    wait_stable(deployment, timeout)
    return str(primary.get("id", ""))


def _resource_id(deployment: Deployment) -> str:
    svc = deployment.service
    return f"service/{svc.cluster}/{svc.service}"


def scalable_target(deployment: Deployment) -> dict[str, Any] | None:
    found = deployment.aws.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[_resource_id(deployment)], ScalableDimension=SCALABLE_DIMENSION
    )
    targets = found.get("ScalableTargets", [])
    return targets[0] if targets else None


def scaling_policies(deployment: Deployment) -> list[dict[str, Any]]:
    found = deployment.aws.client("application-autoscaling").describe_scaling_policies(
        ServiceNamespace="ecs", ResourceId=_resource_id(deployment), ScalableDimension=SCALABLE_DIMENSION
    )
    return list(found.get("ScalingPolicies", []))


def from_config(deployment: Deployment) -> dict[str, Any]:
    """The scaling the environment's config declares (what `cdk deploy` sets): compute.replicas and autoscaling."""
    compute = deployment.env.compute
    return {
        "desired": compute.replicas.desired,
        "minimum": compute.replicas.min,
        "maximum": compute.replicas.max,
        "cpu_target": float(compute.autoscaling.cpu_target_percent),
        "requests_per_target": float(compute.autoscaling.requests_per_target),
    }


def plan_scale(
    deployment: Deployment,
    desired: int | None,
    minimum: int | None,
    maximum: int | None,
    cpu_target: float | None,
    requests_per_target: float | None,
) -> tuple[Plan, bool]:
    """The plan and whether it is destructive (scaling to zero)."""
    if desired is None and minimum is None and maximum is None and cpu_target is None and requests_per_target is None:
        raise OpsError("nothing to change: give --desired, --min/--max, --cpu-target or --requests-per-target")
    svc = deployment.service
    service = deployment.describe_service()
    target = scalable_target(deployment)
    low = minimum if minimum is not None else (target or {}).get("MinCapacity", 0)
    high = maximum if maximum is not None else (target or {}).get("MaxCapacity", 10_000)
    if low > high:
        raise OpsError(f"--min {low} is above --max {high}")
    if desired is not None and not low <= desired <= high:
        raise OpsError(
            f"--desired {desired} is outside the autoscaling range {low}..{high}; autoscaling would undo it. "
            "Change the range too (--min/--max)"
        )
    plan = Plan(f"scale `{deployment.env.name}` ({svc.cluster}/{svc.service}, now {service.get('desiredCount')} tasks)")
    autoscaling = deployment.aws.client("application-autoscaling")
    if minimum is not None or maximum is not None:
        if target is None:
            raise MissingResource(f"an Application Auto Scaling target for {_resource_id(deployment)}")
        plan.add(
            f"application-autoscaling:RegisterScalableTarget {_resource_id(deployment)} min {low} max {high}",
            lambda: autoscaling.register_scalable_target(
                ServiceNamespace="ecs",
                ResourceId=_resource_id(deployment),
                ScalableDimension=SCALABLE_DIMENSION,
                MinCapacity=low,
                MaxCapacity=high,
            ),
        )
    for metric, value in ((CPU_METRIC, cpu_target), (REQUESTS_METRIC, requests_per_target)):
        if value is not None:
            _tune(deployment, plan, metric, value)
    if desired is not None:
        plan.add(
            f"ecs:UpdateService {svc.cluster}/{svc.service} desired count {service.get('desiredCount')} -> {desired}",
            lambda: deployment.aws.client("ecs").update_service(
                cluster=svc.cluster, service=svc.service, desiredCount=desired
            ),
        )
    return plan, desired == 0 or (maximum == 0)


def _predefined_metric(policy: dict[str, Any]) -> str | None:
    config: dict[str, Any] = policy.get("TargetTrackingScalingPolicyConfiguration") or {}
    return config.get("PredefinedMetricSpecification", {}).get("PredefinedMetricType")


def _tune(deployment: Deployment, plan: Plan, metric: str, value: float) -> None:
    policy = next(
        (p for p in scaling_policies(deployment) if _predefined_metric(p) == metric),
        None,
    )
    if policy is None:
        raise MissingResource(f"a target-tracking policy on {metric} for {_resource_id(deployment)}")
    config = dict(policy["TargetTrackingScalingPolicyConfiguration"])
    old = config.get("TargetValue")
    config["TargetValue"] = float(value)
    plan.add(
        f"application-autoscaling:PutScalingPolicy {policy['PolicyName']} {metric} target {old} -> {value}",
        lambda: deployment.aws.client("application-autoscaling").put_scaling_policy(
            PolicyName=policy["PolicyName"],
            ServiceNamespace="ecs",
            ResourceId=_resource_id(deployment),
            ScalableDimension=SCALABLE_DIMENSION,
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration=config,
        ),
    )


def plan_drain(deployment: Deployment, task_id: str | None, wait_timeout: float, wait: bool) -> Plan:
    """Stop one task the way ECS stops service tasks: the load balancer deregisters it (deregistration delay), the
    gateway gets SIGTERM and drains in-flight requests within its budget; the service starts a replacement."""
    svc = deployment.service
    tasks = [t for t in deployment.tasks() if t.get("lastStatus") == "RUNNING"]
    if not tasks:
        raise MissingResource(f"running tasks of {svc.cluster}/{svc.service}")
    if task_id is None:
        chosen = min(tasks, key=lambda t: str(t.get("startedAt") or t.get("createdAt") or ""))
    else:
        none: dict[str, Any] = {}
        chosen = next((t for t in tasks if t["taskArn"].rsplit("/", 1)[-1] == task_id or t["taskArn"] == task_id), none)
        if not chosen:
            known = ", ".join(t["taskArn"].rsplit("/", 1)[-1] for t in tasks)
            raise MissingResource(f"running task `{task_id}` in {svc.cluster}/{svc.service} (running: {known})")
    arn = chosen["taskArn"]
    budget = deployment.env.gateway.drain.budget_seconds
    plan = Plan(f"drain and replace task {arn.rsplit('/', 1)[-1]} of `{deployment.env.name}`")
    plan.add(
        f"ecs:StopTask {arn} (deregistered from the load balancer, then SIGTERM: up to {budget} s drain budget)",
        lambda: deployment.aws.client("ecs").stop_task(
            cluster=svc.cluster, task=arn, reason="gatekit ops drain: replace task"
        ),
    )
    if wait:
        plan.add(
            f"wait up to {wait_timeout:.0f} s until the task is STOPPED and the service runs its desired count again",
            lambda: _wait_replaced(deployment, arn, wait_timeout),
        )
    return plan


def _wait_replaced(deployment: Deployment, arn: str, timeout: float, interval: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    svc = deployment.service
    ecs = deployment.aws.client("ecs")
    while True:
        task = ecs.describe_tasks(cluster=svc.cluster, tasks=[arn]).get("tasks", [{}])[0]
        if task.get("lastStatus") == "STOPPED":
            break
        if time.monotonic() >= deadline:
            raise OpsError(f"task {arn} is still {task.get('lastStatus')} after {timeout:.0f} s", 2)
        time.sleep(interval)
    wait_stable(deployment, max(deadline - time.monotonic(), 1.0), interval)


def plan_service_rollback(deployment: Deployment, to: str | None, wait_timeout: float) -> Plan:
    """Point the service at an earlier task definition revision (default: the previous one) and wait."""
    svc = deployment.service
    current = deployment.describe_service()["taskDefinition"]
    family, _, revision = current.rsplit("/", 1)[-1].rpartition(":")
    if to is None:
        if int(revision) <= 1:
            raise OpsError(f"{family}:{revision} is the first revision; there is nothing earlier to roll back to")
        to = f"{family}:{int(revision) - 1}"
    elif to.isdigit():
        to = f"{family}:{to}"
    target = deployment.task_definition(to)["taskDefinitionArn"]
    plan = Plan(f"roll back `{deployment.env.name}` service {svc.service} from {family}:{revision}")
    plan.add(
        f"ecs:UpdateService {svc.cluster}/{svc.service} task definition -> {target.rsplit('/', 1)[-1]}",
        lambda: deployment.aws.client("ecs").update_service(
            cluster=svc.cluster, service=svc.service, taskDefinition=target
        ),
    )
    plan.add(
        f"wait up to {wait_timeout:.0f} s for the deployment to complete", lambda: wait_stable(deployment, wait_timeout)
    )
    return plan
