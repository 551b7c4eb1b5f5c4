"""The parent process of a multi-worker replica (`gateway.workers` > 1).

It binds one listening socket per worker on the replica's port (SO_REUSEPORT, gatekit/runtime/listeners.py: the
kernel spreads new connections over the workers), creates the replica directory (gatekit/runtime/replica.py: shared
metrics, worker status, in-flight slots) and spawns one worker per `gateway.workers`; each worker is a fresh
interpreter that imports LiteLLM and runs gatekit's DrainingServer on its socket, with its own config syncer.
Each socket is closed in the supervisor once its worker started (the worker holds the only copy: when the worker
exits, new connections stop hashing to it); a worker started in place of one that died gets a freshly bound socket.

- Startup: a worker that exits before it reported ready fails the replica (exit 1, the others are stopped): a worker
  that cannot start never leaves a half-sized replica serving silently.
- A worker that dies after it was ready is logged, its live gauges dropped, its in-flight slot cleared, and it is
  started again; the others keep serving.
- SIGTERM (or the first Ctrl-C): forwarded to every worker, each drains on its own (readiness 503, new requests
  refused, in-flight requests and streams finish) within `gateway.drain.budget_seconds`. The supervisor waits for all
  of them up to the budget plus `exit_margin_seconds` - 1 s, kills what is left, and exits 0 only if every worker did.
  Every worker keeps its listener open while it drains (readiness 503 for the load balancer, new requests 503), so
  the kernel keeps hashing new connections to all of them: that is right because they all drain at once. A worker
  is never drained alone (ADR 0032): its socket would keep receiving its share of new connections, refused.
"""

from __future__ import annotations

import ctypes
import faulthandler
import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any, cast

from gatekit.config import Environment
from gatekit.runtime.listeners import bind_listeners, bind_worker_socket
from gatekit.runtime.replica import WORKER_INDEX_ENV, InFlightSlots, Replica

log = logging.getLogger("gatekit.runtime.supervisor")
POLL_SECONDS = 0.5
PR_SET_PDEATHSIG = 1


def _drain_when_orphaned() -> None:
    """Linux: the kernel sends this worker SIGTERM (a drain) if the supervisor dies, even by SIGKILL, so no worker
    outlives its replica holding the port."""
    if sys.platform != "linux":
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")


