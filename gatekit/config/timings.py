"""Platform shutdown timings derived from the single drain budget, so the arithmetic always holds."""

from __future__ import annotations

from dataclasses import dataclass

from gatekit.config.gateway import Drain

# ECS (Fargate and EC2) caps a container's stopTimeout at 120 seconds.
ECS_MAX_STOP_TIMEOUT = 120
# ELB target groups cap deregistration_delay.timeout_seconds at 3600.
ALB_MAX_DEREGISTRATION_DELAY = 3600
# Kubernetes has no hard cap; beyond an hour a rolling update stalls for longer than any on-call accepts.
K8S_MAX_GRACE = 3600

TARGET_STOP_LIMIT: dict[str, tuple[int, str]] = {
    "aws-ecs": (ECS_MAX_STOP_TIMEOUT, "ECS stopTimeout is at most 120 s"),
    "moat": (ECS_MAX_STOP_TIMEOUT, "moat renders ECS (isolated); ECS stopTimeout is at most 120 s"),
    "aws-eks": (K8S_MAX_GRACE, "terminationGracePeriodSeconds is kept under 3600 s"),
    "gcp": (K8S_MAX_GRACE, "terminationGracePeriodSeconds is kept under 3600 s"),
    "azure": (K8S_MAX_GRACE, "terminationGracePeriodSeconds is kept under 3600 s"),
    "k8s": (K8S_MAX_GRACE, "terminationGracePeriodSeconds is kept under 3600 s"),
}


@dataclass(frozen=True)
class DrainTimings:
    budget_seconds: int
    ecs_stop_timeout: int
    alb_deregistration_delay: int
    k8s_pre_stop_seconds: int
    k8s_termination_grace_seconds: int
    # After the drain and LiteLLM's shutdown, the exit hooks (the span exporter's final flush, log flushes) get this
    # long, so a replica whose collector is unreachable still exits inside the exit margin instead of being killed.
    exit_flush_seconds: int

    @classmethod
    def from_drain(cls, drain: Drain) -> DrainTimings:
        return cls(
            budget_seconds=drain.budget_seconds,
            # ECS sends SIGTERM after deregistration; the process drains for the budget, then exits.
            ecs_stop_timeout=drain.budget_seconds + drain.exit_margin_seconds,
            # The load balancer keeps in-flight connections of a deregistering target for the whole budget.
            alb_deregistration_delay=drain.budget_seconds,
            k8s_pre_stop_seconds=drain.pre_stop_seconds,
            k8s_termination_grace_seconds=drain.pre_stop_seconds + drain.budget_seconds + drain.exit_margin_seconds,
            exit_flush_seconds=max(drain.exit_margin_seconds - 2, 0),
        )

    def platform_total(self, target: str) -> int:
        """The number the target's platform limit applies to."""
        if target in ("aws-ecs", "moat"):
            return self.ecs_stop_timeout
        return self.k8s_termination_grace_seconds
