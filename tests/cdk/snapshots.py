"""Stable snapshots of synthesized templates: asset hashes (content-addressed, so they change with aws-cdk-lib or
asset contents) are replaced by a placeholder before comparing."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

SNAPSHOT_DIR = Path(__file__).parent / "snapshots"
UPDATE_ENV = "GATEKIT_UPDATE_SNAPSHOTS"
_HASH = re.compile(r"[0-9a-f]{64}")


def normalize(template: dict[str, Any]) -> dict[str, Any]:
    return json.loads(_HASH.sub("<asset-hash>", json.dumps(template, sort_keys=True)))


def snapshot_path(stack_name: str) -> Path:
    return SNAPSHOT_DIR / f"{stack_name}.json"


def write_snapshot(stack_name: str, template: dict[str, Any]) -> None:
    SNAPSHOT_DIR.mkdir(parents=True, exist_ok=True)
    snapshot_path(stack_name).write_text(json.dumps(normalize(template), indent=1, sort_keys=True) + "\n")


def read_snapshot(stack_name: str) -> dict[str, Any] | None:
    path = snapshot_path(stack_name)
    return json.loads(path.read_text()) if path.exists() else None
