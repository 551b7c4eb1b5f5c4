"""What the workers of one replica share (gatekit/runtime/replica.py), without LiteLLM: the in-flight sum that
backpressure limits, the per-worker status files, and the multiprocess metrics one `/metrics` scrape aggregates."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from gatekit.runtime.replica import InFlightSlots, Replica
from tests.conftest import REPO


@pytest.fixture
def replica(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Replica:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # $TMPDIR, as tempfile read it
    made = Replica.create(2)
    assert made.root.parent == tmp_path
    return made


def test_the_replica_in_flight_count_is_the_sum_of_the_workers_slots(replica: Replica) -> None:
    w0, w1 = InFlightSlots(replica, 0), InFlightSlots(replica, 1)
    w0.set(3)
    w1.set(2)
    assert w0.total() == w1.total() == 5
    InFlightSlots(replica, 1)  # a restarted worker starts from zero: its predecessor's requests are gone
    assert w0.total() == 3


def test_every_worker_status_is_listed_and_a_missing_one_is_not_ready(replica: Replica) -> None:
    replica.write_status(1, {"worker": 1, "ready": True, "version": "abc"})
    assert replica.statuses() == [
        {"worker": 0, "ready": False, "version": None},
        {"worker": 1, "ready": True, "version": "abc"},
    ]
    replica.remove()
    assert not replica.root.exists()


WORKER = textwrap.dedent(
    """
    import os, sys
    from gatekit.runtime.metrics import RuntimeMetrics
    from gatekit.runtime.replica import WORKER_INDEX_ENV
    m = RuntimeMetrics()
    worker = os.environ[WORKER_INDEX_ENV]
    for _ in range(int(sys.argv[1])):
        m.requests.labels(worker).inc()
    m.shed.inc()
    m.in_flight.set(int(sys.argv[1]))
    """
)

SCRAPE = textwrap.dedent(
    """
    from gatekit.runtime.metrics import RuntimeMetrics, exposition
    print(exposition(RuntimeMetrics()).decode())
    """
)


def test_metrics_from_every_worker_process_add_up_in_one_scrape(replica: Replica) -> None:
    from prometheus_client import multiprocess

    env = {**os.environ, **replica.environ()}
    pids = []
    for worker, served in ((0, 3), (1, 4)):
        code = [sys.executable, "-c", WORKER, str(served)]
        proc = subprocess.Popen(code, cwd=REPO, env={**env, "GATEKIT_WORKER_INDEX": str(worker)})
        assert proc.wait(120) == 0
        pids.append(proc.pid)
        replica.write_status(worker, {"worker": worker, "version": f"v{worker}", "source": "file"})

    def scrape() -> set[str]:
        run = [sys.executable, "-c", SCRAPE]
        out = subprocess.run(run, cwd=REPO, env=env, check=True, capture_output=True, text=True, timeout=120)
        return set(out.stdout.splitlines())

    lines = scrape()
    assert 'gatekit_requests_total{worker="0"} 3.0' in lines
    assert 'gatekit_requests_total{worker="1"} 4.0' in lines
    assert "gatekit_shed_requests_total 2.0" in lines  # summed over the workers
    assert "gatekit_in_flight_requests 7.0" in lines  # summed over the (not yet reaped) workers
    assert 'gatekit_config_info{source="file",version="v0",worker="0"} 1.0' in lines
    assert 'gatekit_config_info{source="file",version="v1",worker="1"} 1.0' in lines
    for pid in pids:  # what the supervisor does when a worker exits
        multiprocess.mark_process_dead(pid, str(replica.metrics_dir))
    lines = scrape()
    assert "gatekit_in_flight_requests 0.0" in lines  # a dead worker's requests are not in flight
    assert 'gatekit_requests_total{worker="1"} 4.0' in lines  # counters keep what it served
