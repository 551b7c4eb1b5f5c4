"""cdk-nag (AwsSolutions), cfn-lint and checkov on the synthesized templates of every AWS environment.

Exemptions are per resource and carry their reason in the template: cdk-nag's `cdk_nag.rules_to_suppress` and
checkov's `checkov.skip` metadata. Nothing is skipped stack- or run-wide.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from gatekit.config import Environment
from tests.cdk.conftest import ALL_SYNTHS, Synthesized

REPO = Path(__file__).resolve().parents[2]
CHECKOV = REPO / ".venv-checkov" / "bin" / "checkov"
MIN_REASON = 20


def test_cdk_nag_has_no_unsuppressed_findings(every_synth: Synthesized) -> None:
    assert every_synth.errors == []


def test_every_exemption_is_on_one_resource_with_a_reason(every_synth: Synthesized) -> None:
    nag_count = checkov_count = 0
    for stack, template in every_synth.templates.items():
        assert "cdk_nag" not in template.get("Metadata", {}), f"{stack}: stack-wide nag suppression"
        assert "checkov" not in template.get("Metadata", {}), f"{stack}: stack-wide checkov skip"
        for logical_id, resource in template["Resources"].items():
            metadata = resource.get("Metadata", {})
            for rule in metadata.get("cdk_nag", {}).get("rules_to_suppress", []):
                assert len(rule["reason"]) >= MIN_REASON, f"{stack}/{logical_id}: {rule}"
                nag_count += 1
            for skip in metadata.get("checkov", {}).get("skip", []):
                assert len(skip.get("comment", "")) >= MIN_REASON, f"{stack}/{logical_id}: {skip}"
                checkov_count += 1
    assert nag_count > 0 and checkov_count > 0


def test_cfn_lint_reports_no_errors(synthesized: dict[str, Synthesized]) -> None:
    templates = [str(path) for name in ALL_SYNTHS for path in sorted(synthesized[name].outdir.glob("*.template.json"))]

    # 7 stacks per ECS synthesis; an EKS one has 6 plus aws-cdk-lib's two nested provider stacks (an existing
    # cluster: only the kubectl provider's).
    def expected(env: Environment) -> int:
        if env.target != "aws-eks":
            return 7
        return 7 if env.kubernetes.existing is not None else 8

    assert len(templates) == sum(expected(synthesized[n].env) for n in ALL_SYNTHS)
    # The cfn-lint command itself (cfnlint has no `python -m` entry point: that form printed nothing and passed).
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    proc = subprocess.run(
        [str(cfn_lint), "--format", "json", *templates],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    # Exit status is a bit mask: 2 errors, 4 warnings, 8 informational; 1 means cfn-lint itself failed.
    assert proc.returncode & 1 == 0 and proc.stdout.strip(), f"cfn-lint did not run: {proc.stderr[-2000:]}"
    findings = json.loads(proc.stdout)
    assert all("Rule" in f for f in findings)  # its own JSON report, not something else
    errors = [f for f in findings if f["Level"] == "Error"]
    assert errors == [], json.dumps(errors, indent=1)[:4000]


@pytest.mark.timeout(900)  # eight syntheses (estate variants included), two checkov runs at a time
def test_checkov_passes_with_reasoned_skips_only(synthesized: dict[str, Synthesized]) -> None:
    if not CHECKOV.exists():
        pytest.fail(
            f"checkov is not installed at {CHECKOV}; set it up with: python3 -m venv .venv-checkov && "
            ".venv-checkov/bin/pip install --require-hashes -r tools/checkov-requirements.txt"
        )
    failed: list[str] = []
    skipped = 0
    # One run per synthesis (checkov 3.3 mixes up reports when given several --directory arguments), two at a time.
    with ThreadPoolExecutor(max_workers=2) as pool:
        outputs = dict(zip(ALL_SYNTHS, pool.map(lambda n: _checkov(synthesized[n].outdir), ALL_SYNTHS), strict=True))
    for name, reports in outputs.items():
        for report in reports:
            assert report["summary"]["parsing_errors"] == 0, name
            skipped += report["summary"]["skipped"]
            for check in report["results"]["failed_checks"]:
                failed.append(f"{name}: {check['check_id']} {check['file_path']} {check['resource']}")
            for check in report["results"]["skipped_checks"]:
                comment = check["check_result"].get("suppress_comment", "")
                assert len(comment) >= MIN_REASON, f"{name}: skip without reason {check['check_id']}"
    assert failed == []
    assert skipped > 0


def _checkov(directory: Path) -> list[dict[str, Any]]:
    proc = subprocess.run(
        [
            str(CHECKOV),
            "--directory",
            str(directory),
            "--framework",
            "cloudformation",
            "--output",
            "json",
            "--compact",
            "--skip-download",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    reports = json.loads(proc.stdout)
    return reports if isinstance(reports, list) else [reports]
