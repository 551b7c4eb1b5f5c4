"""What the worker processes of one replica share: a per-replica directory under the container's writable /tmp.

- `metrics/`: Prometheus multiprocess files ($PROMETHEUS_MULTIPROC_DIR), so one `/metrics` scrape on any worker
  returns the replica's totals (counters summed, in-flight and stream gauges summed over live workers).
- `workers/worker-<i>.json`: each worker's config status (version, etag, errors, readiness, drain), written by the
  worker whenever it changes; `GET /gatekit/config` on any worker reports all of them.
- `in_flight`: one 8-byte slot per worker, written only by its owner; the sum is the replica's in-flight count, which
  backpressure compares with `gateway.backpressure.max_in_flight` (a per-replica limit). Admission reads the sum
  without a lock, so concurrent admissions on different workers can pass the limit by at most workers - 1.

The supervisor (gatekit/runtime/supervisor.py) creates the directory before it spawns the workers and removes it
when they have exited. A single-worker replica runs in-process and has no replica directory."""

from __future__ import annotations

import json
import mmap
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPLICA_DIR_ENV = "GATEKIT_REPLICA_DIR"
WORKERS_ENV = "GATEKIT_WORKERS"
WORKER_INDEX_ENV = "GATEKIT_WORKER_INDEX"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
SLOT_BYTES = 8


@dataclass(frozen=True)
class Replica:
    root: Path
    workers: int

    @property
    def metrics_dir(self) -> Path:
        return self.root / "metrics"

    @property
    def status_dir(self) -> Path:
        return self.root / "workers"

    @property
    def slots_path(self) -> Path:
        return self.root / "in_flight"

    @classmethod
    def create(cls, workers: int) -> Replica:
        """A fresh directory (never a previous run's metrics or status) under $TMPDIR (/tmp in the image)."""
        root = Path(tempfile.mkdtemp(prefix="gatekit-replica-"))
        replica = cls(root, workers)
        replica.metrics_dir.mkdir()
        replica.status_dir.mkdir()
        replica.slots_path.write_bytes(b"\0" * SLOT_BYTES * workers)
        return replica

    @classmethod
    def from_environ(cls) -> Replica | None:
        root = os.environ.get(REPLICA_DIR_ENV)
        if not root:
            return None
        return cls(Path(root), int(os.environ[WORKERS_ENV]))

    def environ(self) -> dict[str, str]:
        return {REPLICA_DIR_ENV: str(self.root), WORKERS_ENV: str(self.workers), MULTIPROC_ENV: str(self.metrics_dir)}

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def status_path(self, worker: int) -> Path:
        return self.status_dir / f"worker-{worker}.json"

    def write_status(self, worker: int, status: dict[str, Any]) -> None:
        path = self.status_path(worker)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(status))
        tmp.replace(path)  # atomic: a reader never sees half a document

    def read_status(self, worker: int) -> dict[str, Any] | None:
        try:
            return dict(json.loads(self.status_path(worker).read_text()))
        except FileNotFoundError:
            return None

    def statuses(self) -> list[dict[str, Any]]:
        """Every worker's last status; a worker that has not started yet is listed as such."""
        return [self.read_status(i) or {"worker": i, "ready": False, "version": None} for i in range(self.workers)]


def current_worker() -> int:
    return int(os.environ.get(WORKER_INDEX_ENV, "0"))


class InFlightSlots:
    """The replica's in-flight count, one slot per worker in a shared memory-mapped file."""

    def __init__(self, replica: Replica, worker: int) -> None:
        self.worker = worker
        with replica.slots_path.open("r+b") as f:
            self._map = mmap.mmap(f.fileno(), SLOT_BYTES * replica.workers)
        self._slots = memoryview(self._map).cast("q")
        self._slots[worker] = 0

    def set(self, value: int) -> None:
        self._slots[self.worker] = value

    def total(self) -> int:
        return sum(self._slots)
