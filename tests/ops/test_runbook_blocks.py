"""The runbook extractor and the discovery helpers that need no AWS."""

from __future__ import annotations

from pathlib import Path

import pytest

from gatekit.cli import cli
from gatekit.ops.discovery import _ips, _secret_arn_of
from gatekit.ops.push_config import changed_paths
from tests.ops.runbook_blocks import RunbookFormatError, blocks, check_call, gatekit_calls, script

RUNBOOK = """# x
```bash
gatekit ops status --env "$GATEKIT_ENV"
```
```bash skip-drill: needs real CloudFormation
cdk deploy --all
```
```text
not a command
```
"""


def test_blocks_and_skip_reasons(tmp_path: Path) -> None:
    path = tmp_path / "r.md"
    path.write_text(RUNBOOK)
    found = blocks(path)
    assert [(b.line, b.skip_reason) for b in found] == [(2, None), (5, "needs real CloudFormation")]
    text = script(found)
    assert "gatekit ops status" in text and "cdk deploy" not in text and text.startswith("set -euo pipefail")


@pytest.mark.parametrize("fence", ["```bash skip-drill:", "```bash maybe"])
def test_annotations_need_a_reason(tmp_path: Path, fence: str) -> None:
    path = tmp_path / "r.md"
    path.write_text(f"{fence}\ngatekit ops status\n```\n")
    with pytest.raises(RunbookFormatError):
        blocks(path)


def test_drift_from_the_cli_is_caught() -> None:
    code = 'X="$(gatekit ops status --env "$E" --get cluster)"\ngatekit ops scale --env e \\\n  --replicas 3'
    calls = gatekit_calls(code)
    assert calls[0][:3] == ["gatekit", "ops", "status"]
    assert check_call(cli, calls[0]) is None
    assert "no option `--replicas`" in str(check_call(cli, calls[1]))
    assert "no command `scael`" in str(check_call(cli, ["gatekit", "ops", "scael"]))
    assert gatekit_calls("aws rds delete-db-cluster --db-cluster-identifier gatekit-pitr-drill") == []


def test_task_ips_from_describe_tasks() -> None:
    """The DescribeTasks shape of an awsvpc (Fargate) task (moto 5.2.5 cannot start one, see drill/seed.py)."""
    task = {
        "attachments": [
            {
                "type": "ElasticNetworkInterface",
                "details": [
                    {"name": "subnetId", "value": "subnet-1"},
                    {"name": "privateIPv4Address", "value": "10.40.3.17"},
                ],
            }
        ]
    }
    assert _ips(task) == ["10.40.3.17"]


def test_secret_arn_of_value_from() -> None:
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:gk-prod-master-AbCdEf"
    assert _secret_arn_of(arn + ":password::") == arn
    assert _secret_arn_of(arn) == arn


def test_changed_paths() -> None:
    old = {"gateway": {"routing": {"num_retries": 2}, "port": 4000}}
    new = {"gateway": {"routing": {"num_retries": 3}, "port": 4000}, "tags": {"a": "b"}}
    assert changed_paths(old, new) == ["gateway.routing.num_retries", "tags"]