def worker_main(index: int, document: str, host: str, port: int, sock: socket.socket) -> None:
    """One worker process: the environment document the supervisor started from, LiteLLM, gatekit's server."""
    os.environ[WORKER_INDEX_ENV] = str(index)
    _drain_when_orphaned()
    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 <worker>` prints where it is (stderr)
    from gatekit.runtime.server import exit_flush_seconds, exit_promptly, load_proxy_app, run_app

    env = Environment.model_validate_json(document)
    served = run_app(load_proxy_app(), env, host, port, sockets=[sock])
    # Drained and shut down: leave without the interpreter teardown (in a spawned worker with LiteLLM loaded, its final
    # garbage collection was seen to hang past the budget). A worker whose startup failed exits 1.
    exit_promptly(0 if served else 1, exit_flush_seconds(env))


@dataclass
class Worker:
    index: int
    process: BaseProcess
    ready: bool = False


@dataclass
class Supervisor:
    env: Environment
    workers: int
    host: str
    port: int
    replica: Replica
    sockets: list[socket.socket]
    running: dict[int, Worker] = field(default_factory=dict)
    drain_signal: int | None = None
    forced: bool = False
    failed: list[str] = field(default_factory=list)

    def spawn(self, index: int) -> None:
        InFlightSlots(self.replica, index)  # a previous worker's count is gone with it
        ctx = multiprocessing.get_context("spawn")
        document = self.env.model_dump_json()
        process = ctx.Process(
            target=worker_main,
            args=(index, document, self.host, self.port, self.sockets[index]),
            name=f"gatekit-worker-{index}",
        )
        process.start()
        # The worker inherited the socket (spawn passes its descriptor): it holds the only copy, so the socket leaves
        # the port's group as soon as the worker closes it or dies, and the kernel stops hashing connections to it.
        self.sockets[index].close()
        self.running[index] = Worker(index, process)
        log.info("worker started", extra={"worker": index, "pid": process.pid})

    def on_signal(self, sig: int, frame: FrameType | None) -> None:
        if self.drain_signal is not None and sig == signal.SIGINT:
            self.forced = True  # second Ctrl-C: stop now
        self.drain_signal = sig

    def _check_ready(self) -> None:
        for worker in self.running.values():
            if not worker.ready:
                status = self.replica.read_status(worker.index)
                worker.ready = bool(status and status.get("ready") and status.get("pid") == worker.process.pid)

    def _reap(self, draining: bool) -> bool:
        """Handle exited workers. False when the replica must stop (a worker failed before it was ready)."""
        from prometheus_client import multiprocess

        for index, worker in list(self.running.items()):
            code = worker.process.exitcode
            if code is None:
                continue
            del self.running[index]
            # prometheus_client leaves mark_process_dead's `path` untyped
            cast(Any, multiprocess).mark_process_dead(worker.process.pid, str(self.replica.metrics_dir))
            InFlightSlots(self.replica, index)
            if draining:
                stopped_early = not worker.ready and code == -signal.SIGTERM  # SIGTERM before its server started
                if code != 0 and not stopped_early:
                    self.failed.append(f"worker {index} exited {code} while draining")
                continue
            if not worker.ready:
                self.failed.append(f"worker {index} exited {code} before it was ready")
                log.error("worker failed to start; stopping the replica", extra={"worker": index, "exit_code": code})
                return False
            log.error("worker died; starting it again", extra={"worker": index, "exit_code": code})
            self.sockets[index] = bind_worker_socket(self.host, self.port)
            self.spawn(index)
        return True

    def signal_all(self, sig: int) -> None:
        for worker in self.running.values():
            if worker.process.pid is not None and worker.process.exitcode is None:
                os.kill(worker.process.pid, sig)

    def run(self) -> int:
        for index in range(self.workers):
            self.spawn(index)
        while self.drain_signal is None:
            self._check_ready()
            if not self._reap(draining=False):
                self.drain_signal = signal.SIGTERM
                break
            wait([w.process.sentinel for w in self.running.values()], timeout=POLL_SECONDS)
        return self._drain()

    def _drain(self) -> int:
        drain = self.env.gateway.drain
        deadline = time.monotonic() + drain.budget_seconds + max(drain.exit_margin_seconds - 1, 1)
        log.info("draining all workers", extra={"workers": len(self.running), "budget_seconds": drain.budget_seconds})
        self.signal_all(signal.SIGTERM)
        forced_sent = False
        while self.running:
            if self.forced and not forced_sent:
                self.signal_all(signal.SIGINT)  # each worker's second Ctrl-C: stop now
                forced_sent = True
            if time.monotonic() >= deadline:
                self.failed.append(f"workers {sorted(self.running)} still running after the drain budget: killed")
                self.signal_all(signal.SIGKILL)
            wait([w.process.sentinel for w in self.running.values()], timeout=POLL_SECONDS)
            self._reap(draining=True)
        for problem in self.failed:
            log.error(problem)
        return 1 if self.failed else 0


def supervise(env: Environment, workers: int, host: str, port: int) -> int:
    """Run the replica's workers until they have drained; the exit code of the replica."""
    from gatekit.runtime.logs import configure_logging

    configure_logging(env.observability.log_level)
    port, sockets = bind_listeners(host, port, workers)  # fails loudly (EADDRINUSE) if the port is taken
    replica = Replica.create(workers)
    os.environ.update(replica.environ())  # inherited by every worker (spawned after this)
    supervisor = Supervisor(env, workers, host, port, replica, sockets)
    previous = {sig: signal.signal(sig, supervisor.on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        return supervisor.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        supervisor.signal_all(signal.SIGKILL)
        for sock in supervisor.sockets:
            sock.close()
        replica.remove()
