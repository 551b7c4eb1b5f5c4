"""The gateway's database connection settings: DATABASE_URL from the process environment, or assembled from the
discrete DATABASE_* variables the deployments set (DATABASE_HOST/PORT/NAME/USER|USERNAME/PASSWORD/SSLMODE/
SSLROOTCERT, RDS IAM or Azure Entra token auth).

LiteLLM's CLI assembles DATABASE_URL before Prisma starts; gatekit imports LiteLLM's app directly, so it does the same
with LiteLLM's own `DatabaseURLSettings` (the path LiteLLM documents for entrypoints that bypass its CLI). An
environment with `database.enabled` and no way to reach its database fails at start instead of serving DB-less."""

from __future__ import annotations

import logging
import os

from gatekit.config import Environment
from gatekit.render.litellm import DATABASE_URL_ENV

log = logging.getLogger("gatekit.runtime")

HOW = (
    "DATABASE_URL, or DATABASE_HOST + DATABASE_USER (or DATABASE_USERNAME) + DATABASE_NAME "
    "(+ DATABASE_PASSWORD, or IAM_TOKEN_DB_AUTH=True)"
)


def apply_database_url(env: Environment) -> str | None:
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

    DatabaseURLSettings.from_env().apply_to_env()
    url = os.environ.get(DATABASE_URL_ENV)
    if not url:
        from gatekit.runtime.prepare import MissingSecretsError

        raise MissingSecretsError({DATABASE_URL_ENV: HOW})
    return url
