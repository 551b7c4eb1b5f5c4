"""CloudFormation custom resource: run the one-shot migrations ECS task and wait for it to exit 0.

The gateway service depends on this resource, so a deploy applies database migrations before new gateway tasks
start, and a failed migration fails (and rolls back) the deploy. Standard library and the Lambda runtime's boto3 only.
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from typing import Any, cast

import boto3

POLL_SECONDS = 10
# Leave time to report to CloudFormation before Lambda's own timeout.
REPORT_MARGIN_MS = 30_000


def _respond(event: dict[str, Any], status: str, reason: str, physical_id: str) -> None:
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason[:1000],
            "PhysicalResourceId": physical_id,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
        }
    ).encode()
    request = urllib.request.Request(
        event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


def run_task(props: dict[str, Any], ecs: Any) -> str:
    result = ecs.run_task(
        cluster=props["Cluster"],
        taskDefinition=props["TaskDefinition"],
        launchType="FARGATE",
        count=1,
        startedBy="gatekit-migrations",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": props["Subnets"],
                "securityGroups": props["SecurityGroups"],
                "assignPublicIp": props.get("AssignPublicIp", "DISABLED"),
            }
        },
    )
    if result.get("failures") or not result.get("tasks"):
        raise RuntimeError(f"RunTask failed: {result.get('failures')}")
    return result["tasks"][0]["taskArn"]


def wait_for_exit(cluster: str, task_arn: str, container: str, ecs: Any, deadline_ms: Any) -> None:
    while deadline_ms() > REPORT_MARGIN_MS:
        task = ecs.describe_tasks(cluster=cluster, tasks=[task_arn])["tasks"][0]
        if task["lastStatus"] == "STOPPED":
            exits = {c["name"]: c.get("exitCode") for c in task.get("containers", [])}
            if exits.get(container) == 0:
                return
            raise RuntimeError(f"migrations task stopped ({task.get('stoppedReason', '')}); exit codes {exits}")
        time.sleep(POLL_SECONDS)
    raise TimeoutError(f"migrations task {task_arn} still running when the handler had to report")


def handler(event: dict[str, Any], context: Any) -> None:
    physical_id = event.get("PhysicalResourceId") or f"migrations-{event['LogicalResourceId']}"
    if event["RequestType"] == "Delete":
        _respond(event, "SUCCESS", "nothing to undo", physical_id)
        return
    props = event["ResourceProperties"]
    ecs: Any = cast(Any, boto3).client("ecs", region_name=os.environ.get("AWS_REGION"))  # boto3 ships no types
    try:
        task_arn = run_task(props, ecs)
        print(json.dumps({"event": "migrations_started", "task": task_arn}))
        wait_for_exit(props["Cluster"], task_arn, props["Container"], ecs, context.get_remaining_time_in_millis)
    except Exception as exc:
        print(json.dumps({"event": "migrations_failed", "error": str(exc)}))
        _respond(event, "FAILED", str(exc), physical_id)
        return
    print(json.dumps({"event": "migrations_succeeded", "task": task_arn}))
    _respond(event, "SUCCESS", f"migrations task {task_arn} exited 0", physical_id)
