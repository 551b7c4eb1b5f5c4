"""The ALB half of `gateway.exposure`: the listener forwards the exposed paths (and every path for the admin
networks) to the gateway; anything else gets a fixed 404 from the load balancer and never reaches a task.

`listener_rules(exposure)` is the plain rule list (priority, field, values); the construct renders it, and the
emulated front door in tests/security applies the same list to show which paths answer."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_elasticloadbalancingv2 as elbv2

from gatekit.config.exposure import Exposure

MAX_VALUES = 5  # ALB: at most five values across one rule's conditions
FIRST_PRIORITY = 10


@dataclass(frozen=True)
class Rule:
    priority: int
    field: str  # "source-ip" | "path-pattern"
    values: tuple[str, ...]


def _chunks(values: list[str]) -> list[tuple[str, ...]]:
    return [tuple(values[i : i + MAX_VALUES]) for i in range(0, len(values), MAX_VALUES)]


def listener_rules(exposure: Exposure) -> list[Rule]:
    """Admin networks first (every path), then the exposed paths; the default action is 404."""
    rules: list[Rule] = []
    priority = FIRST_PRIORITY
    for values in _chunks(list(exposure.admin_cidrs)):
        rules.append(Rule(priority, "source-ip", values))
        priority += 1
    for values in _chunks(list(exposure.paths)):
        rules.append(Rule(priority, "path-pattern", values))
        priority += 1
    return rules


def forward_exposed_paths(
    listener: elbv2.ApplicationListener, group: elbv2.IApplicationTargetGroup, exposure: Exposure
) -> None:
    listener.add_action(
        "NotExposed",
        action=elbv2.ListenerAction.fixed_response(
            404, content_type="application/json", message_body='{"error":"not found"}'
        ),
    )
    for rule in listener_rules(exposure):
        condition = (
            elbv2.ListenerCondition.source_ips(list(rule.values))
            if rule.field == "source-ip"
            else elbv2.ListenerCondition.path_patterns(list(rule.values))
        )
        listener.add_action(
            f"Expose{rule.priority}",
            priority=rule.priority,
            conditions=[condition],
            action=elbv2.ListenerAction.forward([group]),
        )
