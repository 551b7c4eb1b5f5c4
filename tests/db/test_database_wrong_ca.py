"""A gateway on the AWS database contract (DATABASE_* + verify-full + the carried CA, tests/harness/db_gateway) whose
CA is not the one the server chains to never serves as if connected (security, issue 12): it exits with a message
naming the bundle (gatekit's verifying handshake before LiteLLM starts; Prisma's own error does not say TLS) or stays
unready with it, never a quiet fallback to `sslmode=require`. The session gateway (tests/db conftest) is the same
contract with the right CA, and ready."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import httpx

from gatekit.rehearse.services import Postgres, free_port
from gatekit.rehearse.tls import make_certificates
from gatekit.render.container import DATABASE_CA_ENV, DATABASE_CA_FILE
from tests.conftest import REPO
from tests.harness.db_gateway import START_TIMEOUT, clean_env, database_env, serve, stop, wait_http

TLS_ERROR = re.compile(r"database TLS: the server at \S+ does not verify against \S+postgres-ca\.pem \(.+\)")


def test_a_wrong_database_ca_fails_loudly(harness_postgres: Postgres, prisma_engine: Path, tmp_path: Path) -> None:
    pg = harness_postgres
    wrong = make_certificates(tmp_path / "other-ca").ca_file.read_text()
    port = free_port()
    overrides = ["database.enabled=true", 'database.url={"env": "DATABASE_URL"}', f"gateway.port={port}"]
    env = {
        **clean_env(),
        **database_env(pg, pg.superuser, pg.password),  # the TLS handshake fails before any credential is sent
        DATABASE_CA_ENV: wrong,
        "GATEKIT_MASTER_KEY": "sk-gatekit-wrong-ca-" + secrets.token_hex(8),
        "GATEKIT_RUNTIME_DIR": str(tmp_path / "runtime"),
        "PRISMA_QUERY_ENGINE_BINARY": str(prisma_engine),
    }
    log = tmp_path / "gateway.log"
    with log.open("ab") as out:
        proc = serve(overrides, env, out, REPO)
        try:
            url = f"http://127.0.0.1:{port}"
            try:
                wait_http(f"{url}/health/liveliness", proc, log, timeout=START_TIMEOUT)
            except RuntimeError as exc:  # it may refuse to start at all: then with the TLS error, not 0
                assert proc.poll() not in (None, 0), exc
                assert TLS_ERROR.search(log.read_text(errors="replace")), log.read_text(errors="replace")[-3000:]
                return
            readiness = httpx.get(f"{url}/health/readiness", timeout=30)
            assert readiness.status_code != 200, readiness.text
            assert (tmp_path / "runtime" / DATABASE_CA_FILE).read_text() == wrong  # it verified against what it got
            assert TLS_ERROR.search(log.read_text(errors="replace") + readiness.text)
        finally:
            stop(proc)
