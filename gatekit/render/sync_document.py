"""The one document every gateway replica syncs: the resolved environment as JSON.

Every target produces it here and nowhere else: the CDK config stack (S3), the Pulumi GCP and Azure programs (GCS,
Blob), the Kubernetes ConfigMap (source `file`) and `gatekit ops push-config`. The runtime's config sync
(`gatekit.runtime.sync.parse_document`) accepts exactly this document: it validates it with the typed model, runs the
same checks as `gatekit config validate`, and applies it.

The document is the environment unchanged. In particular it never embeds where it is stored
(`gateway.config_sync.uri` stays as configured; the deployment passes the location as `GATEKIT_CONFIG_URI`): a
replica that started from this environment and then reads this document sees the same version, and no restart-only
path (`gateway.config_sync.uri` is one) differs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from gatekit.config import Environment
from gatekit.config.checks import check_environment

# Object / ConfigMap key of the document, and its media type.
DOCUMENT_NAME = "environment.json"
CONTENT_TYPE = "application/json"


class DocumentError(ValueError):
    """The environment does not make a document a replica would accept."""


@dataclass(frozen=True)
class SyncDocument:
    body: bytes
    version: str  # the runtime's `config_version` of the parsed document (what `GET /gatekit/config` reports)
    data: dict[str, Any]

    @property
    def text(self) -> str:
        return self.body.decode()


def config_version(env: Environment) -> str:
    """Content hash of the resolved environment: identical documents give identical versions on every replica."""
    canonical = json.dumps(env.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def sync_document(env: Environment) -> SyncDocument:
    """The resolved environment as the JSON document replicas sync. Raises DocumentError when a replica would
    reject it (the same validation and checks the runtime runs)."""
    data = env.model_dump(mode="json")
    body = (json.dumps(data, indent=2, sort_keys=True) + "\n").encode()
    parsed = Environment.model_validate(json.loads(body))  # exactly what a replica does with the body
    findings = check_environment(parsed)
    if findings:
        raise DocumentError("the document fails validation: " + "; ".join(f"{p}: {m}" for p, m in findings))
    return SyncDocument(body=body, version=config_version(parsed), data=data)
