"""`gatekit rehearse` of a deployment into an existing estate (issue 18): staging on ECS in an existing VPC with the
estate's Aurora cluster and ElastiCache replication group (tests/cdk/estate_variants.py `estate-data`). The same
checks as every environment pass against the stand-ins (the local PostgreSQL with the estate's admin user, the local
Redis); what the estate runs that cannot run here is reported as not reproduced."""

from __future__ import annotations

from pathlib import Path

import pytest

from gatekit.config import load_environment
from gatekit.rehearse.aws_run import assembly_key, synth_for_rehearsal
from gatekit.rehearse.aws_target import prepare_ecs
from gatekit.rehearse.aws_world import Endpoint
from gatekit.rehearse.estate import ESTATE_ADMIN
from gatekit.rehearse.report import CHECKS
from gatekit.rehearse.session import Shared, rehearse_environment
from tests.cdk.estate_variants import CACHE_SECRET_ARN, DB_SECRET_ARN, ESTATE_VARIANTS

pytestmark = pytest.mark.timeout(2400)


def test_rehearse_existing_vpc_and_data_stores(rehearsal: Shared, tmp_path: Path) -> None:
    base, overrides = ESTATE_VARIANTS["estate-data"]
    env = load_environment(base, rehearsal.config_dir, overrides)
    # One synthesis, shared by the extraction read below and the rehearsal.
    out = synth_for_rehearsal(rehearsal, env, tmp_path / "cdk.out", overrides)
    rehearsal.assemblies[assembly_key(env.name, overrides)] = out
    deployment, _ = prepare_ecs(
        env,
        out,
        moto_endpoint=rehearsal.moto,
        image=rehearsal.image,
        database=Endpoint("127.0.0.1", 1),  # extraction only: where the stand-in would listen
        cache=Endpoint(rehearsal.redis.host, rehearsal.redis.port),
        cache_password=rehearsal.redis.password,
    )
    # The runtime-role SQL runs as the user of the estate's admin secret; the processes read the estate's secrets
    # and reach the stand-ins instead of the estate's endpoints.
    assert deployment.database is not None and deployment.database.admin_user == ESTATE_ADMIN
    (migrations,) = deployment.of_kind("migrations")
    assert {s.name for s in migrations.secret_env.values()} == {DB_SECRET_ARN}
    gateway = deployment.gateway()
    assert gateway.secret_env["REDIS_PASSWORD"].name == CACHE_SECRET_ARN
    assert (gateway.env["DATABASE_HOST"], gateway.env["DATABASE_PORT"]) == ("127.0.0.1", "1")
    assert gateway.env["REDIS_HOST"] == rehearsal.redis.host

    report = rehearse_environment(rehearsal, base, overrides)
    assert report.passed, report.to_json()
    data = report.as_dict()
    assert sorted(c["name"] for c in data["checks"]) == sorted(CHECKS)
    assert all(c["status"] == "pass" and c["evidence"] for c in data["checks"])
    reasons = {n["what"] for n in data["not_reproduced"]}
    assert {"existing VPC", "existing Aurora cluster", "existing ElastiCache", "IAM database authentication"} <= reasons
