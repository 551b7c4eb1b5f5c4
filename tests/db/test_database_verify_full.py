"""The managed databases' DATABASE_URL verifies the server (security, issue 12): real TLS handshakes against the
harness PostgreSQL (TLS with its own generated CA), with the URL exactly as the gcp and azure programs store it —
only the address, the credentials and the CA file's location swapped for the harness's.

verify-full passes with the right CA; it fails with another CA, and with the right CA but another host name. Both
clients of the URL are exercised: libpq as `gatekit migrate` rewrites it, and LiteLLM's rewrite into Prisma's
dialect (which pins a multi-root bundle such as Azure's to the root the server chains to, by a verifying handshake)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import psycopg
import pytest
from litellm.proxy.db.db_url_settings import translate_libpq_ssl_params

from gatekit.clouds.database_tls import AZURE_POSTGRES_ROOTS, azure_postgres_ca_bundle
from gatekit.clouds.plan import Plan
from gatekit.clouds.policy import Secret, get
from gatekit.rehearse.services import Postgres
from gatekit.rehearse.tls import make_certificates
from gatekit.render.container import DATABASE_CA_FILE, DATABASE_CA_PATH
from gatekit.runtime.migrate import libpq_url
from tests.pulumi.conftest import cached_plan, manifest, resources

STORED = {
    "gcp": ("gcp:secretmanager/secretVersion:SecretVersion", "gk-gcp-secret-gk-gcp-database-url-v", "secretData"),
    "azure": ("azure-native:keyvault:Secret", "gk-az-kv-gk-az-database-url", "properties.value"),
}


def stored_url(plan: Plan, stack: str) -> str:
    typ, name, path = STORED[stack]
    (found,) = [r for r in resources(plan, typ) if r.name == name]
    secret = found.inputs[path.split(".")[0]]
    assert isinstance(secret, Secret)  # a Pulumi secret (policy: no plaintext secrets)
    return str(get(found.inputs, path))


def against_harness(url: str, pg: Postgres, ca_file: Path, host: str | None = None) -> str:
    """The stored URL pointed at the harness: address and credentials swapped, sslrootcert at `ca_file`; every other
    query parameter kept as stored. `host` names the server differently from its certificate (hostaddr connects)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    assert query.pop("sslrootcert") == DATABASE_CA_PATH
    pairs = [*query.items(), ("sslrootcert", str(ca_file))]
    if host is not None:
        pairs.append(("hostaddr", pg.host))
    netloc = f"{quote(pg.superuser)}:{quote(pg.password, safe='')}@{host or pg.host}:{pg.port}"
    return urlunsplit(parts._replace(netloc=netloc, path="/postgres", query=urlencode(pairs)))


@pytest.fixture(scope="module")
def wrong_ca(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_certificates(tmp_path_factory.mktemp("other-ca")).ca_file


def _connects(url: str) -> bool:
    with psycopg.connect(libpq_url(url)[0], connect_timeout=30) as conn:
        return bool(conn.pgconn.ssl_in_use) and conn.execute("SELECT 1").fetchone() == (1,)


@pytest.mark.parametrize("stack", ["gcp", "azure"])
def test_stored_url_verifies_the_server(stack: str, harness_postgres: Postgres, wrong_ca: Path) -> None:
    url = stored_url(cached_plan(stack), stack)
    query = dict(parse_qsl(urlsplit(url).query))
    assert query["sslmode"] == "verify-full" and query["sslrootcert"] == DATABASE_CA_PATH

    assert _connects(against_harness(url, harness_postgres, harness_postgres.ca_file))
    with pytest.raises(psycopg.OperationalError, match="certificate verify failed"):
        _connects(against_harness(url, harness_postgres, wrong_ca))
    with pytest.raises(psycopg.OperationalError, match="does not match host name"):
        _connects(against_harness(url, harness_postgres, harness_postgres.ca_file, host="db.wrong.invalid"))


def test_the_ca_bundle_ships_in_the_config_map_at_the_contract_path() -> None:
    """The CA the URL names is mounted: the config ConfigMap (mounted at CONFIG_DIR) carries DATABASE_CA_FILE."""
    gcp = manifest(cached_plan("gcp"), "kubernetes:core/v1:ConfigMap", "gateway-config")["data"]
    assert gcp[DATABASE_CA_FILE] == "mock-sql-ca"  # the instance's server_ca_certs (plan mock)
    azure = manifest(cached_plan("azure"), "kubernetes:core/v1:ConfigMap", "gateway-config")["data"]
    assert azure[DATABASE_CA_FILE] == azure_postgres_ca_bundle()
    assert azure[DATABASE_CA_FILE].count("BEGIN CERTIFICATE") == len(AZURE_POSTGRES_ROOTS)
    deployment = manifest(cached_plan("azure"), "kubernetes:apps/v1:Deployment")
    (gateway,) = [c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == "gateway"]
    assert any(DATABASE_CA_PATH.startswith(m["mountPath"] + "/") for m in gateway["volumeMounts"])


def _prisma_dialect(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(translate_libpq_ssl_params(url)).query))


@pytest.mark.parametrize(
    ("bundle", "pinned"),
    [
        (lambda pg, wrong: [wrong.read_text(), pg.ca_file.read_text(), azure_postgres_ca_bundle()], True),
        (lambda pg, wrong: [wrong.read_text(), azure_postgres_ca_bundle()], False),
    ],
    ids=["bundle-with-the-server-root", "bundle-without-it"],
)
def test_litellm_turns_it_into_a_strict_prisma_url(
    bundle: Callable[[Postgres, Path], list[str]],
    pinned: bool,
    harness_postgres: Postgres,
    wrong_ca: Path,
    tmp_path: Path,
) -> None:
    """Prisma ignores verify-full; LiteLLM rewrites it to sslaccept=strict with one root (sslcert). A multi-root
    bundle (Azure's) is pinned by a verifying handshake to the root the server chains to; without that root the
    bundle stays as is and Prisma's strict check fails closed."""
    ca = tmp_path / DATABASE_CA_FILE
    ca.write_text("".join(bundle(harness_postgres, wrong_ca)))
    url = against_harness(stored_url(cached_plan("azure"), "azure"), harness_postgres, ca)
    prisma = _prisma_dialect(url)
    assert prisma["sslmode"] == "require" and prisma["sslaccept"] == "strict"
    assert "sslrootcert" not in prisma
    if pinned:
        assert prisma["sslcert"] != str(ca)
        assert Path(prisma["sslcert"]).read_text().strip() == harness_postgres.ca_file.read_text().strip()
    else:
        assert prisma["sslcert"] == str(ca)
