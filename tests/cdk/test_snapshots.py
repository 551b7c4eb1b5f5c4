"""One snapshot per stack of every AWS environment and of the EKS variant (tests/cdk/snapshots/<stack>.json).

A change to a template shows up as a snapshot diff in review. After an intended change, refresh them with
`GATEKIT_UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/cdk/test_snapshots.py` and commit the diff.
"""

from __future__ import annotations

import os

from tests.cdk.conftest import AWS_ENVIRONMENTS, Synthesized
from tests.cdk.snapshots import UPDATE_ENV, normalize, read_snapshot, snapshot_path, write_snapshot


def test_normalize_replaces_asset_hashes_only() -> None:
    digest = "a" * 64
    out = normalize({"S3Key": f"{digest}.zip", "Short": "abc123"})
    assert out == {"S3Key": "<asset-hash>.zip", "Short": "abc123"}


def test_snapshots_match(synthesized: dict[str, Synthesized]) -> None:
    update = os.environ.get(UPDATE_ENV) == "1"
    mismatched: list[str] = []
    for name in (*AWS_ENVIRONMENTS, "eks"):
        for stack, template in sorted(synthesized[name].templates.items()):
            if update:
                write_snapshot(stack, template)
                continue
            stored = read_snapshot(stack)
            if stored != normalize(template):
                mismatched.append(f"{stack} ({'missing' if stored is None else 'differs'}: {snapshot_path(stack)})")
    assert mismatched == [], f"stale snapshots, refresh with {UPDATE_ENV}=1 if intended: {mismatched}"
