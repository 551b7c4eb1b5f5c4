"""Roll the config back: the bucket is versioned, so the previous document is copied over the current one (a new
version, so the history keeps both), and replicas hot-reload it like any push."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from gatekit.config import Environment
from gatekit.ops.discovery import Deployment
from gatekit.ops.errors import OpsError
from gatekit.ops.plan import Plan
from gatekit.ops.push_config import split_s3_uri
from gatekit.ops.replicas import wait_for_version
from gatekit.render.sync_document import config_version


def object_versions(deployment: Deployment, bucket: str, key: str) -> list[dict[str, Any]]:
    """Versions of the config object, newest first."""
    pages = deployment.aws.client("s3").pages("list_object_versions", Bucket=bucket, Prefix=key)
    versions = [v for p in pages for v in p.get("Versions", []) if v["Key"] == key]
    return sorted(versions, key=lambda v: v["LastModified"], reverse=True)


def document_version(deployment: Deployment, bucket: str, key: str, version_id: str) -> str:
    body = deployment.aws.client("s3").get_object(Bucket=bucket, Key=key, VersionId=version_id)["Body"].read()
    try:
        return config_version(Environment.model_validate(json.loads(body)))
    except ValueError as exc:
        raise OpsError(f"object version {version_id} is not a valid config document: {exc}") from None


def plan_config_rollback(
    deployment: Deployment,
    to: str | None,
    replicas: tuple[str, ...],
    key: Callable[[], str],
    timeout: float,
    echo: Callable[[str], None],
) -> Plan:
    uri = deployment.config_uri()
    bucket, object_key = split_s3_uri(uri)
    versions = object_versions(deployment, bucket, object_key)
    if len(versions) < 2 and to is None:
        raise OpsError(f"{uri} has {len(versions)} version(s); there is no earlier config to roll back to")
    target = to or versions[1]["VersionId"]
    if target not in {v["VersionId"] for v in versions}:
        raise OpsError(f"{uri} has no object version `{target}`")
    config = document_version(deployment, bucket, object_key, target)
    s3 = deployment.aws.client("s3")
    plan = Plan(f"roll back the config of `{deployment.env.name}` ({uri})")
    plan.add(
        f"s3:CopyObject version {target} over the current object (config version {config})",
        lambda: s3.copy_object(
            Bucket=bucket,
            Key=object_key,
            CopySource={"Bucket": bucket, "Key": object_key, "VersionId": target},
            MetadataDirective="COPY",
        ),
    )

    def converge() -> None:
        behind = wait_for_version(deployment.replica_urls(replicas), key(), config, timeout, echo)
        if behind:
            raise OpsError(
                "replicas did not converge: " + "; ".join(status.describe() for status in behind), exit_code=2
            )

    plan.add(f"wait up to {timeout:.0f} s until every replica reports version {config}", converge)
    return plan
