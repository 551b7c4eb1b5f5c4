"""The AWS targets verify Aurora (security, issue 12): `database.ca_bundle` is required with a managed AWS database,
checked where the deployment is built, and carried to the task as the container contract's DATABASE_CA_ENV, which the
runtime writes under its runtime dir and verifies against (verify-full). Real connections: tests/db."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from gatekit.cli import cli
from gatekit.config import ConfigError, Environment, default_config_dir, load_environment
from gatekit.config.checks import check_environment
from gatekit.config.database_ca import MAX_BUNDLE_BYTES, CaBundleError, read_ca_bundle
from gatekit.rehearse.tls import make_certificates
from gatekit.render.container import DATABASE_CA_ENV, DATABASE_CA_FILE
from gatekit.runtime.database import DatabaseCaError, write_database_ca
from tests.cdk.estate_variants import existing_database

WHERE = "the RDS certificate bundle for your region from the RDS documentation"


def env(name: str, *overrides: str) -> Environment:
    return load_environment(name, default_config_dir(), overrides)


@pytest.mark.parametrize(
    "overrides",
    [
        ("database.ca_bundle=null",),
        ("database.ca_bundle=null", "target=aws-eks"),
        ("database.ca_bundle=null", f"database.existing={json.dumps(existing_database([]))}"),
    ],
    ids=["aws-ecs", "aws-eks", "existing-aurora"],
)
def test_a_managed_aws_database_without_the_bundle_is_refused(overrides: tuple[str, ...]) -> None:
    with pytest.raises(ConfigError) as caught:
        env("dev", *overrides)
    report = caught.value.report()
    assert "database.ca_bundle" in report and WHERE in report and "verify-full" in report


def test_the_bundle_is_only_for_the_aws_targets(rds_bundle: Path) -> None:
    with pytest.raises(ConfigError, match=r"database\.ca_bundle"):
        env("gcp", f"database.ca_bundle={rds_bundle}")
    assert not [f for f in check_environment(env("moat-vm")) if f[0] == "database.ca_bundle"]  # database off
    assert not [f for f in check_environment(env("dev", "database.enabled=false", "database.ca_bundle=null"))]


def test_read_ca_bundle_refuses_what_no_client_could_verify_against(rds_bundle: Path, tmp_path: Path) -> None:
    assert read_ca_bundle(env("dev", f"database.ca_bundle={rds_bundle}")) == rds_bundle.read_text()
    example = read_ca_bundle(env("dev"))  # the shipped example: its comment lines are not carried
    assert example.startswith("-----BEGIN CERTIFICATE-----") and example.count("BEGIN CERTIFICATE") == 1
    certs = make_certificates(tmp_path / "leaf")
    cases = {
        tmp_path / "missing.pem": "cannot read",
        certs.cert_file: "not a CA certificate",  # a server certificate, not its CA
        certs.key_file: "no PEM certificate",
    }
    big = tmp_path / "global.pem"
    big.write_text(rds_bundle.read_text() * (MAX_BUNDLE_BYTES // len(rds_bundle.read_text()) + 1))
    cases[big] = "not the global bundle"
    for path, message in cases.items():
        with pytest.raises(CaBundleError, match=message) as caught:
            read_ca_bundle(env("dev", f"database.ca_bundle={path}"))
        assert "database.ca_bundle" in str(caught.value) and WHERE in str(caught.value)


def test_validate_deploy_names_an_unusable_bundle(tmp_path: Path) -> None:
    done = CliRunner().invoke(
        cli, ["config", "validate", "--env", "dev", "--deploy", "--set", f"database.ca_bundle={tmp_path}/none.pem"]
    )
    assert done.exit_code == 1
    assert "database.ca_bundle: cannot read" in done.output


def test_runtime_writes_the_bundle_and_verifies_full(
    rds_bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DATABASE_CA_ENV, rds_bundle.read_text())
    monkeypatch.delenv("DATABASE_SSLMODE", raising=False)
    monkeypatch.delenv("DATABASE_SSLROOTCERT", raising=False)
    path = write_database_ca(tmp_path / "runtime")
    assert path == tmp_path / "runtime" / DATABASE_CA_FILE
    assert path.read_text() == rds_bundle.read_text()
    assert os.environ["DATABASE_SSLROOTCERT"] == str(path) and os.environ["DATABASE_SSLMODE"] == "verify-full"


@pytest.mark.parametrize(
    ("pem", "mode", "message"),
    [("not a certificate", "verify-full", "no PEM certificate"), (None, "require", "DATABASE_SSLMODE is `require`")],
)
def test_runtime_refuses_a_bundle_it_cannot_verify_with(
    pem: str | None, mode: str, message: str, rds_bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never a quiet fallback to `require`: a CA with a weaker mode, or no certificate at all, stops the start."""
    monkeypatch.setenv(DATABASE_CA_ENV, pem if pem is not None else rds_bundle.read_text())
    monkeypatch.setenv("DATABASE_SSLMODE", mode)
    with pytest.raises(DatabaseCaError, match=message):
        write_database_ca(tmp_path)
    assert not (tmp_path / DATABASE_CA_FILE).exists()


def test_an_unreachable_database_is_left_to_litellm(rds_bundle: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The start-up handshake refuses only a server that answers and does not verify (tests/db); a server not up
    yet is logged, and LiteLLM's own connection (verify-full) retries."""
    from gatekit.rehearse.services import free_port
    from gatekit.runtime.database import check_database_tls

    port = free_port()  # nothing listens there
    with caplog.at_level("WARNING", logger="gatekit.runtime"):
        check_database_tls("127.0.0.1", port, rds_bundle)
    assert f"could not check 127.0.0.1:{port}" in caplog.text
