"""The AWS targets verify Aurora (security, issue 12): the variables the synthesized ECS migrations task carries
(DATABASE_SSLMODE verify-full, the operator's RDS bundle as GATEKIT_DATABASE_CA; the dev snapshot, which the snapshot
test holds to the template) against the harness PostgreSQL, the harness CA standing for the RDS bundle. The URL they
assemble connects with the right CA and fails with another; `gatekit migrate` with another CA exits 1 with libpq's
verdict, never falling back to `require`; LiteLLM's Prisma URL is strict against the file the runtime wrote. (The
whole gateway on this contract: tests/db's session gateway and test_database_wrong_ca.py; the deployed task
definitions: tests/rehearse.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import psycopg
import pytest

from gatekit.rehearse.services import Postgres
from gatekit.rehearse.tls import make_certificates
from gatekit.render.container import DATABASE_CA_ENV, DATABASE_CA_FILE
from gatekit.runtime.migrate import libpq_url
from tests.cdk.snapshots import read_snapshot
from tests.conftest import REPO
from tests.harness.db_gateway import clean_env


def migrations_task_env() -> dict[str, str]:
    """The literal environment of the dev stack's migrations task, as synthesized."""
    template = read_snapshot("gk-dev-gateway")
    assert template is not None
    (task,) = [
        r
        for name, r in template["Resources"].items()
        if r["Type"] == "AWS::ECS::TaskDefinition" and name.startswith("Migrations")
    ]
    (container,) = task["Properties"]["ContainerDefinitions"]
    return {e["Name"]: e["Value"] for e in container["Environment"] if isinstance(e["Value"], str)}


def run_migrate(pg: Postgres, ca_pem: str, runtime: Path) -> subprocess.CompletedProcess[str]:
    deployed = migrations_task_env()
    assert deployed["DATABASE_SSLMODE"] == "verify-full" and "BEGIN CERTIFICATE" in deployed[DATABASE_CA_ENV]
    env = {
        **clean_env(),
        **{k: v for k, v in deployed.items() if k != "HOME"},
        DATABASE_CA_ENV: ca_pem,  # the operator's bundle: here the harness CA (or a wrong one)
        "DATABASE_HOST": pg.host,
        "DATABASE_PORT": str(pg.port),
        "DATABASE_NAME": "postgres",
        "DATABASE_USERNAME": pg.superuser,
        "DATABASE_PASSWORD": pg.password,
        "GATEKIT_RUNTIME_DIR": str(runtime),
    }
    return subprocess.run(
        [sys.executable, "-m", "gatekit.cli", "migrate", "--no-views", "--json"],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def test_migrations_task_refuses_a_server_the_bundle_does_not_verify(
    harness_postgres: Postgres, tmp_path: Path
) -> None:
    """`gatekit migrate` as deployed, with a CA the server does not chain to: exit 1 with libpq's verdict. (With the
    right CA it migrates: the tests/db session's migrations run on this contract, and the ECS rehearsal runs the
    deployed migrations task.)"""
    wrong = make_certificates(tmp_path / "other-ca").ca_file.read_text()
    refused = run_migrate(harness_postgres, wrong, tmp_path / "wrong")
    assert refused.returncode == 1
    assert "certificate verify failed" in refused.stderr, refused.stderr[-2000:]
    assert (tmp_path / "wrong" / DATABASE_CA_FILE).read_text() == wrong  # it used what it was given, not require


def test_the_deployed_variables_connect_verified_and_prisma_is_strict(
    harness_postgres: Postgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The URL LiteLLM assembles from the deployed variables (and `gatekit migrate` rewrites for libpq) connects
    with the right CA and fails with another; LiteLLM's Prisma dialect of it is strict against the written file."""
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no fetch at LiteLLM's import
    from litellm.proxy.db.db_url_settings import DatabaseURLSettings, translate_libpq_ssl_params

    from gatekit.runtime.database import write_database_ca

    def deployed_url(ca_pem: str, runtime: Path) -> tuple[str, Path]:
        for key in [k for k in os.environ if k.startswith("DATABASE_")]:
            monkeypatch.delenv(key)
        for key, value in migrations_task_env().items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv(DATABASE_CA_ENV, ca_pem)
        monkeypatch.setenv("DATABASE_HOST", harness_postgres.host)
        monkeypatch.setenv("DATABASE_PORT", str(harness_postgres.port))
        monkeypatch.setenv("DATABASE_NAME", "postgres")
        monkeypatch.setenv("DATABASE_USERNAME", harness_postgres.superuser)
        monkeypatch.setenv("DATABASE_PASSWORD", harness_postgres.password)
        path = write_database_ca(runtime)
        assert path is not None
        url = DatabaseURLSettings.from_env().build_writer_url()
        assert url is not None
        return url, path

    url, path = deployed_url(harness_postgres.ca_file.read_text(), tmp_path / "right")
    query = dict(parse_qsl(urlsplit(url).query))
    assert query["sslmode"] == "verify-full" and query["sslrootcert"] == str(path)
    with psycopg.connect(libpq_url(url)[0], connect_timeout=30) as conn:
        assert conn.pgconn.ssl_in_use and conn.execute("SELECT 1").fetchone() == (1,)
    prisma = dict(parse_qsl(urlsplit(translate_libpq_ssl_params(url)).query))
    assert prisma["sslaccept"] == "strict" and prisma["sslcert"] == str(path)  # one certificate: used as is

    wrong, _ = deployed_url(make_certificates(tmp_path / "other-ca").ca_file.read_text(), tmp_path / "wrong")
    with pytest.raises(psycopg.OperationalError, match="certificate verify failed"):
        psycopg.connect(libpq_url(wrong)[0], connect_timeout=30).close()
