"""Which environment a deployed replica starts from: the deployed config document, never the config baked into the
image.

A deployment tells the replica where its document is with exactly two variables (the bootstrap contract every target
renders, see `gatekit.render.env.BOOTSTRAP_ENV`): `GATEKIT_CONFIG_SOURCE` (file, s3, gcs, azure-blob) and
`GATEKIT_CONFIG_URI`. When they are set, `gatekit serve` reads the document from that source before anything else,
validates it exactly as config sync does, and starts from it, so restart-only settings (port, workers, drain budget,
backpressure, sync interval …) come from the deployed document too. Everything else a replica needs comes from the
document; nothing in it is repeated as an environment variable. Without a deployment URI (laptop, `gatekit up`), the
config loaded from config/ is final.
"""

from __future__ import annotations

import logging
import os

from gatekit.config import Environment
from gatekit.config.gateway import ConfigSync
from gatekit.runtime.sources import DEPLOYMENT_URI_ENV, SourceError, SourceUnavailableError, open_source

SOURCE_ENV = "GATEKIT_CONFIG_SOURCE"
log = logging.getLogger("gatekit.runtime")


class BootstrapError(SystemExit):
    def __init__(self, message: str) -> None:
        super().__init__(f"gatekit: {message}")


def deployment_sync(baked: Environment) -> ConfigSync | None:
    """The config source the deployment points this replica at (it sets $GATEKIT_CONFIG_URI), or None."""
    uri = os.environ.get(DEPLOYMENT_URI_ENV)
    if not uri:
        return None
    declared = os.environ.get(SOURCE_ENV)
    try:
        return ConfigSync(
            source=declared or baked.gateway.config_sync.source,  # type: ignore[arg-type]
            uri=uri,
            interval_seconds=baked.gateway.config_sync.interval_seconds,
        )
    except ValueError as exc:
        raise BootstrapError(f"${SOURCE_ENV}/${DEPLOYMENT_URI_ENV} do not name a config source: {exc}") from None


def deployed_environment(baked: Environment) -> Environment:
    """The environment this replica must start from. Fails loudly (exit 1) when the deployment names a document
    that cannot be read or that a replica would reject: never a silent start from the image's config."""
    from gatekit.runtime.sync import InvalidDocumentError, parse_document

    sync = deployment_sync(baked)
    if sync is None:
        return baked
    try:
        source = open_source(sync)
        assert source is not None
        fetched = source.fetch(None)
    except (SourceError, SourceUnavailableError) as exc:
        raise BootstrapError(f"cannot read the deployed config document: {exc}") from None
    assert fetched is not None  # no etag given: always a document
    try:
        env = parse_document(fetched.body, baked.name)
    except InvalidDocumentError as exc:
        raise BootstrapError(f"the deployed config document ({source.description}) is invalid: {exc}") from None
    if env.gateway.config_sync.source != sync.source:
        raise BootstrapError(
            f"the deployed document syncs from `{env.gateway.config_sync.source}` but the deployment serves it "
            f"from `{sync.source}` (${SOURCE_ENV})"
        )
    log.info("starting from the deployed config document", extra={"source": source.description})
    return env
