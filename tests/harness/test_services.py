"""The harness servers are what they claim: PostgreSQL 16 with TLS enforced, Redis with TLS and AUTH."""

from __future__ import annotations

import psycopg
import pytest
import redis

from gatekit.rehearse.services import Postgres, Redis


def test_postgres_is_16_and_verifies_against_the_harness_ca(harness_postgres: Postgres) -> None:
    (version,) = harness_postgres.sql("SHOW server_version_num")[0]
    assert int(version) // 10000 == 16
    with psycopg.connect(harness_postgres.dsn(sslmode="verify-full")) as conn:
        assert conn.pgconn.ssl_in_use


def test_postgres_refuses_plaintext(harness_postgres: Postgres) -> None:
    with pytest.raises(psycopg.OperationalError, match="requires TLS"):
        psycopg.connect(harness_postgres.dsn(sslmode="disable"))


def test_postgres_rejects_a_wrong_password(harness_postgres: Postgres) -> None:
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(harness_postgres.dsn(user="postgres", password="wrong"))


def test_redis_needs_tls_and_auth(harness_redis: Redis) -> None:
    assert harness_redis.tls and harness_redis.password
    assert harness_redis.url.startswith("rediss://")
    assert harness_redis.client().ping()
    no_auth = redis.Redis(
        host=harness_redis.host, port=harness_redis.port, ssl=True, ssl_ca_certs=str(harness_redis.ca_file)
    )
    with pytest.raises(redis.exceptions.AuthenticationError):
        no_auth.ping()
    plaintext = redis.Redis(
        host=harness_redis.host, port=harness_redis.port, password=harness_redis.password, socket_timeout=2
    )
    with pytest.raises((redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)):
        plaintext.ping()
