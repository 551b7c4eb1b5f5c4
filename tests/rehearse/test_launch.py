"""The shared launcher (gatekit.rehearse.launch) on real processes: a server it waits for, one that dies, one that
never answers."""

from __future__ import annotations

import sys

import httpx
import pytest

from gatekit.rehearse.launch import LaunchError, launched
from gatekit.rehearse.services import free_port


def test_yields_once_the_server_answers_and_stops_it_afterwards(tmp_path):
    port = free_port()
    cmd = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(tmp_path)]
    url = f"http://127.0.0.1:{port}/"
    with launched(cmd, url, what="http.server", timeout=120, log=tmp_path / "server.log") as proc:
        assert httpx.get(url, timeout=5).status_code == 200
        assert proc.poll() is None
    assert proc.returncode is not None  # stopped on leaving the block


def test_a_process_that_exits_fails_with_its_log(tmp_path):
    cmd = [sys.executable, "-c", "import sys; print('boom: no config'); sys.exit(3)"]
    with (
        pytest.raises(LaunchError, match=r"(?s)dying server exited with 3:.*boom: no config"),
        launched(cmd, f"http://127.0.0.1:{free_port()}/", what="dying server", timeout=120, log=tmp_path / "x.log"),
    ):
        pytest.fail("must not yield")


def test_a_process_that_never_answers_times_out(tmp_path):
    cmd = [sys.executable, "-c", "import time; time.sleep(600)"]
    with (
        pytest.raises(LaunchError, match="did not answer"),
        launched(cmd, f"http://127.0.0.1:{free_port()}/", what="silent", timeout=1, stop_timeout=10),
    ):
        pytest.fail("must not yield")
