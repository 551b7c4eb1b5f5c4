"""What the rehearsal reads out of the synthesized ECS templates (before anything runs): the processes exactly as the
task definitions and the image define them, secrets by reference into Secrets Manager, and the config document the
config stack uploads (the one sync document)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from gatekit.config import load_environment
from gatekit.config.database_ca import read_ca_bundle
from gatekit.rehearse.aws_run import PROVIDER_KEY_SECRET
from gatekit.rehearse.aws_target import RDS_CA, prepare_ecs, rehearsal_overrides, stand_in_database_cas
from gatekit.rehearse.aws_world import Endpoint
from gatekit.rehearse.session import Shared
from gatekit.rehearse.tls import make_certificates
from gatekit.render import container
from gatekit.render.sync_document import sync_document
from tests.rehearse.conftest import AWS_ECS_ENVIRONMENTS

# Synthesis and LiteLLM start-up are CPU-bound: on a shared machine they exceed the suite's 300 s default.
pytestmark = pytest.mark.timeout(1800)


@pytest.fixture(scope="module", params=AWS_ECS_ENVIRONMENTS)
def extracted(request: pytest.FixtureRequest, rehearsal: Shared, ecs_assemblies: dict[str, Path]):  # type: ignore[no-untyped-def]
    env = load_environment(request.param, rehearsal.config_dir)
    deployment, stores = prepare_ecs(
        env,
        ecs_assemblies[request.param],
        moto_endpoint=rehearsal.moto,
        image=rehearsal.image,
        database=Endpoint("127.0.0.1", 15432),
        cache=Endpoint("127.0.0.1", 16379),
        cache_password="cache-auth",
    )
    return env, deployment, stores


def test_migrations_run_first_with_gatekit_migrate(extracted) -> None:  # type: ignore[no-untyped-def]
    _, deployment, _ = extracted
    kinds = [p.kind for p in deployment.processes]
    assert kinds == ["migrations", "gateway"]
    migrations = deployment.processes[0]
    assert migrations.argv == (*container.ENTRYPOINT, *container.MIGRATIONS_ARGS)
    assert set(migrations.secret_env) == {"DATABASE_USERNAME", "DATABASE_PASSWORD"}
    assert all(s.store == "aws-secretsmanager" and s.key for s in migrations.secret_env.values())


def test_gateway_runs_as_the_container_contract(extracted) -> None:  # type: ignore[no-untyped-def]
    env, deployment, _ = extracted
    gateway = deployment.gateway()
    spec = container.gateway_container(env)
    assert gateway.argv == spec.argv
    assert (gateway.uid, gateway.gid) == (spec.uid, spec.gid) and gateway.uid != 0
    assert set(gateway.writable_paths) == set(spec.writable_dirs)
    assert gateway.read_only_root and gateway.port == spec.port
    assert gateway.readiness_path == container.READINESS_PATH and gateway.liveness_path == container.LIVENESS_PATH
    # Addresses resolved from the data stack to the local servers; no IAM token auth left for a local PostgreSQL.
    assert gateway.env["DATABASE_HOST"] == "127.0.0.1" and gateway.env["DATABASE_PORT"] == "15432"
    assert gateway.env["REDIS_PORT"] == "16379" and "IAM_TOKEN_DB_AUTH" not in gateway.env
    # The deprecated duplicates of document settings are gone; the bootstrap pointer is there.
    assert not {"GATEKIT_MAX_IN_FLIGHT", "GATEKIT_DRAIN_BUDGET_SECONDS", "GATEKIT_CONFIG_INTERVAL_SECONDS"} & set(
        gateway.env
    )
    assert gateway.env["GATEKIT_CONFIG_SOURCE"] == "s3" and gateway.env["GATEKIT_CONFIG_URI"].startswith("s3://")


def test_every_secret_resolves_from_the_store_the_stacks_populate(extracted) -> None:  # type: ignore[no-untyped-def]
    env, deployment, stores = extracted
    for process in deployment.processes:
        for var, source in process.secret_env.items():
            assert stores.resolve_secret(source), f"{process.name}: {var} <- {source.describe()}"
    gateway = deployment.gateway()
    assert stores.resolve_secret(gateway.secret_env["REDIS_PASSWORD"]) == "cache-auth"
    assert env.secrets.master_key.env_var in gateway.secret_env


def test_config_document_is_the_sync_document(rehearsal: Shared, extracted) -> None:  # type: ignore[no-untyped-def]
    env, deployment, _ = extracted
    overrides = rehearsal_overrides(env, rehearsal.mock_llm, PROVIDER_KEY_SECRET)
    expected = sync_document(load_environment(env.name, rehearsal.config_dir, overrides)).text
    assert deployment.config_source.type == "s3"
    assert deployment.config_source.document == expected
    assert deployment.config_source.uri == deployment.gateway().env["GATEKIT_CONFIG_URI"]


def test_data_stack_sql_is_extracted(extracted) -> None:  # type: ignore[no-untyped-def]
    _, deployment, _ = extracted
    setup = deployment.database
    assert setup is not None and setup.runtime_user == "litellm_runtime" and setup.admin_user == "gatekit_admin"
    assert "CREATE ROLE litellm_runtime" in setup.statements[0]
    reasons = {n.what for n in deployment.not_reproduced}
    assert {"IAM database authentication", "Application Load Balancer", "KMS"} <= reasons


def test_both_tasks_verify_the_database_against_the_configured_bundle(extracted, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The gateway and the migrations task carry `database.ca_bundle` (its certificates) with verify-full; the
    rehearsal swaps in the local server's CA for both and says so, and refuses a database process without one."""
    env, deployment, _ = extracted
    carried = read_ca_bundle(env)
    for process in deployment.processes:
        assert process.env["DATABASE_SSLMODE"] == "verify-full", process.name
        assert process.env[container.DATABASE_CA_ENV] == carried, process.name
    ca = make_certificates(tmp_path / "ca").ca_file
    stood_in = replace(deployment, processes=list(deployment.processes), not_reproduced=[])
    stand_in_database_cas(stood_in, ca)
    assert {p.env[container.DATABASE_CA_ENV] for p in stood_in.processes} == {ca.read_text()}
    assert stood_in.not_reproduced == [RDS_CA]
    bare = replace(deployment.processes[0], env={**deployment.processes[0].env})
    del bare.env[container.DATABASE_CA_ENV]
    with pytest.raises(RuntimeError, match="reach the database without a CA"):
        stand_in_database_cas(replace(deployment, processes=[bare, *deployment.processes[1:]]), ca)
