"""Database clients verify the server: the managed Postgres URLs say `sslmode=verify-full` with the provider's CA.

The CA bundle travels with the gateway's configuration (the config ConfigMap, mounted at the container contract's
`CONFIG_DIR`), so the client trusts exactly the provider's roots and checks the server's name:

- Cloud SQL: the instance's server CA certificates (`server_ca_certs`, a Google-managed CAS CA whose server
  certificates name the instance's addresses), reached by private IP.
- Azure Database for PostgreSQL: the public roots Azure's server certificates chain to (DigiCert Global Root G2,
  Microsoft RSA/ECC Root Certificate Authority 2017), taken from the certifi bundle gatekit ships, reached by FQDN.

LiteLLM turns libpq's `sslmode=verify-full&sslrootcert=` into Prisma's dialect (`sslaccept=strict&sslcert=`) at start
(DatabaseURLSettings.apply_to_env), and `gatekit migrate` connects with libpq itself."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from urllib.parse import quote

import pulumi

from gatekit.render.container import DATABASE_CA_FILE, DATABASE_CA_PATH

__all__ = ["AZURE_POSTGRES_ROOTS", "DATABASE_CA_FILE", "azure_postgres_ca_bundle", "verified_postgres_url"]

AZURE_POSTGRES_ROOTS = (
    "DigiCert Global Root G2",
    "Microsoft RSA Root Certificate Authority 2017",
    "Microsoft ECC Root Certificate Authority 2017",
)


def tls_query(ca_path: str = DATABASE_CA_PATH) -> str:
    return f"sslmode=verify-full&sslrootcert={quote(ca_path, safe='/')}"


def verified_postgres_url(
    user: str, password: pulumi.Input[str], host: pulumi.Input[str], database: str
) -> pulumi.Output[str]:
    """DATABASE_URL (a Pulumi secret) that verifies the server's chain and name against DATABASE_CA_PATH."""
    return pulumi.Output.secret(
        pulumi.Output.concat(f"postgresql://{user}:", password, "@", host, f":5432/{database}?{tls_query()}")
    )


@cache
def azure_postgres_ca_bundle() -> str:
    """The PEM bundle of AZURE_POSTGRES_ROOTS, from certifi (each block found by its `# Label:`, its subject
    checked). A missing root fails loudly (never an empty bundle)."""
    import certifi
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    found: dict[str, str] = {}
    for block in Path(certifi.where()).read_text().split("-----END CERTIFICATE-----"):
        label = re.search(r'^# Label: "(.+)"$', block, re.MULTILINE)
        if label is None or label.group(1) not in AZURE_POSTGRES_ROOTS:
            continue
        pem = block[block.index("-----BEGIN CERTIFICATE-----") :] + "-----END CERTIFICATE-----\n"
        subject = x509.load_pem_x509_certificate(pem.encode()).subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if subject and subject[0].value == label.group(1):
            found[label.group(1)] = pem
    missing = [n for n in AZURE_POSTGRES_ROOTS if n not in found]
    if missing:
        raise RuntimeError(f"certifi {certifi.__version__} lacks the Azure PostgreSQL root(s) {', '.join(missing)}")
    return "".join(found[n] for n in AZURE_POSTGRES_ROOTS)
