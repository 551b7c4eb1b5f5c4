"""Config rules of an existing EKS cluster and existing data stores (issue 18): each mistake is refused with the file,
the line and the field path (gatekit/config/estate_existing_checks.py), never a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from gatekit.config import default_config_dir, load_environment
from gatekit.config.errors import ConfigError
from tests.cdk.estate_variants import (
    DB_SG,
    EKS_COLLECTOR_IMAGE,
    EXISTING_CLUSTER,
    VPC_CIDR,
    existing_cache,
    existing_database,
    existing_network,
)


def _staging(tmp_path: Path, extra: dict[str, object]) -> tuple[Path, list[str]]:
    """A copy of config/ whose staging.yaml ends with `extra` (YAML); returns the dir and the file's lines."""
    config = tmp_path / "config"
    shutil.copytree(default_config_dir(), config)
    env_file = config / "environments" / "staging.yaml"
    text = env_file.read_text()
    target = extra.pop("target", None)
    if target is not None:
        text = text.replace("target: aws-ecs", f"target: {target}")
    if target == "aws-eks":  # the collector sidecar pinned by digest (gatekit.config.platform_checks)
        text = text.replace("observability:\n", f"observability:\n  collector_image: {EKS_COLLECTOR_IMAGE}\n", 1)
    if "database" in extra:  # staging's own `database:` block (its RDS CA bundle) merged into the appended one
        own = yaml.safe_load(text)["database"]
        text = text.replace("database:\n" + "".join(f"  {line}\n" for line in _block_lines(text)), "")
        extra["database"] = {**own, **dict(extra["database"])}  # type: ignore[arg-type]
    env_file.write_text(text + "\n" + yaml.safe_dump(extra, sort_keys=False))
    return config, env_file.read_text().splitlines()


def _block_lines(text: str) -> list[str]:
    """The lines of the top-level `database:` block (comments included), without their two-space indent."""
    lines = text.splitlines()
    start = lines.index("database:") + 1
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("  ")), len(lines))
    return [line[2:] for line in lines[start:end]]


def _line(lines: list[str], needle: str, after: str = "") -> int:
    """The first line containing `needle` after the line that starts with `after`."""
    start = next(i for i, line in enumerate(lines) if line.startswith(after)) if after else 0
    return next(i for i, line in enumerate(lines, 1) if i > start and needle in line)


def _refused(config: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_environment("staging", config)
    return str(caught.value)


NETWORK = {"cidr": VPC_CIDR, "az_count": 3, "existing": existing_network([])}


def test_existing_cluster_needs_exactly_one_identity(tmp_path: Path) -> None:
    cluster = {k: v for k, v in EXISTING_CLUSTER.items() if k != "oidc_provider_arn"}
    config, lines = _staging(
        tmp_path,
        {
            "target": "aws-eks",
            "network": NETWORK,
            "kubernetes": {"existing": cluster},
        },
    )
    message = _refused(config)
    # The missing field's nearest line: kubernetes.existing.
    assert f"staging.yaml:{_line(lines, '  existing:', after='kubernetes:')}" in message
    assert "kubernetes.existing.oidc_provider_arn" in message and "exactly one identity" in message
    both = {**EXISTING_CLUSTER, "pod_identity": True}
    config, _ = _staging(
        tmp_path / "both",
        {
            "target": "aws-eks",
            "network": NETWORK,
            "kubernetes": {"existing": both},
        },
    )
    assert "exactly one identity" in _refused(config)


def test_existing_cluster_only_on_aws_eks_and_in_an_existing_vpc(tmp_path: Path) -> None:
    config, lines = _staging(tmp_path, {"kubernetes": {"existing": EXISTING_CLUSTER}})
    message = _refused(config)  # staging is aws-ecs
    assert f"staging.yaml:{_line(lines, '  existing:')}" in message
    assert "kubernetes.existing" in message and "applies to target aws-eks (not `aws-ecs`)" in message
    config, _ = _staging(
        tmp_path / "vpc",
        {
            "target": "aws-eks",
            "kubernetes": {"existing": EXISTING_CLUSTER},
        },
    )
    assert "an existing EKS cluster runs in an existing VPC" in _refused(config)


def test_existing_cluster_oidc_provider_of_another_region(tmp_path: Path) -> None:
    cluster = {
        **EXISTING_CLUSTER,
        "oidc_provider_arn": EXISTING_CLUSTER["oidc_provider_arn"].replace("us-east-1", "eu-west-1"),
    }
    config, lines = _staging(
        tmp_path,
        {
            "target": "aws-eks",
            "network": NETWORK,
            "kubernetes": {"existing": cluster},
        },
    )
    message = _refused(config)
    assert f"staging.yaml:{_line(lines, 'oidc_provider_arn')}" in message
    assert "a cluster in `eu-west-1`, not `us-east-1`" in message


def test_existing_database_needs_it_enabled_and_a_secret_of_the_region(tmp_path: Path) -> None:
    database = existing_database([])
    database["admin_secret_arn"] = str(database["admin_secret_arn"]).replace("us-east-1", "us-west-2")
    config, lines = _staging(tmp_path, {"database": {"enabled": False, "existing": database}})
    message = _refused(config)
    assert f"staging.yaml:{_line(lines, 'enabled: false')}" in message and "database.enabled" in message
    assert f"staging.yaml:{_line(lines, 'admin_secret_arn')}" in message
    assert "a secret in `us-west-2`; the gateway reads secrets of `us-east-1` only" in message


def test_existing_store_groups_need_the_gateway_in_their_vpc(tmp_path: Path) -> None:
    config, lines = _staging(tmp_path, {"database": {"existing": existing_database([DB_SG])}})
    message = _refused(config)
    assert f"staging.yaml:{_line(lines, 'security_group_ids')}" in message
    assert "database.existing.security_group_ids" in message and "set network.existing" in message


def test_existing_store_field_formats_are_checked(tmp_path: Path) -> None:
    cache = existing_cache(["not-a-group"])
    cache["auth_token_secret_arn"] = "estate/valkey-auth"  # a name, not the complete ARN IAM can be scoped to
    config, lines = _staging(tmp_path, {"network": NETWORK, "cache": {"existing": cache}})
    message = _refused(config)
    assert f"staging.yaml:{_line(lines, 'auth_token_secret_arn')}" in message
    assert "cache.existing.auth_token_secret_arn" in message and "cache.existing.security_group_ids.0" in message


def test_a_complete_estate_loads(tmp_path: Path) -> None:
    config, _ = _staging(
        tmp_path,
        {
            "target": "aws-eks",
            "network": {**NETWORK, "mode": "private", "endpoints": ["s3"]},
            "kubernetes": {"existing": EXISTING_CLUSTER},
            "database": {"existing": existing_database([DB_SG])},
            "cache": {"existing": existing_cache([])},
        },
    )
    env = load_environment("staging", config)
    assert env.kubernetes.existing is not None and env.kubernetes.existing.name == "platform-shared"
    assert env.database.existing is not None and env.cache.existing is not None
