"""Every rejection `gatekit config validate` promises, through the real CLI: exit 1, file, line and field path,
what was expected, and never a traceback."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from gatekit.cli import cli


def validate(config_dir: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["config", "validate", "--config-dir", str(config_dir), *args])
    return result.exit_code, result.output  # click >= 8.2 mixes stderr into output


def write(config_dir: Path, name: str, text: str) -> Path:
    path = config_dir / "environments" / f"{name}.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def assert_reported(output: str, file: str, field: str, *words: str) -> str:
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if file in line and f": {field}: " in line]
    assert lines, f"no problem naming {file} and {field} in:\n{output}"
    for word in words:
        assert any(word in line for line in lines), f"{word!r} not in {lines}"
    return lines[0]


def test_valid_config_passes(config_copy: Path) -> None:
    code, out = validate(config_copy, "--all")
    assert code == 0, out
    for env in ("local", "dev", "staging", "prod", "moat"):
        assert f"ok  {env}" in out


def test_malformed_yaml_names_file_and_line(config_copy: Path) -> None:
    write(config_copy, "dev", "extends: base\ntarget: aws-ecs\ncompute:\n  cpu: [1024\n  memory_mib: 2048\n")
    code, out = validate(config_copy, "--env", "dev")
    assert code == 1
    line = assert_reported(out, "environments/dev.yaml:", "(document)", "malformed YAML")
    assert ":5:" in line or ":4:" in line


def test_duplicate_yaml_key_is_rejected(config_copy: Path) -> None:
    write(config_copy, "dev", "extends: base\ntarget: aws-ecs\ntarget: aws-eks\n")
    code, out = validate(config_copy, "--env", "dev")
    assert code == 1
    assert_reported(out, "environments/dev.yaml:3", "target", "duplicate key")


def test_unknown_key_suggests_the_right_one(config_copy: Path) -> None:
    write(config_copy, "dev", "extends: base\ntarget: aws-ecs\ncompute:\n  replicaz: {min: 1}\n")
    code, out = validate(config_copy, "--env", "dev")
    assert code == 1
    assert_reported(out, "environments/dev.yaml:4", "compute.replicaz", "unknown key", "did you mean `replicas`")


def test_unknown_litellm_param_suggests_the_right_one(config_copy: Path) -> None:
    write(
        config_copy,
        "dev",
        """\
        extends: base
        target: aws-ecs
        gateway:
          models:
            - {model_name: a, tier: economy, litellm_params: {model: openai/x, api_bsae: "http://x"}}
            - {model_name: b, tier: premium, litellm_params: {model: openai/y}}
        """,
    )
    code, out = validate(config_copy, "--env", "dev")
    assert code == 1
    assert_reported(out, "environments/dev.yaml:5", "gateway.models.0.litellm_params", "did you mean `api_base`")


def test_wrong_type_is_named_with_the_value(config_copy: Path) -> None:
    write(config_copy, "dev", "extends: base\ntarget: aws-ecs\ngateway:\n  port: four-thousand\n")
    code, out = validate(config_copy, "--env", "dev")
    assert code == 1
    assert_reported(out, "environments/dev.yaml:4", "gateway.port", "valid integer", "four-thousand")


def test_negative_replicas_are_rejected(config_copy: Path) -> None:
    write(config_copy, "dev", "extends: base\ntarget: aws-ecs\ncompute:\n  replicas: {min: -1, desired: 1, max: 2}\n")
    code, out = validate(config_copy, "--env", "dev")
    assert code == 1
    assert_reported(out, "environments/dev.yaml:4", "compute.replicas.min", "greater than or equal to 1", "-1")


def test_drain_budget_longer_than_ecs_allows(config_copy: Path) -> None:
    write(config_copy, "dev", "extends: base\ntarget: aws-ecs\ngateway:\n  drain: {budget_seconds: 200}\n")
    code, out = validate(config_copy, "--env", "dev")
    assert code == 1
    assert_reported(out, "environments/dev.yaml:4", "gateway.drain.budget_seconds", "120 s", "205 s")


def test_same_drain_budget_is_fine_on_kubernetes(config_copy: Path) -> None:
    pinned = "observability:\n  collector_image: registry.corp.net/otel@sha256:" + "c0" * 32 + "\n"  # issue 12
    bundle = "database:\n  ca_bundle: config/certs/rds-ca.example.pem\n"  # Aurora verified (issue 12)
    drain = "gateway:\n  drain: {budget_seconds: 200}\n"
    write(config_copy, "dev", "extends: base\ntarget: aws-eks\n" + drain + pinned + bundle)
    code, out = validate(config_copy, "--env", "dev")
    assert code == 0, out


def test_duplicate_model_names(config_copy: Path) -> None:
    write(
        config_copy,
        "dev",
        """\
        extends: base
        target: aws-ecs
        gateway:
          models:
            - {model_name: twin, tier: economy, litellm_params: {model: openai/a}}
            - {model_name: twin, tier: premium, litellm_params: {model: openai/b}}
        """,
    )
    code, out = validate(config_copy, "--env", "dev")
    assert code == 1
    assert_reported(out, "environments/dev.yaml:6", "gateway.models.1.model_name", "duplicate model name `twin`")


def test_tier_with_no_model(config_copy: Path) -> None:
    write(
        config_copy,
        "dev",
        """\
        extends: base
        target: aws-ecs
        gateway:
          models:
            - {model_name: only-cheap, tier: economy, litellm_params: {model: openai/a}}
        """,
    )
    code, out = validate(config_copy, "--env", "dev")
    assert code == 1
    assert_reported(out, "base.yaml", "gateway.tiers.premium", "tier `premium` has no model")


def test_model_in_unknown_tier(config_copy: Path) -> None:
    write(
        config_copy,
        "dev",
        """\
        extends: base
        target: aws-ecs
        gateway:
          models:
            - {model_name: a, tier: economy, litellm_params: {model: openai/a}}
            - {model_name: b, tier: premium, litellm_params: {model: openai/b}}
            - {model_name: c, tier: luxury, litellm_params: {model: openai/c}}
        """,
    )
    code, out = validate(config_copy, "--env", "dev")
    assert code == 1
    assert_reported(out, "environments/dev.yaml:7", "gateway.models.2.tier", "unknown tier `luxury`")


def test_extends_cycle(config_copy: Path) -> None:
    write(config_copy, "dev", "extends: staging\ntarget: aws-ecs\n")
    write(config_copy, "staging", "extends: dev\ntarget: aws-ecs\n")
    code, out = validate(config_copy, "--env", "dev")
    assert code == 1
    assert_reported(out, "environments/staging.yaml:1", "extends", "cycle", "dev -> staging -> dev")


def test_unknown_parent(config_copy: Path) -> None:
    write(config_copy, "dev", "extends: prdo\ntarget: aws-ecs\n")
    code, out = validate(config_copy, "--env", "dev")
    assert code == 1
    assert_reported(out, "environments/dev.yaml:1", "extends", "unknown parent `prdo`", "did you mean `prod`")


@pytest.mark.parametrize(
    ("snippet", "field", "what"),
    [
        (
            "gateway:\n  models:\n"
            "    - {model_name: a, tier: economy, litellm_params:\n"
            "        {model: openai/a, api_key: sk-proj-AbCdEf0123456789XyZaBcDeF}}\n"
            "    - {model_name: b, tier: premium, litellm_params: {model: openai/b}}\n",
            "gateway.models.0.litellm_params.api_key",
            "inline secret",
        ),
        (
            "gateway:\n  models:\n"
            "    - {model_name: a, tier: economy, litellm_params:\n"
            "        {model: bedrock/x, aws_access_key_id: AKIAIOSFODNN7EXAMPLE}}\n"
            "    - {model_name: b, tier: premium, litellm_params: {model: openai/b}}\n",
            "gateway.models.0.litellm_params.aws_access_key_id",
            "AWS access key",
        ),
        (
            "secrets:\n  master_key: sk-1234-my-master-key-value-0000\n",
            "secrets.master_key",
            "inline secret",
        ),
        (
            "database:\n  url: postgresql://gatekit:hunter2@db.internal:5432/litellm\n",
            "database.url",
            "embedded password",
        ),
        (
            "description: 'pg at postgres://admin:s3cr3t@10.0.0.5/db'\n",
            "description",
            "embedded password",
        ),
    ],
    ids=["openai-key", "aws-access-key", "master-key", "database-password-url", "password-in-any-string"],
)
def test_inline_secrets_are_rejected(config_copy: Path, snippet: str, field: str, what: str) -> None:
    write(config_copy, "dev", "extends: base\ntarget: aws-ecs\n" + snippet)
    code, out = validate(config_copy, "--env", "dev")
    assert code == 1
    assert_reported(out, "environments/dev.yaml:", field, what)
    for secret in ("AbCdEf0123456789XyZaBcDeF", "AKIAIOSFODNN7EXAMPLE", "my-master-key-value", "hunter2"):
        assert secret not in out, "a rejected secret must not be echoed back"


def test_all_problems_are_reported_at_once(config_copy: Path) -> None:
    write(
        config_copy,
        "dev",
        "extends: base\ntarget: aws-ecs\ncompute:\n  replicas: {min: -3}\n  memroy_mib: 1\ngateway:\n  port: 0\n",
    )
    code, out = validate(config_copy, "--env", "dev")
    assert code == 1
    for field in ("compute.replicas.min", "compute.memroy_mib", "gateway.port"):
        assert_reported(out, "environments/dev.yaml:", field)


def test_problems_across_environments_are_all_listed(config_copy: Path) -> None:
    write(config_copy, "dev", "extends: base\ntarget: aws-ecs\ncompute: {cpu: 1000}\n")
    write(config_copy, "staging", "extends: base\ntarget: mars\n")
    code, out = validate(config_copy, "--all")
    assert code == 1
    assert_reported(out, "environments/dev.yaml:3", "compute.cpu", "256, 512, 1024")
    assert_reported(out, "environments/staging.yaml:2", "target", "aws-ecs")
