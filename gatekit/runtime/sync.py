"""Config sync: poll the source, validate the document with the typed model, apply it, or reject it and keep
serving the old config. One syncer runs in every worker process (it starts from the ASGI lifespan)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable

from pydantic import ValidationError

from gatekit.config import Environment
from gatekit.config.checks import check_environment
from gatekit.render.env import render_environment
from gatekit.render.sync_document import config_version
from gatekit.runtime.sources import ConfigSource, SourceError
from gatekit.runtime.state import RuntimeState

log = logging.getLogger("gatekit.runtime.sync")

Applier = Callable[[Environment], list[str]]


class InvalidDocumentError(ValueError):
    pass


def _describe_validation(exc: ValidationError) -> str:
    parts: list[str] = []
    for error in exc.errors()[:10]:
        where = ".".join(str(p) for p in error["loc"]) or "(document)"
        parts.append(f"{where}: {error['msg']}")
    more = len(exc.errors()) - 10
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def parse_document(body: bytes, expected_name: str) -> Environment:
    """The document is a resolved environment (`gatekit config render --target json`). Every check the CLI runs
    runs here too, plus: it must be for this replica's environment, and every secret it needs must be present."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidDocumentError(f"not a JSON document: {exc}") from exc
    try:
        env = Environment.model_validate(data)
    except ValidationError as exc:
        raise InvalidDocumentError(_describe_validation(exc)) from exc
    findings = check_environment(env)
    if findings:
        raise InvalidDocumentError("; ".join(f"{path}: {message}" for path, message in findings))
    if env.name != expected_name:
        raise InvalidDocumentError(f"document is for environment `{env.name}`; this replica serves `{expected_name}`")
    missing = sorted(var for var in render_environment(env).secrets if not os.environ.get(var))
    if missing:
        raise InvalidDocumentError(f"secrets not present in this replica: {', '.join(missing)}")
    return env


class ConfigSyncer:
    def __init__(self, state: RuntimeState, source: ConfigSource, apply: Applier) -> None:
        self.state = state
        self.source = source
        self.apply = apply
        self.seen_etag: str | None = None

    async def run(self) -> None:
        """Poll every `interval_seconds` (read each time: the interval itself can be reloaded)."""
        loop = asyncio.get_running_loop()
        next_poll = loop.time()
        while True:
            # Fixed rate: a slow fetch does not push the next poll back by its own duration.
            next_poll = max(next_poll + self.state.env.gateway.config_sync.interval_seconds, loop.time())
            await asyncio.sleep(next_poll - loop.time())
            try:
                await self.poll_once()
            except Exception:
                # A bug in one poll must not end syncing for the life of the process; it is logged and counted.
                log.exception("config sync poll failed")
                self.state.config_rejected("internal error during poll (see logs)")

    async def poll_once(self) -> bool:
        """One poll. True when a new config was applied."""
        state = self.state
        try:
            fetched = await asyncio.to_thread(self.source.fetch, self.seen_etag)
        except SourceError as exc:
            self._reject(f"fetch failed: {exc}")
            return False
        finally:
            state.config_checked()
        if fetched is None:
            return False
        self.seen_etag = fetched.etag
        try:
            env = parse_document(fetched.body, state.env.name)
        except InvalidDocumentError as exc:
            self._reject(f"rejected document (etag {fetched.etag}): {exc}")
            return False
        version = config_version(env)
        if version == state.config.version:
            state.config.etag = fetched.etag
            return False
        try:
            pending = self.apply(env)
        except Exception as exc:
            log.exception("applying config %s failed", version)
            self.seen_etag = None  # not the document's fault: try again on the next poll
            self._reject(f"apply failed for version {version}: {exc}")
            return False
        state.config_applied(env, version, fetched.etag, pending)
        log.info(
            "config applied",
            extra={"version": version, "etag": fetched.etag, "source": self.source.description, "pending": pending},
        )
        if pending:
            log.warning("config changes that take effect on the next restart", extra={"restart_required": pending})
        return True

    def _reject(self, error: str) -> None:
        self.state.config_rejected(error)
        where = {"source": self.source.description}
        log.error("config sync: %s; the previous config keeps serving", error, extra=where)
