"""The gateway's database connection settings: DATABASE_URL from the process environment, or assembled from the
discrete DATABASE_* variables the deployments set (DATABASE_HOST/PORT/NAME/USER|USERNAME/PASSWORD/SSLMODE/
SSLROOTCERT, RDS IAM or Azure Entra token auth).

LiteLLM's CLI assembles DATABASE_URL before Prisma starts; gatekit imports LiteLLM's app directly, so it does the same
with LiteLLM's own `DatabaseURLSettings` (the path LiteLLM documents for entrypoints that bypass its CLI). An
environment with `database.enabled` and no way to reach its database fails at start instead of serving DB-less."""

from __future__ import annotations

import logging
import os
import socket
import ssl
import struct
from pathlib import Path

from gatekit.config import Environment
from gatekit.render.container import DATABASE_CA_ENV, DATABASE_CA_FILE
from gatekit.render.litellm import DATABASE_URL_ENV

log = logging.getLogger("gatekit.runtime")

HOW = (
    "DATABASE_URL, or DATABASE_HOST + DATABASE_USER (or DATABASE_USERNAME) + DATABASE_NAME "
    "(+ DATABASE_PASSWORD, or IAM_TOKEN_DB_AUTH=True)"
)


VERIFYING_MODES = ("verify-full",)


class DatabaseCaError(RuntimeError):
    """The deployment gave a database CA that cannot be used as given (never a quiet downgrade to `require`)."""


def write_database_ca(runtime_dir: Path) -> Path | None:
    """Write $GATEKIT_DATABASE_CA (PEM text the AWS deployments carry; gatekit.render.container) to
    <runtime_dir>/postgres-ca.pem and point LiteLLM's DATABASE_SSLROOTCERT at it, with DATABASE_SSLMODE verify-full.
    None when the variable is absent. A value without a certificate, or a weaker DATABASE_SSLMODE next to it,
    raises DatabaseCaError."""
    pem = os.environ.get(DATABASE_CA_ENV)
    if pem is None:
        return None
    if "-----BEGIN CERTIFICATE-----" not in pem:
        raise DatabaseCaError(f"{DATABASE_CA_ENV} holds no PEM certificate (the deployment's database.ca_bundle)")
    mode = os.environ.setdefault("DATABASE_SSLMODE", "verify-full")
    if mode not in VERIFYING_MODES:
        raise DatabaseCaError(
            f"{DATABASE_CA_ENV} is set but DATABASE_SSLMODE is `{mode}`: the database CA is only used with verify-full"
        )
    runtime_dir.mkdir(parents=True, exist_ok=True)
    path = runtime_dir / DATABASE_CA_FILE
    tmp = path.with_suffix(".pem.tmp")
    tmp.write_text(pem)
    tmp.replace(path)
    os.environ["DATABASE_SSLROOTCERT"] = str(path)
    log.info("database TLS: verify-full against %s (from %s)", path, DATABASE_CA_ENV)
    return path


PG_SSL_REQUEST = struct.pack("!ii", 8, 80877103)  # PostgreSQL's SSLRequest
TLS_CHECK_TIMEOUT_SECONDS = 10.0


def check_database_tls(host: str, port: int, ca_file: Path) -> None:
    """One verifying handshake (chain and name, as verify-full) with the database before LiteLLM connects, so a
    bundle the server does not chain to stops the start with a message that says so (Prisma's own error does not).
    An unreachable server is only logged: LiteLLM retries the connection and verifies on its own."""
    context = ssl.create_default_context(cafile=str(ca_file))
    try:
        with socket.create_connection((host, port), timeout=TLS_CHECK_TIMEOUT_SECONDS) as raw:
            raw.sendall(PG_SSL_REQUEST)
            if raw.recv(1) != b"S":
                raise DatabaseCaError(f"database TLS: {host}:{port} does not offer TLS (verify-full needs it)")
            with context.wrap_socket(raw, server_hostname=host):
                pass
    except ssl.SSLCertVerificationError as exc:
        raise DatabaseCaError(
            f"database TLS: the server at {host}:{port} does not verify against {ca_file} ({exc.verify_message}): "
            f"{DATABASE_CA_ENV} (database.ca_bundle) must hold the CA its certificate chains to, for that name"
        ) from None
    except (OSError, ssl.SSLError) as exc:
        log.warning("database TLS: could not check %s:%s before start (%s); LiteLLM verifies on connect", host, port,
                    exc)  # fmt: skip


def apply_database_url(env: Environment, runtime_dir: Path | None = None) -> str | None:
    """Set os.environ[DATABASE_URL] for a database-enabled environment; returns the URL (None when DB-less).

    Raises gatekit.runtime.prepare.MissingSecretsError when neither form is present. A DB-less environment never
    connects to a database: a DATABASE_URL inherited from the shell is removed (LiteLLM would otherwise use it),
    with a warning that says so."""
    if not env.database.enabled:
        if os.environ.pop(DATABASE_URL_ENV, None) is not None:
            log.warning(
                "%s is set but environment `%s` has no database (database.enabled is off): ignored, serving DB-less",
                DATABASE_URL_ENV,
                env.name,
            )
        return None
    from litellm.proxy.db.db_url_settings import DatabaseURLSettings

    if runtime_dir is not None:
        ca_file = write_database_ca(runtime_dir)
        host = os.environ.get("DATABASE_HOST")
        if ca_file is not None and host:
            check_database_tls(host, int(os.environ.get("DATABASE_PORT") or 5432), ca_file)
    elif DATABASE_CA_ENV in os.environ:
        raise DatabaseCaError(f"{DATABASE_CA_ENV} is set but no runtime directory was given to write it to")
    DatabaseURLSettings.from_env().apply_to_env()
    url = os.environ.get(DATABASE_URL_ENV)
    if not url:
        from gatekit.runtime.prepare import MissingSecretsError

        raise MissingSecretsError({DATABASE_URL_ENV: HOW})
    return url
