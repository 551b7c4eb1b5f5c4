"""push-config: validate, render, upload to the (versioned) config bucket, then wait until every replica reports the
new version on `GET /gatekit/config`.

The document is the one every target deploys (gatekit.render.sync_document): the resolved environment as JSON, which
the runtime's config sync (gatekit/runtime/sync.py `parse_document`) accepts. Its version is the runtime's own
`config_version`, computed from the document exactly as a replica parses it, so "converged" means the replica applied
this document."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlparse

from gatekit.config import Environment
from gatekit.ops.discovery import Deployment
from gatekit.ops.errors import MissingResource, OpsError
from gatekit.render.sync_document import CONTENT_TYPE, DocumentError, sync_document

VERSION_METADATA = "gatekit-version"


@dataclass(frozen=True)
class Document:
    body: bytes
    version: str
    data: dict[str, Any]


def split_s3_uri(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc or not parsed.path.strip("/"):
        raise OpsError(f"config uri `{uri}` is not s3://bucket/key (gateway.config_sync.uri or the ConfigUri output)")
    return parsed.netloc, parsed.path.lstrip("/")


def render_document(env: Environment, uri: str) -> Document:
    """The document replicas sync (the same one every target deploys). It does not embed `uri`: the deployment
    passes the location to replicas (GATEKIT_CONFIG_URI); a configured `gateway.config_sync.uri` must match it."""
    configured = env.gateway.config_sync.uri
    if configured and configured != uri:
        raise OpsError(f"gateway.config_sync.uri is `{configured}` but the deployment syncs from `{uri}`")
    try:
        document = sync_document(env)
    except DocumentError as exc:
        raise OpsError(str(exc)) from None
    return Document(document.body, document.version, document.data)


def changed_paths(old: Any, new: Any, path: str = "") -> list[str]:
    """Dotted paths whose values differ between two JSON documents."""
    if isinstance(old, dict) and isinstance(new, dict):
        old, new = cast("dict[Any, Any]", old), cast("dict[Any, Any]", new)
        out: list[str] = []
        for key in sorted(set(old) | set(new)):
            out += changed_paths(old.get(key), new.get(key), f"{path}.{key}" if path else str(key))
        return out
    return [] if old == new else [path or "(document)"]


def current_document(deployment: Deployment, bucket: str, key: str) -> dict[str, Any] | None:
    try:
        body = deployment.aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    except MissingResource:
        return None
    try:
        loaded = json.loads(body)
    except ValueError:
        return {"(not a JSON document)": True}
    return cast("dict[str, Any]", loaded) if isinstance(loaded, dict) else None


def push_config(
    deployment: Deployment,
    key: Callable[[], str],
    replicas: tuple[str, ...],
    timeout: float,
    dry_run: bool,
    echo: Callable[[str], None],
) -> int:
    """Returns the exit code: 0 converged (or dry run), 2 when some replicas did not converge in time."""
    uri = deployment.config_uri()
    bucket, object_key = split_s3_uri(uri)
    document = render_document(deployment.env, uri)
    echo(f"config `{deployment.env.name}` version {document.version} -> {uri}")
    old = current_document(deployment, bucket, object_key)
    changes = changed_paths(old, document.data) if old is not None else ["(new object)"]
    echo("changes: " + (", ".join(changes) if changes else "none (same document)"))
    if dry_run:
        echo("DRY RUN: nothing uploaded.")
        return 0
    put = deployment.aws.client("s3").put_object(
        Bucket=bucket,
        Key=object_key,
        Body=document.body,
        ContentType=CONTENT_TYPE,
        Metadata={VERSION_METADATA: document.version},
    )
    echo(f"uploaded s3://{bucket}/{object_key} (object version {put.get('VersionId', 'unversioned')})")
    from gatekit.ops.replicas import wait_for_version

    urls = deployment.replica_urls(replicas)
    echo(f"waiting up to {timeout:.0f} s for {len(urls)} replica(s) to report {document.version}")
    behind = wait_for_version(urls, key(), document.version, timeout, echo)
    if behind:
        echo(f"NOT CONVERGED after {timeout:.0f} s: {len(behind)} of {len(urls)} replica(s):")
        for status in behind:
            echo(f"  {status.describe()}")
        return 2
    echo(f"all {len(urls)} replica(s) serve version {document.version}")
    return 0
