"""Run the LiteLLM proxy ASGI app under uvicorn with gatekit's configuration applied.

Drain: the first SIGTERM (or Ctrl-C) does not stop the server. Readiness turns 503 and new requests are refused
with 503, while the listener stays open so load balancers see the replica leave; in-flight requests and streams
finish. When none is left, or `gateway.drain.budget_seconds` is spent, uvicorn shuts down and the process exits 0.

`gateway.workers` > 1: `run_replica` hands over to the supervisor (gatekit/runtime/supervisor.py), which runs this
same server in each worker process, each on its own SO_REUSEPORT listening socket on the replica's port, and forwards
SIGTERM to all of them (they drain together: whichever worker the kernel hands a new connection answers 503)."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import sys
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

import uvicorn

from gatekit.config import Environment
from gatekit.runtime.connections import counting_protocol
from gatekit.runtime.prepare import apply_environment, runtime_dir_for, write_litellm_config
from gatekit.runtime.sources import DEPLOYMENT_URI_ENV, ConfigSource, SourceUnavailableError, open_source
from gatekit.runtime.state import RuntimeState

# After the drain, what is still open is idle keep-alive connections and cancelled work: a short grace suffices.
SHUTDOWN_GRACE_SECONDS = 1
log = logging.getLogger("gatekit.runtime")


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, state: RuntimeState) -> None:
        super().__init__(config)
        self.state = state
        self.drain_requested = False

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # Runs as a signal handler: only flip flags here; on_tick does the work on the event loop.
        if self.drain_requested and sig == signal.SIGINT:
            self.should_exit = self.force_exit = True  # second Ctrl-C: stop now
            return
        self.drain_requested = True

    async def on_tick(self, counter: int) -> bool:
        if self.drain_requested and not self.state.draining:
            self.state.begin_drain()
            budget = self.state.env.gateway.drain.budget_seconds
            log.info("draining", extra={"in_flight": self.state.in_flight, "budget_seconds": budget})
        if await super().on_tick(counter):
            return True
        if self.state.drained():
            log.info("drained", extra={"in_flight": self.state.in_flight})
            return True
        return False


def load_proxy_app() -> Any:
    """Import LiteLLM's proxy app. Must run after the environment is applied (LiteLLM reads it at import)."""
    from litellm.proxy.proxy_server import app

    return app


def open_runtime_source(env: Environment) -> ConfigSource | None:
    """Check what the runtime cannot work without, and open the config source. Exits with a clear message."""
    try:
        return open_source(env.gateway.config_sync, os.environ.get(DEPLOYMENT_URI_ENV))
    except SourceUnavailableError as exc:
        raise SystemExit(f"gatekit: {exc}") from None


def run_app(
    app: Any,
    env: Environment,
    host: str | None = None,
    port: int | None = None,
    sockets: list[socket.socket] | None = None,
) -> bool:
    """Serve until drained. True when the server started and shut down (then `exit_promptly`), False when it never
    started (a failed lifespan startup: the caller exits as it sees fit)."""
    from gatekit.runtime.app import build_app
    from gatekit.runtime.logs import configure_logging
    from gatekit.runtime.telemetry import configure_telemetry

    source = open_runtime_source(env)
    # Before LiteLLM's lifespan loads its callbacks: its otel callback then adopts this provider.
    telemetry = configure_telemetry(env)
    configure_logging(env.observability.log_level)
    state = RuntimeState(env)
    accepted = state.metrics.connections.labels(state.worker_label)
    config = uvicorn.Config(
        build_app(app, env, state, telemetry, source),
        host=host or env.gateway.host,
        port=port or env.gateway.port,
        log_level="warning",
        access_log=False,
        http=counting_protocol(accepted.inc),
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
        proxy_headers=False,  # gatekit.runtime.exposure resolves X-Forwarded-For from trusted_proxy_ranges
    )
    server = DrainingServer(config, state)
    server.run(sockets=sockets)
    return bool(server.started)


def exit_promptly(code: int = 0, flush_seconds: float | None = None) -> NoReturn:
    """End the process once the gateway has drained and LiteLLM's lifespan has shut down.

    The interpreter's own teardown of LiteLLM's heap (its module graph, generated Prisma types, routers) runs after
    that for a long time: measured here, 30-40 s of CPU with no Python frame left once the drain had finished, so a
    replica lingered about a minute after SIGTERM — past most termination grace periods. Nothing in that teardown is
    needed: the exit hooks (atexit: the span exporter's final flush, log flushes) run, bounded by `flush_seconds`
    (`DrainTimings.exit_flush_seconds`), the standard streams are flushed, then the process exits with `code`.

    The bound matters: OpenTelemetry's batch processor waits up to 30 s at exit for its queue to export, and with the
    collector unreachable each export retries for 10 s — a replica would outlive its exit margin and be killed (a
    supervisor reports that as a failed drain). Spans still queued when the bound is spent are dropped, and said so."""
    import atexit
    import threading

    if flush_seconds is None:  # no environment at hand: the bound the default drain settings give
        from gatekit.config.gateway import Drain
        from gatekit.config.timings import DrainTimings

        flush_seconds = DrainTimings.from_drain(Drain()).exit_flush_seconds
    # CPython has no public way to run the registered exit hooks early (inside a bound); this is the documented-in-
    # source function the interpreter itself calls at exit.
    run_hooks = atexit._run_exitfuncs  # pyright: ignore[reportPrivateUsage]
    hooks = threading.Thread(target=run_hooks, name="gatekit-exit-hooks", daemon=True)
    hooks.start()
    hooks.join(flush_seconds)
    if hooks.is_alive():
        log.warning(
            "exit hooks unfinished; exiting without them (queued spans are dropped: is the collector reachable?)",
            extra={"flush_seconds": flush_seconds},
        )
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def exit_flush_seconds(env: Environment) -> int:
    from gatekit.config.timings import DrainTimings

    return DrainTimings.from_drain(env.gateway.drain).exit_flush_seconds


def run_replica(env: Environment, host: str | None = None, port: int | None = None) -> bool:
    """Serve one replica: in this process with one worker (True once it served and drained: the caller then
    `exit_promptly`s), under the supervisor with more (exits with the supervisor's code). The environment must
    already be applied (`apply_environment`): the workers inherit it."""
    from gatekit.config.sizing import replica_workers

    workers = replica_workers(env)
    if workers == 1:
        return run_app(load_proxy_app(), env, host, port)
    from gatekit.runtime.supervisor import supervise

    raise SystemExit(supervise(env, workers, host or env.gateway.host, port or env.gateway.port))


def serve(env: Environment, host: str | None = None, port: int | None = None, runtime_dir: Path | None = None) -> None:
    from gatekit.runtime.bootstrap import deployed_environment

    env = deployed_environment(env)  # a deployed replica starts from the deployed document, not the image's config
    open_runtime_source(env)  # fail before the slow LiteLLM import
    config_path = write_litellm_config(env, runtime_dir or runtime_dir_for(env))
    apply_environment(env, config_path)
    if run_replica(env, host, port):
        exit_promptly(flush_seconds=exit_flush_seconds(env))
